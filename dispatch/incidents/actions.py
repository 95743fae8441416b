"""Actions on incidents: create, locate, triage, change the details, dispatch a unit, stand it
down, redirect it, link a repeat call, close and reopen. Their refusals are in the user's language:
the console shows them as they come."""

from datetime import datetime

from django.contrib.gis.geos import Point
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_text, reachable_scene
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Assignment, Incident, IncidentStatus, LocationSource, Outbox, Priority, User
from dispatch.recommend.reads import recommend_units
from dispatch.units.actions import claim_status, refuse_unless_crewed
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital


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
        raise ActionError(_("Say where the location came from."), "bad_location_source")
    if location is not None:
        reachable_scene(location)
    if priority is not None and priority not in Priority.values:
        raise ActionError(bad_priority(priority), "bad_priority")
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
    record_event(EventKind.INCIDENT_CREATED, actor=actor, incident=incident, data=incident_summary(incident))
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
    refuse_unless_open(incident)
    if recommended_rank not in (None, 1) and not override_reason.strip():
        raise ActionError(_("Say why you chose another unit than the first recommended."), "override_reason")
    refuse_unless_crewed(unit)
    # Before the claim: once claimed the unit is no longer in the ranking.
    eta_s, top_pick_eta_s = override_etas(incident, unit, recommended_rank, eta_s)
    unit.refresh_from_db(fields=["status"])
    if not unit.is_available or not claim_status(unit, unit.status, UnitStatus.DISPATCHED):
        raise ActionError(
            _("%(unit)s is not available (%(status)s).")
            % {"unit": unit.call_sign, "status": unit.get_status_display()},
            "unit_busy",
            409,
        )
    now = timezone.now()
    assignment = Assignment.objects.create(
        incident=incident,
        unit=unit,
        hospital=hospital,
        dispatched_by=actor if actor and actor.pk else None,
        recommended_rank=recommended_rank,
        eta_at_dispatch_s=eta_s,
        top_pick_eta_s=top_pick_eta_s,
        hospital_rank=hospital_rank,
        override_reason=checked_text(override_reason, "override reason", 200),
        dispatched_at=now,
    )
    if incident.dispatched_at is None:
        Incident.objects.filter(pk=incident.pk).update(dispatched_at=now)
        incident.dispatched_at = now
    # The crew alert goes through the outbox so it survives a crash (decision 8, docs/decisions/).
    Outbox.objects.create(
        channel="crew_alert",
        recipient=unit.call_sign,
        incident=incident,
        payload={"assignment": assignment.pk, "unit": unit.pk, "incident": incident.number},
    )
    record_event(
        EventKind.ASSIGNMENT_CREATED,
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


# The most places the re-run ranking lists (the console's own list shows 10).
RANKING_LIMIT = 50


def override_etas(
    incident: Incident, unit: Unit, recommended_rank: int | None, eta_s: float | None
) -> tuple[float | None, float | None]:
    """(the chosen unit's ETA, the top pick's ETA) to record with a dispatch.

    The console sends the chosen unit's rank and ETA, not the first one's. The top pick is the
    server's, not the client's word: for an override (rank > 1) the action re-runs the ranking
    the console was shown (the incident's place, capability needed and priority) and takes both
    ETAs from that one road search, so their difference compares like with like and a client
    cannot make an override look cheap. Without a road answer (no network, unit not located)
    the top pick's ETA stays unknown and the chosen unit's is the one the console showed. The
    top pick itself (rank 1) is its own top pick."""
    if recommended_rank is None:
        return eta_s, None
    if recommended_rank == 1:
        return eta_s, eta_s
    if incident.location is None:
        return eta_s, None
    ranking = recommend_units(
        incident.location,
        incident.capability_needed,
        priority=incident.priority,
        limit=min(max(recommended_rank, 10), RANKING_LIMIT),
    )
    if not ranking.by_road or not ranking.units or ranking.units[0].eta_s is None:
        return eta_s, None
    chosen = next((u.eta_s for u in ranking.units if u.id == unit.pk and u.eta_s is not None), None)
    if chosen is None:
        return eta_s, None
    return chosen, ranking.units[0].eta_s


@transaction.atomic
def close_incident(incident: Incident, *, actor: User | None, outcome: str) -> Incident:
    outcome = checked_text(outcome, "outcome", 40)
    if not outcome:
        raise ActionError(_("Give the outcome to close an incident."), "outcome_required")
    if incident.assignments.live().exists():
        raise ActionError(_("Clear or cancel every unit before closing."), "units_still_assigned", 409)
    won = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.CLOSED, outcome=outcome, closed_at=timezone.now()
    )
    if not won:
        raise ActionError(not_open(incident), "incident_closed", 409)
    incident.refresh_from_db()
    record_event(EventKind.INCIDENT_CLOSED, actor=actor, incident=incident, data={"outcome": outcome})
    return incident


