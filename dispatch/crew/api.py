"""The crew tablet: shift, the current assignment, status taps, the patient record, the message
line, the destination, and the offline queue's batch sync; and the control room's side of the
message line.

Every tablet write carries an idempotency key (the Idempotency-Key header or an
`idempotency_key` field) and runs through dispatch.core.idempotency.run_once: sent twice, directly or
later in a POST /crew/sync batch, it is applied once and answered the same way each time (the
`Idempotent-Replay` header says which answer was a replay). Each write is one named operation
(dispatch.crew.writes.OPERATIONS) with the same request shape on both paths, so a key first sent directly and
then queued is still recognised.
"""

import logging

from django.db.models import QuerySet
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.idempotency import run_once
from dispatch.core.openapi import ErrorOut, errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.crew import actions, push
from dispatch.crew import reads as crew
from dispatch.crew.schemas import (
    CrewAssignmentOut,
    CrewDestinationIn,
    CrewMessageOut,
    CrewStatusIn,
    CurrentOut,
    DestinationResultOut,
    MessageIn,
    MessageOp,
    PatientIn,
    PatientOut,
    PickableUnitOut,
    RecordOut,
    ShiftStateOut,
    StatusResultOut,
    TabletWrite,
    UndoIn,
    VitalOut,
    VitalsIn,
    shaped,
)
from dispatch.crew.sync import SyncIn, SyncOut, sync_one
from dispatch.crew.writes import ERRORS, KEYED, Result, iso, reply, tablet_key, write
from dispatch.models import Message, Role
from dispatch.recommend.api import (
    RankedHospitalOut,
    WordsOut,
    checked_choice,
    hospital_recommendation,
    incident_hospital_capability,
)
from fleet.models import CrewRole, CrewShift, Unit
from hospitals.models import Capability

log = logging.getLogger(__name__)

router = Router(tags=["crew"])


# --- shift -----------------------------------------------------------------------------------


@router.get(
    "/crew/units",
    response={200: list[PickableUnitOut], **errors(403)},
    summary="Units a crew member may start a shift on",
)
def pickable_units(request: SignedInRequest) -> list[dict]:
    require_role(request, Role.CREW)
    crews: dict[int, list[str]] = {}
    for unit_id, username in CrewShift.objects.current().values_list("unit_id", "user__username"):
        crews.setdefault(unit_id, []).append(username)
    return [
        {
            "id": u.pk,
            "call_sign": u.call_sign,
            "kind": u.kind,
            "status": u.status,
            "home_station": u.home_station.name if u.home_station else None,
            "plate": u.plate,
            "crew": sorted(crews.get(u.pk, [])),
            "search": crew.unit_search_text(u),
        }
        for u in Unit.objects.select_related("home_station").order_by("call_sign")
    ]


@router.get(
    "/crew/shift",
    response={200: ShiftStateOut, **errors(403)},
    summary="The signed-in crew member's shift, if any",
)
def shift(request: SignedInRequest) -> dict:
    require_role(request, Role.CREW)
    return {"shift": crew.shift_out(crew.current_shift(request.user))}


class ShiftIn(TabletWrite):
    unit: int
    role: CrewRole = CrewRole.DOCTOR


@router.post(
    "/crew/shift",
    response={200: ShiftStateOut, **ERRORS},
    summary="Start a shift on a unit (ends any other)",
    openapi_extra=KEYED,
)
def start_shift(request: SignedInRequest, payload: ShiftIn) -> JsonResponse:
    require_role(request, Role.CREW)
    user = request.user

    def apply() -> Result:
        unit = Unit.objects.filter(pk=payload.unit).first()
        if unit is None:
            raise ActionError(_("Unit %(id)s not found.") % {"id": payload.unit}, "not_found", 404)
        started = actions.start_shift(user, unit, payload.role)
        return 200, shaped(ShiftStateOut, {"shift": crew.shift_out(started)})

    request_data = {"unit": payload.unit, "role": payload.role.value, "client_time": iso(payload.client_time)}
    return reply(run_once(user, tablet_key(request, payload), "shift.start", request_data, apply))


