"""Calls for the console: live calls, what is known about a caller, taking a call, the
location link, the caller's positions and SMS. Control room only: a caller's number and
position are patient data."""

from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.calls import actions as call_actions
from dispatch.core.errors import json_error
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, DISPATCHERS, require_role
from dispatch.core.ratelimit import counter
from dispatch.core.signed_in import SignedInRequest
from dispatch.locate.reads import possible_duplicates
from dispatch.models import Call, CallerLocation, CallStatus, Incident

router = Router(tags=["calls"])

HISTORY_LIMIT = 10
NEARBY_M = 1000


class CallOut(Schema):
    id: int
    provider: str
    caller_number: str
    called_number: str
    status: str
    ringing_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    escalated_at: datetime | None
    answered_by: int | None
    answered_by_name: str
    recording_url: str
    incident: int | None
    incident_number: str


class PastIncidentOut(Schema):
    id: int
    number: str
    status: str
    created_at: datetime
    address: str
    chief_complaint: str
    priority: int | None
    distance_m: float | None = None


class LocationOut(Schema):
    id: int
    source: str
    call: int | None
    incident: int | None
    caller_number: str
    lon: float
    lat: float
    accuracy_m: float | None
    method: str
    measured_at: datetime | None
    received_at: datetime


class CallDetailOut(CallOut):
    history: list[PastIncidentOut] = Field(..., description="earlier incidents from this number")
    nearby: list[PastIncidentOut] = Field(..., description="open incidents near the caller's last position")
    locations: list[LocationOut]


def past(incident: Incident, distance_m: float | None = None) -> dict:
    fields = ("number", "status", "created_at", "address", "chief_complaint", "priority")
    return {"id": incident.pk, **{f: getattr(incident, f) for f in fields}, "distance_m": distance_m}


def history(call: Call) -> list[dict]:
    if not call.caller_number:
        return []
    rows = (
        Incident.objects.filter(caller_number__in=call_actions.number_variants(call.caller_number))
        .exclude(call=call)
        .order_by("-created_at")[:HISTORY_LIMIT]
    )
    return [past(i) for i in rows]


def nearby(call: Call, locations: list[CallerLocation]) -> list[dict]:
    if not locations:
        return []
    found = possible_duplicates(locations[0].point, "", radius_m=NEARBY_M, limit=HISTORY_LIMIT)
    return [past(d.incident, d.distance_m) for d in found if d.incident.call_id != call.pk]


def caller_locations(call: Call) -> list[CallerLocation]:
    return list(CallerLocation.objects.filter(call=call).order_by("-received_at")[:20])


def control_room_call(request: HttpRequest, call_id: int, *roles: str) -> Call:
    require_role(request, *(roles or CONTROL_ROOM))
    return get_object_or_404(Call.objects.select_related("answered_by"), pk=call_id)


@router.get(
    "/calls/live",
    response={200: list[CallOut], **errors(403)},
    summary="Calls ringing or being talked on, and those answered on a handset to take over",
)
def live_calls(request: SignedInRequest) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    live = Q(status__in=[CallStatus.RINGING, CallStatus.ANSWERED])
    calls = Call.objects.filter(live | call_actions.unowned_answer())
    return [call_actions.call_summary(c) for c in calls.select_related("answered_by").order_by("ringing_at")]


@router.get(
    "/calls/{call_id}",
    response={200: CallDetailOut, **errors(403)},
    summary="A call with the caller's history",
)
def call_detail(request: SignedInRequest, call_id: int) -> dict:
    call = control_room_call(request, call_id)
    locations = caller_locations(call)
    return {
        **call_actions.call_summary(call),
        "history": history(call),
        "nearby": nearby(call, locations),
        "locations": [call_actions.location_summary(loc) for loc in locations],
    }


@router.post(
    "/calls/{call_id}/take",
    response={200: CallOut, **errors(409)},
    summary="Take a ringing call, or take over one answered on a handset with nobody signed in "
    "(the first dispatcher wins; 409 for the others)",
)
def take(request: SignedInRequest, call_id: int) -> dict:
    call = control_room_call(request, call_id, *DISPATCHERS)
    call_actions.take_call(call, actor=request.user)
    return call_actions.call_summary(call)


class LinkOut(Schema):
    link: int
    phone: str
    expires_at: datetime


@router.post(
    "/calls/{call_id}/location-link",
    response={201: LinkOut, **errors(409)},
    summary="Text the caller a one-time link that sends the phone's position",
)
def location_link(request: SignedInRequest, call_id: int) -> Status:
    call = control_room_call(request, call_id, *DISPATCHERS)
    base = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")
    link, _url = call_actions.send_location_link(call, actor=request.user, base_url=base)
    return Status(201, {"link": link.pk, "phone": link.phone, "expires_at": link.expires_at})


@router.get(
    "/calls/{call_id}/locations",
    response={200: list[LocationOut], **errors(403)},
    summary="The caller's positions",
)
def locations(request: SignedInRequest, call_id: int) -> list[dict]:
    call = control_room_call(request, call_id)
    return [call_actions.location_summary(loc) for loc in caller_locations(call)]


class AdoptIn(Schema):
    incident: int


@router.post(
    "/caller-locations/{location_id}/adopt",
    response={200: LocationOut, **errors(409)},
    summary="Use the caller's position as the incident's location",
)
def adopt(request: SignedInRequest, location_id: int, payload: AdoptIn) -> dict:
    require_role(request, *DISPATCHERS)
    location = get_object_or_404(CallerLocation, pk=location_id)
    incident = get_object_or_404(Incident, pk=payload.incident)
    call_actions.adopt_caller_location(location, incident, actor=request.user)
    location.refresh_from_db()
    return call_actions.location_summary(location)


class SmsIn(Schema):
    to: str = Field(
        ...,
        min_length=3,
        max_length=32,
        description="E.164, e.g. +8613912345678: the incident's caller, or a crew member on shift",
    )
    body: str = Field(..., min_length=1, max_length=call_actions.SMS_MAX)
    incident: int | None = None


class SmsOut(Schema):
    outbox: int
    to: str


@router.post(
    "/sms",
    response={202: SmsOut, **errors(404, 429)},
    summary="Send an SMS to the incident's caller or a crew member on shift (via the outbox)",
    description="Any other number is refused (422, `recipient_not_allowed`). Each dispatcher may "
    "send RATE_LIMIT_SMS a minute (default 10); past that 429 with Retry-After.",
)
def send_sms(request: SignedInRequest, payload: SmsIn) -> Status | HttpResponse:
    require_role(request, *DISPATCHERS)
    limit = settings.RATE_LIMITS_PER_MINUTE.get("sms", 10)
    if wait := counter("sms").seconds_to_wait(f"user:{request.user.pk}", limit):
        return too_many_sms(limit, wait)
    incident = get_object_or_404(Incident, pk=payload.incident) if payload.incident else None
    row = call_actions.send_console_sms(payload.to, payload.body, actor=request.user, incident=incident)
    return Status(202, {"outbox": row.pk, "to": row.recipient})


def too_many_sms(limit: int, wait: int) -> HttpResponse:
    message = _("Too many SMS: at most %(limit)d a minute each. Try again in %(seconds)d seconds.") % {
        "limit": limit,
        "seconds": wait,
    }
    response = json_error(429, message, "rate_limited")
    response["Retry-After"] = str(wait)
    return response