def refuse_unless_open(incident: Incident) -> None:
    if incident.status != IncidentStatus.OPEN:
        raise ActionError(not_open(incident), "incident_closed", 409)


def not_open(incident: Incident) -> str:
    return _("Incident %(number)s is %(status)s.") % {
        "number": incident.number,
        "status": IncidentStatus(incident.status).label,
    }


def bad_priority(priority: object) -> str:
    return _("Priority must be 1 to 4, not %(priority)s.") % {"priority": repr(priority)}


@transaction.atomic
def locate_incident(
    incident: Incident,
    location: Point,
    *,
    actor: User | None,
    source: str,
    accuracy_m: float | None = None,
    address: str = "",
    place=None,
) -> Incident:
    """Set or correct where the patient is; the first confirmation starts its clock."""
    if source not in LocationSource.values:
        raise ActionError(
            _("Unknown location source %(source)s.") % {"source": repr(source)}, "bad_location_source"
        )
    reachable_scene(location)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    refuse_unless_open(incident)
    incident.location = location
    incident.location_source = source
    incident.location_accuracy_m = accuracy_m
    incident.address = checked_text(address, "address", 200) or incident.address
    incident.place = place
    incident.location_confirmed_at = incident.location_confirmed_at or timezone.now()
    incident.save(
        update_fields=[
            "location",
            "location_source",
            "location_accuracy_m",
            "address",
            "place",
            "location_confirmed_at",
        ]
    )
    record_event(EventKind.INCIDENT_LOCATED, actor=actor, incident=incident, data=incident_summary(incident))
    return incident


@transaction.atomic
def triage_incident(
    incident: Incident,
    *,
    actor: User | None,
    priority: int,
    chief_complaint: str,
    capability: str = "",
    answers: dict | None = None,
) -> Incident:
    """Record the triage result; the first one starts the triage clock."""
    if priority not in Priority.values:
        raise ActionError(bad_priority(priority), "bad_priority")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    refuse_unless_open(incident)
    incident.priority = priority
    incident.chief_complaint = checked_text(chief_complaint, "chief complaint", 200)
    incident.capability_needed = checked_text(capability, "capability", 20)
    incident.triage_answers = answers or {}
    incident.triaged_at = incident.triaged_at or timezone.now()
    incident.save(
        update_fields=["priority", "chief_complaint", "capability_needed", "triage_answers", "triaged_at"]
    )
    record_event(EventKind.INCIDENT_TRIAGED, actor=actor, incident=incident, data=incident_summary(incident))
    return incident


# Details the dispatcher types at any time while the incident is open: the caller, the patient,
# where inside the address and how to get in, what the crew must watch for, free notes.
TEXT_FIELDS = (
    "caller_number",
    "caller_name",
    "patient_name",
    "patient_sex",
    "address_building",
    "address_unit",
    "address_floor",
    "address_room",
    "access_notes",
    "hazards",
    "notes",
)
# Whole-number details: (least, most, whether it may be cleared). The age may be unknown; there
# is always at least one patient.
NUMBER_FIELDS = {"patient_age": (0, 150, True), "patient_count": (1, 150, False)}