@router.post(
    "/crew/shift/end", response={200: ShiftStateOut, **ERRORS}, summary="End the shift", openapi_extra=KEYED
)
def end_shift(request: SignedInRequest, payload: TabletWrite | None = None) -> JsonResponse:
    require_role(request, Role.CREW)
    user = request.user
    payload = payload or TabletWrite()

    def apply() -> Result:
        actions.end_shift(user)
        return 200, {"shift": None}

    request_data = {"client_time": iso(payload.client_time)}
    return reply(run_once(user, tablet_key(request, payload), "shift.end", request_data, apply))


# --- the assignment --------------------------------------------------------------------------


@router.get(
    "/crew/assignment",
    response={200: CurrentOut, **errors(403)},
    summary="My shift and my unit's current assignment (null when there is none)",
)
def current(request: SignedInRequest) -> dict:
    require_role(request, Role.CREW)
    shift = crew.current_shift(request.user)
    live = crew.live_assignment(shift.unit) if shift else None
    return {"shift": crew.shift_out(shift), "assignment": crew.assignment_out(live) if live else None}


@router.get(
    "/crew/assignments/{assignment_id}",
    response={200: CrewAssignmentOut, 404: ErrorOut, **errors(403)},
    summary="One of my unit's assignments this shift",
)
def assignment(request: SignedInRequest, assignment_id: int) -> dict:
    require_role(request, Role.CREW)
    return crew.assignment_out(crew.crew_assignment(request.user, assignment_id))


