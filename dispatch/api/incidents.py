"""Incidents: create, list, read, dispatch a unit, close; and the event log over HTTP."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital

from .. import actions
from ..actions.base import checked_point
from ..events import serialize_event, visible_events
from ..models import Incident, LocationSource, Role
from .main import CONTROL_ROOM, require_role

router = Router(tags=["incidents"])

# Who may send units and change their status from the console.
DISPATCHERS = (Role.DISPATCHER, Role.SUPERVISOR)


class IncidentIn(Schema):
    caller_number: str = Field("", max_length=32)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    location_source: LocationSource | None = None
    location_accuracy_m: float | None = Field(None, ge=0, le=100_000)
    address: str = Field("", max_length=200)
    priority: int | None = Field(None, ge=1, le=4)
    chief_complaint: str = Field("", max_length=200)
    notes: str = Field("", max_length=4000)


class AssignmentOut(Schema):
    id: int
    unit: int
    unit_call_sign: str
    hospital: int | None
    dispatched_at: datetime
    recommended_rank: int | None
    eta_at_dispatch_s: float | None
    override_reason: str
    cancelled_at: datetime | None
    cleared_at: datetime | None


class IncidentOut(Schema):
    id: int
    number: str
    status: str
    caller_number: str
    lon: float | None
    lat: float | None
    location_source: str
    address: str
    priority: int | None
    chief_complaint: str
    created_at: datetime
    dispatched_at: datetime | None
    assignments: list[AssignmentOut]


def incident_out(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "caller_number": incident.caller_number,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
        "location_source": incident.location_source,
        "address": incident.address,
        "priority": incident.priority,
        "chief_complaint": incident.chief_complaint,
        "created_at": incident.created_at,
        "dispatched_at": incident.dispatched_at,
        "assignments": [
            {
                "id": a.pk,
                "unit": a.unit_id,
                "unit_call_sign": a.unit.call_sign,
                "hospital": a.hospital_id,
                "dispatched_at": a.dispatched_at,
                "recommended_rank": a.recommended_rank,
                "eta_at_dispatch_s": a.eta_at_dispatch_s,
                "override_reason": a.override_reason,
                "cancelled_at": a.cancelled_at,
                "cleared_at": a.cleared_at,
            }
            for a in incident.assignments.all()
        ],
    }


@router.post("/incidents", response={201: IncidentOut}, summary="Open a new incident")
def create_incident(request: HttpRequest, payload: IncidentIn) -> Status:
    require_role(request, *CONTROL_ROOM)
    location = None
    if (payload.lon is None) != (payload.lat is None):
        raise actions.ActionError("Give both longitude and latitude, or neither.", "bad_coordinates")
    if payload.lon is not None:
        location = checked_point(payload.lon, payload.lat)
    incident = actions.create_incident(
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
    return Status(201, incident_out(incident))


@router.get("/incidents", response=list[IncidentOut], summary="Open incidents this user may see")
def list_incidents(request: HttpRequest) -> list[dict]:
    incidents = (
        Incident.objects.open()
        .visible_to(request.user)
        .prefetch_related("assignments__unit")
        .order_by("created_at")
    )
    return [incident_out(i) for i in incidents]


@router.get("/incidents/{incident_id}", response=IncidentOut, summary="One incident")
def get_incident(request: HttpRequest, incident_id: int) -> dict:
    incident = get_object_or_404(Incident.objects.visible_to(request.user), pk=incident_id)
    return incident_out(incident)


class DispatchIn(Schema):
    unit: int
    hospital: int | None = None
    recommended_rank: int | None = Field(None, ge=1, le=10_000)
    eta_s: float | None = Field(None, ge=0, le=86_400)
    hospital_rank: int | None = Field(None, ge=1, le=10_000)
    override_reason: str = Field("", max_length=200)


@router.post("/incidents/{incident_id}/dispatch", response={201: AssignmentOut}, summary="Send a unit")
def dispatch(request: HttpRequest, incident_id: int, payload: DispatchIn) -> Status:
    require_role(request, *DISPATCHERS)
    incident = get_object_or_404(Incident, pk=incident_id)
    unit = get_object_or_404(Unit, pk=payload.unit)
    hospital = get_object_or_404(Hospital, pk=payload.hospital) if payload.hospital else None
    a = actions.dispatch_unit(
        incident,
        unit,
        actor=request.user,
        hospital=hospital,
        recommended_rank=payload.recommended_rank,
        eta_s=payload.eta_s,
        hospital_rank=payload.hospital_rank,
        override_reason=payload.override_reason,
    )
    return Status(
        201,
        {
            "id": a.pk,
            "unit": unit.pk,
            "unit_call_sign": unit.call_sign,
            "hospital": a.hospital_id,
            "dispatched_at": a.dispatched_at,
            "recommended_rank": a.recommended_rank,
            "eta_at_dispatch_s": a.eta_at_dispatch_s,
            "override_reason": a.override_reason,
            "cancelled_at": None,
            "cleared_at": None,
        },
    )


class CloseIn(Schema):
    outcome: str = Field(..., min_length=1, max_length=40)


@router.post("/incidents/{incident_id}/close", response=IncidentOut, summary="Close with an outcome")
def close(request: HttpRequest, incident_id: int, payload: CloseIn) -> dict:
    require_role(request, *DISPATCHERS)
    incident = get_object_or_404(Incident, pk=incident_id)
    return incident_out(actions.close_incident(incident, actor=request.user, outcome=payload.outcome))


class StatusIn(Schema):
    status: UnitStatus


@router.post("/units/{unit_id}/status", summary="Change a unit's status (control room)")
def unit_status(request: HttpRequest, unit_id: int, payload: StatusIn) -> dict:
    require_role(request, *DISPATCHERS)
    unit = get_object_or_404(Unit, pk=unit_id)
    actions.set_unit_status(unit, payload.status, actor=request.user)
    return {"id": unit.pk, "status": unit.status}


class EventOut(Schema):
    seq: int
    at: str
    kind: str
    actor: int | None
    incident: int | None
    unit: int | None
    hospital: int | None
    data: dict


class EventsQuery(Schema):
    after: int = Field(0, ge=0)
    limit: int = Field(500, ge=1, le=1000)


@router.get("/events", response=list[EventOut], summary="Events after a number (catch-up over HTTP)")
def events(request: HttpRequest, q: Query[EventsQuery]) -> list[dict]:
    rows = visible_events(request.user).filter(seq__gt=q.after).order_by("seq")[: q.limit]
    return [serialize_event(e) for e in rows]