@transaction.atomic
def update_incident_details(incident: Incident, *, actor: User | None, **fields) -> Incident:
    """Caller and patient details, address detail, access, hazards and notes typed by the
    dispatcher. Only what changed is written; nothing changed, no event."""
    unknown = set(fields) - set(TEXT_FIELDS) - set(NUMBER_FIELDS)
    if unknown:
        raise ActionError(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}, "bad_field"
        )
    values = {name: checked_detail(name, value) for name, value in fields.items()}
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    refuse_unless_open(incident)
    changed = sorted(name for name, value in values.items() if getattr(incident, name) != value)
    if not changed:
        return incident
    for name in changed:
        setattr(incident, name, values[name])
    incident.save(update_fields=changed)
    record_event(EventKind.INCIDENT_UPDATED, actor=actor, incident=incident, data={"fields": changed})
    return incident


def checked_detail(name: str, value: object) -> object:
    field = Incident._meta.get_field(name)
    assert isinstance(field, models.Field)
    label = str(field.verbose_name)
    if name in NUMBER_FIELDS:
        least, most, clearable = NUMBER_FIELDS[name]
        if value is None and clearable:
            return None
        if isinstance(value, bool) or not (isinstance(value, int) and least <= value <= most):
            message = _("%(field)s must be a whole number from %(least)s to %(most)s.")
            raise ActionError(message % {"field": label, "least": least, "most": most}, "bad_number")
        return value
    if value is not None and not isinstance(value, str):
        raise ActionError(_("%(field)s must be text.") % {"field": label}, "bad_text")
    text = (value or "").strip()
    limit = field.max_length or 0
    if len(text) > limit:
        message = _("%(field)s is too long (%(length)s > %(limit)s characters).")
        raise ActionError(message % {"field": label, "length": len(text), "limit": limit}, "too_long")
    if name == "patient_sex" and text not in ("", "M", "F"):
        raise ActionError(_("Sex must be M, F or empty."), "bad_sex")
    return text


@transaction.atomic
def cancel_assignment(assignment: Assignment, *, actor: User | None, reason: str) -> Assignment:
    """Stand a unit down with a reason; it becomes available again."""
    reason = checked_reason(reason, _("Say why the unit is stood down."))
    now = timezone.now()
    won = Assignment.objects.live().filter(pk=assignment.pk).update(cancelled_at=now, cancel_reason=reason)
    if not won:
        raise ActionError(_("This assignment is already finished or cancelled."), "not_live", 409)
    assignment.refresh_from_db()
    unit = assignment.unit
    unit.refresh_from_db(fields=["status"])
    if unit.status not in (UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.OUT_OF_SERVICE):
        previous = unit.status
        if not claim_status(unit, previous, UnitStatus.AVAILABLE):
            raise ActionError(
                _("%(unit)s changed status meanwhile; reload.") % {"unit": unit.call_sign}, "conflict", 409
            )
    record_event(
        EventKind.ASSIGNMENT_CANCELLED,
        actor=actor,
        incident=assignment.incident,
        unit=unit,
        hospital=assignment.hospital,
        data={"assignment": assignment.pk, "unit": unit.call_sign, "reason": reason},
    )
    return assignment


@transaction.atomic
def reassign(
    assignment: Assignment,
    new_unit: Unit,
    *,
    actor: User | None,
    reason: str,
    recommended_rank: int | None = None,
    eta_s: float | None = None,
) -> Assignment:
    """Stand one unit down and send another, in one transaction (both or neither)."""
    refuse_unless_crewed(new_unit)
    cancel_assignment(assignment, actor=actor, reason=reason)
    return dispatch_unit(
        assignment.incident,
        new_unit,
        actor=actor,
        hospital=assignment.hospital,
        recommended_rank=recommended_rank,
        eta_s=eta_s,
        override_reason=reason if recommended_rank not in (None, 1) else "",
    )


