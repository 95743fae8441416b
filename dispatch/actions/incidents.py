"""Actions on incidents: create, dispatch a unit, close."""

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital

from ..events import record_event
from ..models import Assignment, Incident, IncidentStatus, LocationSource, Outbox, Priority, User
from .base import ActionError, checked_text
from .fleet import claim_status


def next_incident_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('dispatch_incident', 'id'))")
        return cursor.fetchone()[0]


def incident_number(pk: int, when) -> str:
    """Human-readable number a dispatcher can say on the phone: date and a serial."""
    return f"{timezone.localtime(when):%Y%m%d}-{pk % 1_000_000:06d}"


def incident_summary(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "priority": incident.priority,
        "chief_complaint": incident.chief_complaint,
        "address": incident.address,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
        "created_at": incident.created_at.isoformat(),
    }


@transaction.atomic
def create_incident(
    *,
    actor: User | None,
    caller_number: str = "",
    location: Point | None = None,
    location_source: str = "",
    location_accuracy_m: float | None = None,
    address: str = "",
    priority: int | None = None,
    chief_complaint: str = "",
    notes: str = "",
    call_received_at=None,
    call_answered_at=None,
) -> Incident:
    if location is not None and location_source not in LocationSource.values:
        raise ActionError("Say where the location came from.", "bad_location_source")
    if priority is not None and priority not in Priority.values:
        raise ActionError(f"Priority must be 1 to 4, not {priority!r}.", "bad_priority")
    now = timezone.now()
    pk = next_incident_id()
    incident = Incident.objects.create(
        id=pk,
        number=incident_number(pk, now),
        caller_number=checked_text(caller_number, "caller number", 32),
        location=location,
        location_source=location_source if location else "",
        location_accuracy_m=location_accuracy_m,
        location_confirmed_at=now if location else None,
        address=checked_text(address, "address", 200),
        priority=priority,
        triaged_at=now if priority else None,
        chief_complaint=checked_text(chief_complaint, "chief complaint", 200),
        notes=checked_text(notes, "notes", 4000),
        created_by=actor if actor and actor.pk else None,
        created_at=now,
        call_received_at=call_received_at or now,
        call_answered_at=call_answered_at or now,
    )
    record_event("incident.created", actor=actor, incident=incident, data=incident_summary(incident))
    return incident


@transaction.atomic
def dispatch_unit(
    incident: Incident,
    unit: Unit,
    *,
    actor: User | None,
    hospital: Hospital | None = None,
    recommended_rank: int | None = None,
    eta_s: float | None = None,
    hospital_rank: int | None = None,
    override_reason: str = "",
) -> Assignment:
    """Send a unit: claim it with a conditional update so two dispatchers cannot both win."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != IncidentStatus.OPEN:
        raise ActionError(f"Incident {incident.number} is {incident.status}.", "incident_closed", 409)
    if recommended_rank not in (None, 1) and not override_reason.strip():
        raise ActionError("Say why you chose another unit than the first recommended.", "override_reason")
    unit.refresh_from_db(fields=["status"])
    if not unit.is_available or not claim_status(unit, unit.status, UnitStatus.DISPATCHED):
        raise ActionError(
            f"{unit.call_sign} is not available ({unit.get_status_display()}).", "unit_busy", 409
        )
    now = timezone.now()
    assignment = Assignment.objects.create(
        incident=incident,
        unit=unit,
        hospital=hospital,
        dispatched_by=actor if actor and actor.pk else None,
        recommended_rank=recommended_rank,
        eta_at_dispatch_s=eta_s,
        hospital_rank=hospital_rank,
        override_reason=checked_text(override_reason, "override reason", 200),
        dispatched_at=now,
    )
    if incident.dispatched_at is None:
        Incident.objects.filter(pk=incident.pk).update(dispatched_at=now)
        incident.dispatched_at = now
    # The crew alert goes through the outbox so it survives a crash (BRIEF decision 8).
    Outbox.objects.create(
        channel="crew_alert",
        recipient=unit.call_sign,
        incident=incident,
        payload={"assignment": assignment.pk, "unit": unit.pk, "incident": incident.number},
    )
    record_event(
        "assignment.created",
        actor=actor,
        incident=incident,
        unit=unit,
        hospital=hospital,
        data={
            "assignment": assignment.pk,
            "incident": incident_summary(incident),
            "unit": unit.call_sign,
            "hospital": hospital.pk if hospital else None,
            "eta_s": eta_s,
            "rank": recommended_rank,
        },
    )
    return assignment


@transaction.atomic
def close_incident(incident: Incident, *, actor: User | None, outcome: str) -> Incident:
    outcome = checked_text(outcome, "outcome", 40)
    if not outcome:
        raise ActionError("Give the outcome to close an incident.", "outcome_required")
    if incident.assignments.live().exists():
        raise ActionError("Clear or cancel every unit before closing.", "units_still_assigned", 409)
    won = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.CLOSED, outcome=outcome, closed_at=timezone.now()
    )
    if not won:
        raise ActionError(f"Incident {incident.number} is not open.", "incident_closed", 409)
    incident.refresh_from_db()
    record_event("incident.closed", actor=actor, incident=incident, data={"outcome": outcome})
    return incident
