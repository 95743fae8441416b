"""Actions on stations, units and crew shifts."""

from datetime import datetime

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from dispatch.actions.base import ActionError, checked_text
from dispatch.events import record_event
from dispatch.models import Assignment, Incident, Role, User
from fleet.models import KIND_CAPABILITIES, CrewShift, Station, Unit, UnitKind, UnitStatus


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


# Which status may follow which: the order a job goes in. A unit still on its way goes back to
# available only through cancel_assignment (which asks for a reason); from the scene it may
# clear without transport (treated on scene, refused, dead on arrival).
ALLOWED_NEXT = {
    UnitStatus.AVAILABLE: {UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.DISPATCHED: {UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE},
    UnitStatus.ACKNOWLEDGED: {UnitStatus.EN_ROUTE},
    UnitStatus.EN_ROUTE: {UnitStatus.ON_SCENE},
    UnitStatus.ON_SCENE: {UnitStatus.PATIENT_CONTACT, UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.PATIENT_CONTACT: {UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.TRANSPORTING: {UnitStatus.AT_HOSPITAL},
    UnitStatus.AT_HOSPITAL: {UnitStatus.RETURNING, UnitStatus.AVAILABLE},
    UnitStatus.RETURNING: {UnitStatus.AVAILABLE, UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.OUT_OF_SERVICE: {UnitStatus.AVAILABLE},
}

# The clock each status starts, on the assignment and (first unit only) on the incident.
STATUS_CLOCKS = {
    UnitStatus.ACKNOWLEDGED: "acknowledged_at",
    UnitStatus.EN_ROUTE: "en_route_at",
    UnitStatus.ON_SCENE: "on_scene_at",
    UnitStatus.PATIENT_CONTACT: "patient_contact_at",
    UnitStatus.TRANSPORTING: "transport_started_at",
    UnitStatus.AT_HOSPITAL: "at_hospital_at",
}
FREE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RETURNING)


def claim_status(unit: Unit, expected: str, new: str) -> bool:
    """Conditional update: True when we moved the unit from `expected` to `new`."""
    now = timezone.now()
    won = Unit.objects.filter(pk=unit.pk, status=expected).update(status=new, status_changed_at=now)
    if won:
        unit.status, unit.status_changed_at = new, now
    return won == 1


def stamp_clocks(assignment: Assignment, current: str, new: str, now) -> list[str]:
    """Write the times this status change starts or ends; return the assignment fields set."""
    fields: dict[str, object] = {}
    if new in STATUS_CLOCKS:
        fields[STATUS_CLOCKS[new]] = now
    if new in FREE_STATUSES:
        if current == UnitStatus.AT_HOSPITAL:
            fields["handover_at"] = now
        fields["cleared_at"] = now
    unset = {name: value for name, value in fields.items() if getattr(assignment, name) is None}
    if unset:
        Assignment.objects.filter(pk=assignment.pk).update(**unset)
        for name, value in unset.items():
            setattr(assignment, name, value)
    incident_fields = {
        {"cleared_at": "unit_available_at"}.get(name, name): value for name, value in unset.items()
    }
    for name, value in incident_fields.items():
        first_time = {f"{name}__isnull": True}
        Incident.objects.filter(pk=assignment.incident_id, **first_time).update(**{name: value})
    return list(unset)


def keep_client_times(assignment: Assignment, clocks: list[str], client_time: datetime) -> None:
    """Beside each server clock just stamped, the tablet's own time for it. The unit's status
    claim serializes this with every other status change of the same assignment."""
    assignment.client_times = {**assignment.client_times, **dict.fromkeys(clocks, client_time.isoformat())}
    Assignment.objects.filter(pk=assignment.pk).update(client_times=assignment.client_times)


@transaction.atomic
def set_unit_status(
    unit: Unit, status: str, *, actor: User | None = None, client_time: datetime | None = None
) -> Unit:
    """Move a unit to the next status of its job (race-safe) and start that status's clock."""
    if status not in UnitStatus.values:
        raise ActionError(f"Unknown status {status!r}.", "bad_status")
    current = Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if status not in ALLOWED_NEXT[current]:
        raise ActionError(
            f"{unit.call_sign} cannot go from {UnitStatus(current).label} to {UnitStatus(status).label}.",
            "bad_transition",
            409,
        )
    if not claim_status(unit, current, status):
        raise ActionError(f"{unit.call_sign} changed status meanwhile; reload.", "conflict", 409)
    assignment = Assignment.objects.live().filter(unit=unit).select_related("incident", "hospital").first()
    now = unit.status_changed_at
    stamped = stamp_clocks(assignment, current, status, now) if assignment else []
    if stamped and client_time:
        keep_client_times(assignment, stamped, client_time)
    record_event(
        "unit.status",
        actor=actor,
        unit=unit,
        incident=assignment.incident if assignment else None,
        hospital=assignment.hospital if assignment else None,
        data={
            "from": current,
            "to": status,
            "call_sign": unit.call_sign,
            "assignment": assignment.pk if assignment else None,
            "clocks": stamped,
            "client_time": client_time.isoformat() if client_time else None,
        },
    )
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