@transaction.atomic
def set_destination(
    assignment: Assignment,
    hospital: Hospital,
    *,
    actor: User | None,
    hospital_rank: int | None = None,
    client_time: datetime | None = None,
) -> Assignment:
    """Choose or change the receiving hospital. The old hospital's board is told too.
    `client_time` is the crew tablet's clock when the crew chose it."""
    assignment = (
        Assignment.objects.select_for_update().select_related("incident", "unit").get(pk=assignment.pk)
    )
    if assignment.cancelled_at or assignment.cleared_at:
        raise ActionError(_("This assignment is already finished or cancelled."), "not_live", 409)
    old = assignment.hospital
    if old == hospital:
        return assignment
    assignment.hospital = hospital
    assignment.hospital_rank = hospital_rank
    assignment.save(update_fields=["hospital", "hospital_rank"])
    data = {
        "assignment": assignment.pk,
        "from": old.pk if old else None,
        "to": hospital.pk,
        "client_time": client_time.isoformat() if client_time else None,
    }
    if old is not None:
        record_event(
            EventKind.ASSIGNMENT_REDIRECTED,
            actor=actor,
            incident=assignment.incident,
            hospital=old,
            data=data,
        )
    record_event(
        EventKind.ASSIGNMENT_DESTINATION,
        actor=actor,
        incident=assignment.incident,
        unit=assignment.unit,
        hospital=hospital,
        data={**data, "incident": incident_summary(assignment.incident), "unit": assignment.unit.call_sign},
    )
    return assignment


@transaction.atomic
def link_incident(incident: Incident, to: Incident, *, actor: User | None) -> Incident:
    """Mark a call as a repeat of another incident and close it into that one. The repeat call
    shows on both timelines: linked away on its own, received on the one it repeats."""
    if incident.pk == to.pk:
        raise ActionError(_("An incident cannot be linked to itself."), "bad_link")
    if incident.assignments.live().exists():
        raise ActionError(_("Stand its units down before linking it."), "units_still_assigned", 409)
    won = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.CLOSED, linked_to=to, outcome="duplicate", closed_at=timezone.now()
    )
    if not won:
        raise ActionError(not_open(incident), "incident_closed", 409)
    incident.refresh_from_db()
    record_event(
        EventKind.INCIDENT_LINKED, actor=actor, incident=incident, data={"to": to.pk, "number": to.number}
    )
    record_event(
        EventKind.INCIDENT_REPEAT_CALL,
        actor=actor,
        incident=to,
        data={
            "from": incident.pk,
            "number": incident.number,
            "caller_number": incident.caller_number,
            "call_received_at": incident.call_received_at.isoformat() if incident.call_received_at else None,
        },
    )
    return incident


def checked_reason(reason: str, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(missing, "reason_required")
    if len(reason) > 200:
        message = _("The reason is too long (%(length)s > %(limit)s characters).")
        raise ActionError(message % {"length": len(reason), "limit": 200}, "too_long")
    return reason


@transaction.atomic
def reopen_incident(incident: Incident, *, actor: User | None, reason: str) -> Incident:
    """Open a closed incident again (a caller rings back, it was closed by mistake): the same
    record, its history kept; what it was closed as goes into the event."""
    reason = checked_reason(reason, _("Say why the incident is reopened."))
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == IncidentStatus.OPEN:
        message = _("Incident %(number)s is already open.") % {"number": incident.number}
        raise ActionError(message, "incident_open", 409)
    was = {
        "status": incident.status,
        "outcome": incident.outcome,
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "linked_to": incident.linked_to_id,
    }
    Incident.objects.filter(pk=incident.pk).update(
        status=IncidentStatus.OPEN, outcome="", closed_at=None, linked_to=None
    )
    incident.refresh_from_db()
    record_event(
        EventKind.INCIDENT_REOPENED,
        actor=actor,
        incident=incident,
        data={**incident_summary(incident), "reason": reason, "was": was},
    )
    return incident
