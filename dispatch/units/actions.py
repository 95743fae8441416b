"""A unit's status: which status may follow which, the clocks each one stamps on the job, and
the conditional update that claims a status change (two dispatchers never both win)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Assignment, Incident, User
from fleet.models import Unit, UnitStatus

# Which status may follow which: the order a job goes in. A unit still on its way goes back to
# available only through cancel_assignment (which asks for a reason); from the scene it may
# clear without transport (treated on scene, refused, dead on arrival).
# Keyed by the status's value, as it comes from the database (a plain string finds the member's entry).
ALLOWED_NEXT: dict[str, set[UnitStatus]] = {
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
STATUS_CLOCKS: dict[str, str] = {
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


def stamp_clocks(assignment: Assignment, current: str, new: str, now: datetime) -> list[str]:
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
    if assignment and stamped and client_time:
        keep_client_times(assignment, stamped, client_time)
    record_event(
        EventKind.UNIT_STATUS,
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
