"""Actions on stations, units and crew shifts."""

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from fleet.models import KIND_CAPABILITIES, CrewShift, Station, Unit, UnitKind, UnitStatus

from ..events import record_event
from ..models import Role, User
from .base import ActionError, checked_text


@transaction.atomic
def create_station(
    code: str, name: str, location: Point, *, name_en: str = "", district: str = "", address: str = ""
) -> Station:
    station = Station.objects.create(
        code=checked_text(code, "code", 20),
        name=checked_text(name, "name", 120),
        name_en=name_en,
        district=district,
        address=address,
        location=location,
    )
    record_event("station.created", data={"id": station.pk, "name": station.name})
    return station


@transaction.atomic
def create_unit(
    call_sign: str,
    kind: str,
    *,
    home_station: Station | None = None,
    capabilities: list[str] | None = None,
    position: Point | None = None,
    plate: str = "",
    tracker_id: str | None = None,
) -> Unit:
    if kind not in UnitKind.values:
        raise ActionError(f"Unknown unit kind {kind!r}.", "bad_kind")
    now = timezone.now()
    position = position or (home_station.location if home_station else None)
    unit = Unit.objects.create(
        call_sign=checked_text(call_sign, "call sign", 20),
        kind=kind,
        capabilities=capabilities if capabilities is not None else list(KIND_CAPABILITIES[kind]),
        home_station=home_station,
        plate=plate,
        tracker_id=tracker_id,
        position=position,
        position_at=now if position else None,
    )
    record_event("unit.created", unit=unit, data={"call_sign": unit.call_sign, "kind": kind})
    return unit


# Which status may follow which: the order a job goes in (crews may skip patient contact
# and the hospital when there is no transport).
ALLOWED_NEXT = {
    UnitStatus.AVAILABLE: {UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.DISPATCHED: {UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.AVAILABLE},
    UnitStatus.ACKNOWLEDGED: {UnitStatus.EN_ROUTE, UnitStatus.AVAILABLE},
    UnitStatus.EN_ROUTE: {UnitStatus.ON_SCENE, UnitStatus.AVAILABLE},
    UnitStatus.ON_SCENE: {UnitStatus.PATIENT_CONTACT, UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.PATIENT_CONTACT: {UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.TRANSPORTING: {UnitStatus.AT_HOSPITAL},
    UnitStatus.AT_HOSPITAL: {UnitStatus.RETURNING, UnitStatus.AVAILABLE},
    UnitStatus.RETURNING: {UnitStatus.AVAILABLE, UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.OUT_OF_SERVICE: {UnitStatus.AVAILABLE},
}


def claim_status(unit: Unit, expected: str, new: str) -> bool:
    """Conditional update: True when we moved the unit from `expected` to `new`."""
    now = timezone.now()
    won = Unit.objects.filter(pk=unit.pk, status=expected).update(status=new, status_changed_at=now)
    if won:
        unit.status, unit.status_changed_at = new, now
    return won == 1


@transaction.atomic
def set_unit_status(
    unit: Unit, status: str, *, actor: User | None = None, expected: str | None = None
) -> Unit:
    """Move a unit to a new status if the job order allows it (race-safe)."""
    if status not in UnitStatus.values:
        raise ActionError(f"Unknown status {status!r}.", "bad_status")
    current = expected or Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if status not in ALLOWED_NEXT[current]:
        raise ActionError(
            f"{unit.call_sign} cannot go from {UnitStatus(current).label} to {UnitStatus(status).label}.",
            "bad_transition",
            409,
        )
    if not claim_status(unit, current, status):
        raise ActionError(f"{unit.call_sign} changed status meanwhile; reload.", "conflict", 409)
    record_event("unit.status", actor=actor, unit=unit, data={"from": current, "to": status})
    return unit


@transaction.atomic
def start_shift(user: User, unit: Unit, role: str = "doctor") -> CrewShift:
    if user.role != Role.CREW:
        raise ActionError("Only crew members can be bound to a unit.", "not_crew", 403)
    CrewShift.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())
    shift = CrewShift.objects.create(user=user, unit=unit, role=role)
    record_event("shift.started", actor=user, unit=unit, data={"user": user.username, "role": role})
    return shift


@transaction.atomic
def end_shift(user: User) -> int:
    shifts = list(CrewShift.objects.filter(user=user, ended_at__isnull=True).select_related("unit"))
    CrewShift.objects.filter(pk__in=[s.pk for s in shifts]).update(ended_at=timezone.now())
    for shift in shifts:
        record_event("shift.ended", actor=user, unit=shift.unit, data={"user": user.username})
    return len(shifts)
