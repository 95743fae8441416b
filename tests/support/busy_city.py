"""The demo city half-way through a shift, for the unit board and the map page: incidents of every
priority at the city's landmarks, units of the last stations sent and at every stage of their
jobs (so a board that lists stations in order has them at its bottom), one out of service.
Everything through the named actions, as a dispatcher and crews would."""

from dataclasses import dataclass, field

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Incident, Place, PlaceKind, User
from dispatch.units.actions import set_unit_status, take_out_of_service
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital

# Call sign, the status its job has reached, the priority of its incident.
JOBS = [
    ("明湾120-40", UnitStatus.DISPATCHED, 1),
    ("明湾120-39", UnitStatus.EN_ROUTE, 2),
    ("明湾120-36", UnitStatus.ON_SCENE, 1),
    ("明湾120-33", UnitStatus.TRANSPORTING, 3),
    ("明湾120-31", UnitStatus.AT_HOSPITAL, 4),
    ("明湾120-02", UnitStatus.EN_ROUTE, 2),
]
WAY = [
    UnitStatus.DISPATCHED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
]
OUT_OF_SERVICE = ("明湾120-28", "车辆故障：刹车 <b>&")


@dataclass
class BusyShift:
    busy: list[Unit] = field(default_factory=list)  # on a job, in JOBS order
    incidents: list[Incident] = field(default_factory=list)  # one per job, in JOBS order
    out: Unit | None = None
    hospital: Hospital | None = None

    @property
    def free(self) -> list[Unit]:
        taken = {u.pk for u in self.busy} | {self.out.pk if self.out else None}
        return list(Unit.objects.exclude(pk__in=taken).order_by("call_sign"))


def busy_shift(actor: User) -> BusyShift:
    """Six units on jobs at six landmarks (one incident each), one unit out of service."""
    shift = BusyShift()
    places = list(Place.objects.filter(kind=PlaceKind.LANDMARK).order_by("pk"))[::7][: len(JOBS)]
    shift.hospital = Hospital.objects.order_by("pk").first()
    for (call_sign, status, priority), place in zip(JOBS, places, strict=True):
        incident = create_incident(
            actor=actor,
            caller_number="+8613900139000",
            location=place.point,
            location_source="gazetteer",
            address=place.name,
            priority=priority,
            chief_complaint="胸痛",
        )
        unit = Unit.objects.get(call_sign=call_sign)
        dispatch_unit(incident, unit, actor=actor, hospital=shift.hospital)
        for step in WAY[1 : WAY.index(status) + 1]:
            set_unit_status(unit, step, actor=actor)
        shift.busy.append(Unit.objects.get(pk=unit.pk))
        shift.incidents.append(incident)
    call_sign, reason = OUT_OF_SERVICE
    shift.out = take_out_of_service(Unit.objects.get(call_sign=call_sign), reason, actor=actor)
    return shift