@router.post(
    "/crew/assignments/{assignment_id}/acknowledge",
    response={200: StatusResultOut, **ERRORS},
    summary="Acknowledge the assignment (status acknowledged; its time is recorded)",
    openapi_extra=KEYED,
)
def acknowledge_job(
    request: SignedInRequest, assignment_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return write(request, "acknowledge", payload, assignment=assignment_id)


@router.post(
    "/crew/status",
    response={200: StatusResultOut, **ERRORS},
    summary="One-tap status change, in job order (409 when out of order; nothing changes)",
    openapi_extra=KEYED,
)
def status(request: SignedInRequest, payload: CrewStatusIn) -> JsonResponse:
    return write(request, "status", payload)


@router.post(
    "/crew/status/undo",
    response={200: StatusResultOut, 403: ErrorOut, **ERRORS},
    summary="Undo my unit's last status tap, back to the status before it, within UNDO_STATUS_SECONDS "
    "(409 later or when it was not the last change; 403 for another unit)",
    openapi_extra=KEYED,
)
def undo_status(request: SignedInRequest, payload: UndoIn) -> JsonResponse:
    return write(request, "status_undo", payload)


# --- the patient record ----------------------------------------------------------------------


@router.get(
    "/crew/assignments/{assignment_id}/patient",
    response={200: RecordOut, 404: ErrorOut, **errors(403)},
    summary="The patient record and vital signs of my assignment",
)
def patient(request: SignedInRequest, assignment_id: int) -> dict:
    require_role(request, Role.CREW)
    return crew.record_out(crew.crew_assignment(request.user, assignment_id))


@router.post(
    "/crew/assignments/{assignment_id}/patient",
    response={200: PatientOut, **ERRORS},
    summary="Set patient record fields (only those sent change)",
    openapi_extra=KEYED,
)
def update_patient(request: SignedInRequest, assignment_id: int, payload: PatientIn) -> JsonResponse:
    return write(request, "patient", payload, assignment=assignment_id)


@router.post(
    "/crew/assignments/{assignment_id}/vitals",
    response={201: VitalOut, **ERRORS},
    summary="Record one set of vital signs",
    openapi_extra=KEYED,
)
def record_vitals(request: SignedInRequest, assignment_id: int, payload: VitalsIn) -> JsonResponse:
    return write(request, "vitals", payload, assignment=assignment_id)


# --- the destination -------------------------------------------------------------------------


@router.post(
    "/crew/assignments/{assignment_id}/destination",
    response={200: DestinationResultOut, **ERRORS},
    summary="Confirm or change the receiving hospital",
    openapi_extra=KEYED,
)
def crew_destination(
    request: SignedInRequest, assignment_id: int, payload: CrewDestinationIn
) -> JsonResponse:
    return write(request, "destination", payload, assignment=assignment_id)


class CrewRecommendationOut(Schema):
    assignment: int
    incident: int
    lon: float
    lat: float
    hospital_capability: str | None
    diversion_category: str | None
    hospitals: list[RankedHospitalOut]
    hospital_shortfall: WordsOut | None


class HospitalNeeds(Schema):
    hospital_capability: str | None = Field(None, max_length=20, description="override triage's, e.g. stroke")


@router.get(
    "/crew/assignments/{assignment_id}/recommendation",
    response={200: CrewRecommendationOut, **ERRORS, **errors(403)},
    summary="Hospitals for my patient, ranked by road time from the scene, with reasons",
)
def recommendation(request: SignedInRequest, assignment_id: int, needs: Query[HospitalNeeds]) -> dict:
    require_role(request, Role.CREW)
    assignment = crew.crew_assignment(request.user, assignment_id)
    incident = assignment.incident
    capability = checked_choice(needs.hospital_capability, Capability.values, "hospital capability")
    if capability is None:
        capability = incident_hospital_capability(incident)
    if incident.location is None:
        raise ActionError(_("The incident has no location yet: ask the control room."), "no_location", 409)
    answer = hospital_recommendation(incident.location, capability)
    point = {"lon": incident.location.x, "lat": incident.location.y}
    return {**answer, **point, "assignment": assignment.pk, "incident": incident.pk}


# --- the message line ------------------------------------------------------------------------


class MessagesQuery(Schema):
    after: int = Field(0, ge=0, description="only messages with a greater id")
    limit: int = Field(100, ge=1, le=500, description="the latest this many")


def latest(messages: QuerySet[Message], q: MessagesQuery) -> list[dict]:
    rows = list(messages.filter(pk__gt=q.after).select_related("sender", "unit").order_by("-pk")[: q.limit])
    return [crew.message_out(m) for m in reversed(rows)]


@router.get(
    "/crew/messages",
    response={200: list[CrewMessageOut], **errors(403)},
    summary="My unit's messages, oldest first",
)
def crew_messages(request: SignedInRequest, q: Query[MessagesQuery]) -> list[dict]:
    require_role(request, Role.CREW)
    return latest(Message.objects.for_crew(request.user), q)


@router.post(
    "/crew/messages",
    response={201: CrewMessageOut, **ERRORS},
    summary="Send a message to the control room",
    openapi_extra=KEYED,
)
def send_crew_message(request: SignedInRequest, payload: MessageIn) -> JsonResponse:
    return write(request, "message", payload)


@router.post(
    "/crew/messages/{message_id}/read",
    response={200: CrewMessageOut, **ERRORS},
    summary="Mark a message from the control room read",
    openapi_extra=KEYED,
)
def read_crew_message(
    request: SignedInRequest, message_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return write(request, "message_read", payload, message=message_id)


@router.get(
    "/units/{unit_id}/messages",
    response={200: list[CrewMessageOut], **errors(403)},
    summary="A unit's message line (control room)",
    tags=["messages"],
)
def unit_messages(request: SignedInRequest, unit_id: int, q: Query[MessagesQuery]) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    unit = get_object_or_404(Unit, pk=unit_id)
    return latest(Message.objects.filter(unit=unit), q)


class ControlMessageIn(MessageOp):
    idempotency_key: str | None = Field(None, max_length=80, description="optional: makes a resend safe")


@router.post(
    "/units/{unit_id}/messages",
    response={201: CrewMessageOut, **ERRORS},
    summary="Send a message to a unit's crew (control room)",
    tags=["messages"],
)
def send_to_crew(request: SignedInRequest, unit_id: int, payload: ControlMessageIn) -> JsonResponse | Status:
    require_role(request, *CONTROL_ROOM)
    unit = get_object_or_404(Unit, pk=unit_id)

    def apply() -> Result:
        message = actions.send_message(unit, payload.text, actor=request.user)
        return 201, shaped(CrewMessageOut, crew.message_out(message))

    key = tablet_key(request, payload)
    if not key:  # a console may resend safely with a key, but need not
        return Status(*apply())
    return reply(
        run_once(request.user, key, "message.to_crew", {"unit": unit.pk, "text": payload.text}, apply)
    )


@router.post(
    "/messages/{message_id}/read",
    response={200: CrewMessageOut, **ERRORS},
    summary="Mark a message from a crew read (control room)",
    tags=["messages"],
)
def read_message(request: SignedInRequest, message_id: int) -> dict:
    require_role(request, *CONTROL_ROOM)
    message = get_object_or_404(Message.objects.select_related("sender"), pk=message_id)
    return crew.message_out(actions.mark_read(message, actor=request.user))


# --- the offline queue -----------------------------------------------------------------------


@router.post(
    "/crew/sync",
    response={200: SyncOut, 422: ErrorOut},
    summary="Apply the tablet's offline queue in order, each operation once",
)
def sync(request: SignedInRequest, payload: SyncIn) -> dict:
    """Each operation is its own transaction: one refused in the middle keeps those before it
    and does not stop those after it. Sending the same batch again applies nothing twice."""
    require_role(request, Role.CREW)
    return {"results": [sync_one(request.user, op) for op in payload.operations]}


# --- alerts on the tablet (Web Push, dispatch/crew/push.py) ----------------------------------


class PushKeyOut(Schema):
    enabled: bool = Field(description="false: the centre has no VAPID key; alerts come by SMS")
    public_key: str = Field(description="the VAPID public key (applicationServerKey), base64url")


@router.get(
    "/crew/push/key",
    response={200: PushKeyOut, **errors(403)},
    summary="The key a tablet subscribes to crew alerts with",
)
def push_key(request: SignedInRequest) -> dict:
    require_role(request, Role.CREW)
    return {"enabled": push.configured(), "public_key": push.public_key()}


class PushKeysIn(Schema):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=50)


class PushSubscriptionIn(Schema):
    endpoint: str = Field(min_length=1, max_length=1000, description="the push service's https address")
    keys: PushKeysIn
    expirationTime: int | None = Field(None, description="as PushSubscription.toJSON() gives it; unused")  # noqa: N815
    unit: int | None = Field(None, description="the unit the tablet shows; must be my shift's")


class PushSubscriptionOut(Schema):
    id: int
    unit: int
    call_sign: str


@router.post(
    "/crew/push/subscriptions",
    response={200: PushSubscriptionOut, **errors(403, 409)},
    summary="Subscribe this tablet to my unit's crew alerts (again after every reload)",
)
def push_subscribe(request: SignedInRequest, payload: PushSubscriptionIn) -> dict:
    require_role(request, Role.CREW)
    unit = crew.crew_unit(request.user)
    if payload.unit is not None and payload.unit != unit.pk:
        raise ActionError(_("You can subscribe only to your own unit's alerts."), "not_your_unit", 403)
    subscription = push.subscribe(
        request.user,
        unit,
        payload.endpoint,
        payload.keys.p256dh,
        payload.keys.auth,
        language=getattr(request, "LANGUAGE_CODE", ""),
    )
    return {"id": subscription.pk, "unit": unit.pk, "call_sign": unit.call_sign}


class PushEndpointIn(Schema):
    endpoint: str = Field(min_length=1, max_length=1000)


class PushUnsubscribedOut(Schema):
    deleted: int


@router.post(
    "/crew/push/unsubscribe",
    response={200: PushUnsubscribedOut, **errors(403)},
    summary="Stop crew alerts on this tablet",
)
def push_unsubscribe(request: SignedInRequest, payload: PushEndpointIn) -> dict:
    require_role(request, Role.CREW)
    return {"deleted": push.unsubscribe(request.user, payload.endpoint)}
