"""Incidents: create, list, search, read, locate, triage, details, link, close, reopen, the
timeline and the event log over HTTP; and the units sent to them: dispatch, stand down,
reassign, destination."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, Field

from dispatch.core.actions import ActionError, checked_point
from dispatch.core.events import serialize_event
from dispatch.core.fields import Latitude, Longitude
from dispatch.core.idempotency import run_once
from dispatch.core.openapi import errors
from dispatch.core.permissions import (
    CONTROL_ROOM,
    DISPATCHERS,
    require_role,
    staff_hospital_id,
    visible_events,
    visible_incidents,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.incidents import actions
from dispatch.incidents.reads import (
    assignment_out,
    fresh,
    incident_out_for,
    incidents_with_assignments,
    search_incidents,
)
from dispatch.incidents.schemas import AssignmentOut, HospitalIncidentOut, IncidentFoundOut, IncidentOut
from dispatch.models import Assignment, Incident, LocationSource, Place
from fleet.models import Unit
from hospitals.models import Hospital

router = Router(tags=["incidents"])


def dispatcher_incident(request: HttpRequest, incident_id: int) -> Incident:
    """The incident, for a user allowed to change it (403 otherwise, 404 if unknown)."""
    require_role(request, *DISPATCHERS)
    return get_object_or_404(Incident, pk=incident_id)


class IncidentIn(Schema):
    caller_number: str = Field("", max_length=32)
    lon: Longitude | None = None
    lat: Latitude | None = None
    location_source: LocationSource | None = None
    location_accuracy_m: float | None = Field(None, ge=0, le=100_000)
    address: str = Field("", max_length=200)
    priority: int | None = Field(None, ge=1, le=4)
    chief_complaint: str = Field("", max_length=200)
    notes: str = Field("", max_length=4000)


IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 8, "maxLength": 80},
    "description": "Send the same key again to get the first answer back; the incident is opened once.",
}


@router.post(
    "/incidents",
    response={201: IncidentOut},
    summary="Open a new incident",
    openapi_extra={"parameters": [IDEMPOTENCY_HEADER]},
)
def create_incident(request: SignedInRequest, payload: IncidentIn) -> Status | JsonResponse:
    """With an Idempotency-Key header the incident is opened once however often the request is
    sent (a retry after a lost answer or a database failover gets the first answer again, with
    `Idempotent-Replay: true`)."""
    require_role(request, *CONTROL_ROOM)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return Status(201, fresh(open_incident(request, payload)))

    def apply() -> tuple[int, dict]:
        body = IncidentOut.model_validate(fresh(open_incident(request, payload))).model_dump(mode="json")
        return 201, body

    outcome = run_once(request.user, key, "incident.create", payload.model_dump(mode="json"), apply)
    response = JsonResponse(outcome.body, status=outcome.status, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replay"] = "true" if outcome.replayed else "false"
    return response


def open_incident(request: SignedInRequest, payload: IncidentIn) -> Incident:
    location = None
    if (payload.lon is None) != (payload.lat is None):
        raise ActionError(_("Give both longitude and latitude, or neither."), "bad_coordinates")
    if payload.lon is not None and payload.lat is not None:
        location = checked_point(payload.lon, payload.lat)
    return actions.create_incident(
        actor=request.user,
        caller_number=payload.caller_number,
        location=location,
        location_source=payload.location_source or (LocationSource.PIN if location else ""),
        location_accuracy_m=payload.location_accuracy_m,
        address=payload.address,
        priority=payload.priority,
        chief_complaint=payload.chief_complaint,
        notes=payload.notes,
    )


# Hospital staff read incidents bound for their hospital in a reduced view (HospitalIncidentOut,
# marked `"view": "hospital"`); everyone else who may see an incident reads it whole.
READ_VIEWS = (
    "The control room and crews get the whole incident (IncidentOut). Hospital staff get only "
    "incidents a unit not stood down is bound to their hospital for, in a reduced view "
    '(HospitalIncidentOut, `"view": "hospital"`): no caller phone or name, no dispatcher notes, '
    "no access notes or flat number, no call, no other units."
)


@router.get(
    "/incidents",
    response=list[IncidentOut | HospitalIncidentOut],
    summary="Open incidents this user may see",
    description=READ_VIEWS,
)
def list_incidents(request: SignedInRequest) -> list[dict]:
    incidents = visible_incidents(request.user, incidents_with_assignments().open()).order_by("created_at")
    hospital_id = staff_hospital_id(request.user)
    return [incident_out_for(hospital_id, i) for i in incidents]


class IncidentSearchQuery(Schema):
    q: str = Field(
        "", max_length=60, description="part of the number, the caller's phone, the address or a name"
    )
    since: datetime | None = Field(None, description="created at or after (the centre's time if no zone)")
    until: datetime | None = Field(None, description="created before (the centre's time if no zone)")
    status: Literal["any", "open", "closed"] = "any"
    limit: int = Field(50, ge=1, le=200)


# The years a search may name: a 120 centre has no records from before 2000, and the extremes
# of Python's dates would overflow on the way to UTC.
SEARCH_YEARS = range(2000, 2100)


def search_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.year not in SEARCH_YEARS:
        raise ActionError(_("Search between the years 2000 and 2099."), "bad_time")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@router.get(
    "/incidents/search",
    response={200: list[IncidentFoundOut], **errors(403)},
    summary="Find any incident, open or closed, by number, phone, address, name or time",
)
def search(request: SignedInRequest, q: Query[IncidentSearchQuery]) -> list[dict]:
    require_role(request, *DISPATCHERS)
    since, until = search_time(q.since), search_time(q.until)
    if since and until and until <= since:
        raise ActionError(_("The end of the time range must be after its start."), "bad_range")
    return search_incidents(q.q, since=since, until=until, status=q.status, limit=q.limit)


@router.get(
    "/incidents/{incident_id}",
    response=IncidentOut | HospitalIncidentOut,
    summary="One incident",
    description=READ_VIEWS,
)
def get_incident(request: SignedInRequest, incident_id: int) -> dict:
    incident = get_object_or_404(
        visible_incidents(request.user, incidents_with_assignments()), pk=incident_id
    )
    return incident_out_for(staff_hospital_id(request.user), incident)


class LocateIn(Schema):
    lon: Longitude
    lat: Latitude
    source: LocationSource
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    address: str = Field("", max_length=200)
    place: int | None = None


@router.post(
    "/incidents/{incident_id}/locate",
    response={200: IncidentOut, **errors(409)},
    summary="Set or correct the location",
)
def locate(request: SignedInRequest, incident_id: int, payload: LocateIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    place = get_object_or_404(Place, pk=payload.place) if payload.place else None
    actions.locate_incident(
        incident,
        checked_point(payload.lon, payload.lat),
        actor=request.user,
        source=payload.source,
        accuracy_m=payload.accuracy_m,
        address=payload.address or (place.name if place else ""),
        place=place,
    )
    return fresh(incident)


class TriageIn(Schema):
    priority: int = Field(..., ge=1, le=4)
    chief_complaint: str = Field(..., min_length=1, max_length=200)
    capability: str = Field("", max_length=20)
    protocol: str = Field("", max_length=50)
    answers: list[int] = Field(default_factory=list, max_length=50)
    hospital_capability: str = Field("", max_length=20)
    instruction: str = Field("", max_length=50)


@router.post(
    "/incidents/{incident_id}/triage",
    response={200: IncidentOut, **errors(409)},
    summary="Record the triage result",
)
def triage(request: SignedInRequest, incident_id: int, payload: TriageIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    actions.triage_incident(
        incident,
        actor=request.user,
        priority=payload.priority,
        chief_complaint=payload.chief_complaint,
        capability=payload.capability,
        answers={
            "protocol": payload.protocol,
            "answers": payload.answers,
            "hospital_capability": payload.hospital_capability,
            "instruction": payload.instruction,
        },
    )
    return fresh(incident)


class DetailsIn(Schema):
    """Only the fields sent are changed; a text field sent empty is cleared. A field this does
    not know is refused (422), not dropped: a misspelt detail would be lost without a word."""

    model_config = ConfigDict(extra="forbid")

    caller_number: str | None = Field(None, max_length=32)
    caller_name: str | None = Field(None, max_length=60)
    patient_name: str | None = Field(None, max_length=60)
    patient_sex: str | None = Field(None, pattern="^(M|F|)$")
    patient_age: int | None = Field(None, ge=0, le=150)
    patient_count: int = Field(1, ge=1, le=150, description="at least 1; leave it out to keep it")
    address_building: str | None = Field(None, max_length=30, description="楼栋: building")
    address_unit: str | None = Field(None, max_length=30, description="单元: entrance")
    address_floor: str | None = Field(None, max_length=30, description="楼层: floor")
    address_room: str | None = Field(None, max_length=30, description="房号: room")
    access_notes: str | None = Field(None, max_length=500, description="how to get in: gate code, lift...")
    hazards: str | None = Field(None, max_length=500, description="what the crew must watch for")
    notes: str | None = Field(None, max_length=4000)


@router.post(
    "/incidents/{incident_id}/details",
    response={200: IncidentOut, **errors(409)},
    summary="Caller and patient details, address detail, access, hazards and notes",
)
def details(request: SignedInRequest, incident_id: int, payload: DetailsIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    actions.update_incident_details(incident, actor=request.user, **payload.dict(exclude_unset=True))
    return fresh(incident)


class LinkIn(Schema):
    to: int


@router.post(
    "/incidents/{incident_id}/link",
    response={200: IncidentOut, **errors(409)},
    summary="Close as a duplicate of another",
)
def link(request: SignedInRequest, incident_id: int, payload: LinkIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    target = get_object_or_404(Incident, pk=payload.to)
    actions.link_incident(incident, target, actor=request.user)
    return fresh(incident)


class CloseIn(Schema):
    outcome: str = Field(..., min_length=1, max_length=40)


@router.post(
    "/incidents/{incident_id}/close",
    response={200: IncidentOut, **errors(409)},
    summary="Close with an outcome",
)
def close(request: SignedInRequest, incident_id: int, payload: CloseIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    actions.close_incident(incident, actor=request.user, outcome=payload.outcome)
    return fresh(incident)


class ReopenIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/incidents/{incident_id}/reopen",
    response={200: IncidentOut, **errors(409)},
    summary="Open a closed incident again, with its history",
)
def reopen(request: SignedInRequest, incident_id: int, payload: ReopenIn) -> dict:
    incident = dispatcher_incident(request, incident_id)
    actions.reopen_incident(incident, actor=request.user, reason=payload.reason)
    return fresh(incident)


class EventOut(Schema):
    seq: int
    at: str
    kind: str
    actor: int | None
    incident: int | None
    unit: int | None
    hospital: int | None
    data: dict


@router.get(
    "/incidents/{incident_id}/timeline", response=list[EventOut], summary="Everything that happened, in order"
)
def timeline(request: SignedInRequest, incident_id: int) -> list[dict]:
    incident = get_object_or_404(visible_incidents(request.user), pk=incident_id)
    rows = visible_events(request.user).filter(incident=incident).order_by("seq")
    return [serialize_event(e) for e in rows]


class EventsQuery(Schema):
    after: int = Field(0, ge=0)
    limit: int = Field(500, ge=1, le=1000)


@router.get("/events", response=list[EventOut], summary="Events after a number (catch-up over HTTP)")
def events(request: SignedInRequest, q: Query[EventsQuery]) -> list[dict]:
    rows = visible_events(request.user).filter(seq__gt=q.after).order_by("seq")[: q.limit]
    return [serialize_event(e) for e in rows]


# --- units sent to an incident ---------------------------------------------------------------


def live_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    require_role(request, *DISPATCHERS)
    return get_object_or_404(Assignment.objects.select_related("incident", "unit"), pk=assignment_id)


def fresh_assignment(assignment: Assignment) -> dict:
    return assignment_out(Assignment.objects.select_related("unit", "hospital").get(pk=assignment.pk))


class DispatchIn(Schema):
    unit: int
    hospital: int | None = None
    recommended_rank: int | None = Field(None, ge=1, le=10_000)
    eta_s: float | None = Field(None, ge=0, le=86_400)
    hospital_rank: int | None = Field(None, ge=1, le=10_000)
    override_reason: str = Field("", max_length=200)


@router.post(
    "/incidents/{incident_id}/dispatch", response={201: AssignmentOut, **errors(409)}, summary="Send a unit"
)
def dispatch(request: SignedInRequest, incident_id: int, payload: DispatchIn) -> Status:
    incident = dispatcher_incident(request, incident_id)
    unit = get_object_or_404(Unit, pk=payload.unit)
    hospital = get_object_or_404(Hospital, pk=payload.hospital) if payload.hospital else None
    assignment = actions.dispatch_unit(
        incident,
        unit,
        actor=request.user,
        hospital=hospital,
        recommended_rank=payload.recommended_rank,
        eta_s=payload.eta_s,
        hospital_rank=payload.hospital_rank,
        override_reason=payload.override_reason,
    )
    return Status(201, fresh_assignment(assignment))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/assignments/{assignment_id}/cancel",
    response={200: AssignmentOut, **errors(409)},
    summary="Stand a unit down",
)
def cancel(request: SignedInRequest, assignment_id: int, payload: ReasonIn) -> dict:
    assignment = live_assignment(request, assignment_id)
    actions.cancel_assignment(assignment, actor=request.user, reason=payload.reason)
    return fresh_assignment(assignment)


class ReassignIn(Schema):
    unit: int
    reason: str = Field(..., min_length=1, max_length=200)
    recommended_rank: int | None = Field(None, ge=1, le=10_000)
    eta_s: float | None = Field(None, ge=0, le=86_400)


@router.post(
    "/assignments/{assignment_id}/reassign",
    response={201: AssignmentOut, **errors(409)},
    summary="Send another unit instead",
)
def reassign(request: SignedInRequest, assignment_id: int, payload: ReassignIn) -> Status:
    assignment = live_assignment(request, assignment_id)
    unit = get_object_or_404(Unit, pk=payload.unit)
    new = actions.reassign(
        assignment,
        unit,
        actor=request.user,
        reason=payload.reason,
        recommended_rank=payload.recommended_rank,
        eta_s=payload.eta_s,
    )
    return Status(201, fresh_assignment(new))


class AssignmentDestinationIn(Schema):
    hospital: int
    hospital_rank: int | None = Field(None, ge=1, le=10_000)


@router.post(
    "/assignments/{assignment_id}/destination",
    response={200: AssignmentOut, **errors(409)},
    summary="Choose the receiving hospital",
)
def destination(request: SignedInRequest, assignment_id: int, payload: AssignmentDestinationIn) -> dict:
    assignment = live_assignment(request, assignment_id)
    hospital = get_object_or_404(Hospital, pk=payload.hospital)
    actions.set_destination(assignment, hospital, actor=request.user, hospital_rank=payload.hospital_rank)
    return fresh_assignment(assignment)
