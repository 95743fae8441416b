"""The crew tablet: shift, the current assignment, status taps, the patient record, the message
line, the destination, and the offline queue's batch sync; and the control room's side of the
message line.

Every tablet write carries an idempotency key (the Idempotency-Key header or an
`idempotency_key` field) and runs through dispatch.core.idempotency.run_once: sent twice, directly or
later in a POST /crew/sync batch, it is applied once and answered the same way each time (the
`Idempotent-Replay` header says which answer was a replay). Each write is one named operation
(OPERATIONS below) with the same request shape on both paths, so a key first sent directly and
then queued is still recognised.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NoReturn

import pydantic
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.idempotency import Outcome, error_body, run_once
from dispatch.core.inputs import NUL, nul_message, nul_path
from dispatch.core.openapi import ErrorOut, errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.crew import actions
from dispatch.crew import reads as crew
from dispatch.incidents.actions import set_destination
from dispatch.models import Assignment, Message, Role, User
from dispatch.recommend.api import (
    RankedHospitalOut,
    WordsOut,
    checked_choice,
    hospital_recommendation,
    incident_hospital_capability,
)
from dispatch.units.actions import STATUS_CLOCKS, set_unit_status
from fleet.models import CrewRole, CrewShift, Unit, UnitStatus
from hospitals.models import Capability, Hospital

log = logging.getLogger(__name__)

router = Router(tags=["crew"])

TABLET_FIELDS = {"idempotency_key", "client_time"}
MAX_BATCH = 200


# --- what the tablet reads -------------------------------------------------------------------


class NextStatusOut(Schema):
    status: str
    label: str


class CrewUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    status_label: str
    status_changed_at: datetime
    next_statuses: list[NextStatusOut] = Field(description="what the crew may tap next, in job order")


class ShiftOut(Schema):
    id: int
    unit: CrewUnitOut
    role: str
    started_at: datetime


class ShiftStateOut(Schema):
    shift: ShiftOut | None


class PickableUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    home_station: str | None
    crew: list[str] = Field(description="who is on shift with it now")


class TriageStepOut(Schema):
    question: str
    question_en: str
    answer: str
    answer_en: str


class TriageSummaryOut(Schema):
    protocol: str | None
    protocol_name: str | None
    protocol_name_en: str | None
    hospital_capability: str | None
    instruction: str | None
    path: list[TriageStepOut] = Field(description="the questions asked and the answers given")


class CrewIncidentOut(Schema):
    id: int
    number: str
    status: str
    address: str
    lon: float | None
    lat: float | None
    location_accuracy_m: float | None
    caller_number: str = Field(description="the callback number")
    caller_name: str
    priority: int | None
    chief_complaint: str
    capability_needed: str
    patient_name: str
    patient_sex: str
    patient_age: int | None
    patient_count: int
    notes: str
    triage: TriageSummaryOut


class DestinationOut(Schema):
    id: int
    name: str
    short_name: str
    address: str
    phone: str
    lon: float
    lat: float


class DrugOut(Schema):
    name: str
    dose: str
    route: str
    given_at: datetime | None


class PatientOut(Schema):
    id: int
    assignment: int
    name: str
    sex: str
    age: int | None
    chief_complaint: str
    findings: str
    interventions: str
    drugs: list[DrugOut]
    updated_at: datetime
    client_time: datetime | None


class VitalOut(Schema):
    id: int
    assignment: int
    taken_at: datetime
    recorded_at: datetime
    client_time: datetime | None
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    spo2: int | None
    respiratory_rate: int | None
    temperature_c: float | None
    gcs: int | None
    glucose_mmol: float | None


class CrewMessageOut(Schema):
    id: int
    unit: int
    assignment: int | None
    incident: int | None
    direction: str = Field(description="to_crew or to_control")
    sender: str
    text: str
    sent_at: datetime
    client_time: datetime | None
    read_at: datetime | None


class RecordOut(Schema):
    assignment: int
    patient: PatientOut | None
    vitals: list[VitalOut]


class CrewNoticeOut(Schema):
    """The pre-arrival notice (dispatch.handoff.api sends it)."""

    id: int
    assignment: int
    hospital: int
    revision: int
    sent_at: datetime
    acknowledged_at: datetime | None = Field(description="when the receiving ER acknowledged it")
    acknowledged_by: str | None


class CrewAssignmentOut(RecordOut):
    id: int
    live: bool
    unit: CrewUnitOut
    incident: CrewIncidentOut
    destination: DestinationOut | None
    clocks: dict[str, datetime | None] = Field(description="server times of the job")
    client_times: dict[str, str] = Field(description="the tablet's own time for each clock it tapped")
    cancel_reason: str
    messages: list[CrewMessageOut]
    notice: CrewNoticeOut | None = None


class CurrentOut(Schema):
    shift: ShiftOut | None
    assignment: CrewAssignmentOut | None


class StatusResultOut(Schema):
    unit: CrewUnitOut
    assignment: int | None
    changed_at: datetime
    client_time: datetime | None


class DestinationResultOut(Schema):
    assignment: int
    destination: DestinationOut | None


def shaped(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """The body as its documented schema serializes it: stored answers replay byte for byte."""
    return schema.model_validate(data).model_dump(mode="json")


# --- what the tablet writes: one operation per kind ------------------------------------------


class TabletWrite(Schema):
    idempotency_key: str | None = Field(None, max_length=80, description="or the Idempotency-Key header")
    client_time: datetime | None = Field(None, description="the tablet's clock when the crew acted")


class StatusOp(Schema):
    status: UnitStatus
    assignment: int | None = Field(None, description="the job this tap belongs to; required during a job")


class CrewStatusIn(StatusOp, TabletWrite):
    pass


class AssignmentOp(Schema):
    assignment: int


class DrugIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    dose: str = Field("", max_length=30)
    route: str = Field("", max_length=20)
    given_at: datetime | None = None


class PatientFields(Schema):
    name: str | None = Field(None, max_length=60)
    sex: Literal["M", "F", ""] | None = None
    age: int | None = Field(None, ge=0, le=150)
    chief_complaint: str | None = Field(None, max_length=200)
    findings: str | None = Field(None, max_length=4000)
    interventions: str | None = Field(None, max_length=2000)
    drugs: list[DrugIn] | None = Field(None, max_length=30, description="replaces the whole list")


class PatientOp(PatientFields, AssignmentOp):
    pass


class PatientIn(PatientFields, TabletWrite):
    pass


class VitalsFields(Schema):
    """Range checks are the action's, so a wrong reading gets a message a crew understands."""

    taken_at: datetime | None = Field(None, description="defaults to client_time, then the server's")
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    temperature_c: float | None = None
    gcs: int | None = None
    glucose_mmol: float | None = None


class VitalsOp(VitalsFields, AssignmentOp):
    pass


class VitalsIn(VitalsFields, TabletWrite):
    pass


class DestinationFields(Schema):
    hospital: int
    hospital_rank: int | None = Field(None, ge=1, le=10_000)


class DestinationOp(DestinationFields, AssignmentOp):
    pass


class CrewDestinationIn(DestinationFields, TabletWrite):
    pass


class MessageOp(Schema):
    text: str = Field(..., min_length=1, max_length=500)


class MessageIn(MessageOp, TabletWrite):
    pass


class ReadOp(Schema):
    message: int


Result = tuple[int, dict[str, Any]]


def apply_status(user: User, op: StatusOp, client_time: datetime | None) -> Result:
    return change_status(user, op.status, op.assignment, client_time)


def apply_acknowledge(user: User, op: AssignmentOp, client_time: datetime | None) -> Result:
    return change_status(user, UnitStatus.ACKNOWLEDGED, op.assignment, client_time)


def change_status(user: User, status: str, assignment_id: int | None, client_time: datetime | None) -> Result:
    unit = crew.crew_unit(user)
    assignment = checked_job(user, unit, status, assignment_id)
    crew.refuse_unless_next(unit, status)
    set_unit_status(unit, status, actor=user, client_time=client_time)
    body = {
        "unit": crew.unit_out(unit),
        "assignment": assignment.pk if assignment else None,
        "changed_at": unit.status_changed_at,
        "client_time": client_time,
    }
    return 200, shaped(StatusResultOut, body)


def checked_job(user: User, unit: Unit, status: str, assignment_id: int | None) -> Assignment | None:
    """The job a status tap names must be the unit's current one: a tap queued offline for a job
    since cancelled must not move the unit on its next job."""
    live = crew.live_assignment(unit)
    if assignment_id is None:
        if live is not None and status in STATUS_CLOCKS:
            raise ActionError(_("Say which assignment this status is for."), "assignment_required", 422)
        return live
    assignment = crew.crew_assignment(user, assignment_id)
    crew.refuse_unless_live(assignment, unit)
    return assignment


def apply_patient(user: User, op: PatientOp, client_time: datetime | None) -> Result:
    assignment = crew.crew_assignment(user, op.assignment)
    fields = op.model_dump(exclude={"assignment"}, exclude_unset=True)
    record = actions.update_patient_record(assignment, actor=user, client_time=client_time, **fields)
    return 200, shaped(PatientOut, crew.patient_out(record))


def apply_vitals(user: User, op: VitalsOp, client_time: datetime | None) -> Result:
    assignment = crew.crew_assignment(user, op.assignment)
    readings = op.model_dump(exclude={"assignment", "taken_at"})
    vitals = actions.record_vitals(
        assignment, actor=user, taken_at=op.taken_at, client_time=client_time, **readings
    )
    return 201, shaped(VitalOut, crew.vital_out(vitals))


def apply_destination(user: User, op: DestinationOp, client_time: datetime | None) -> Result:
    assignment = crew.crew_assignment(user, op.assignment)
    hospital = Hospital.objects.filter(pk=op.hospital).first()
    if hospital is None:
        raise ActionError(_("Hospital %(id)s not found.") % {"id": op.hospital}, "not_found", 404)
    assignment = set_destination(
        assignment, hospital, actor=user, hospital_rank=op.hospital_rank, client_time=client_time
    )
    body = {"assignment": assignment.pk, "destination": crew.hospital_out(assignment)}
    return 200, shaped(DestinationResultOut, body)


def apply_message(user: User, op: MessageOp, client_time: datetime | None) -> Result:
    message = actions.send_message(crew.crew_unit(user), op.text, actor=user, client_time=client_time)
    return 201, shaped(CrewMessageOut, crew.message_out(message))


def apply_read(user: User, op: ReadOp, client_time: datetime | None) -> Result:
    message = actions.mark_read(crew.crew_message(user, op.message), actor=user, client_time=client_time)
    return 200, shaped(CrewMessageOut, crew.message_out(message))


@dataclass(frozen=True)
class Operation:
    schema: type[Schema]
    apply: Callable[[User, Any, datetime | None], Result]


# What a tablet may queue for POST /crew/sync, by `kind`; `data` has the schema's shape.
OPERATIONS = {
    "status": Operation(StatusOp, apply_status),
    "acknowledge": Operation(AssignmentOp, apply_acknowledge),
    "patient": Operation(PatientOp, apply_patient),
    "vitals": Operation(VitalsOp, apply_vitals),
    "destination": Operation(DestinationOp, apply_destination),
    "message": Operation(MessageOp, apply_message),
    "message_read": Operation(ReadOp, apply_read),
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def perform(user: User, kind: str, op: Schema, client_time: datetime | None, key: str) -> Outcome:
    request = {"data": op.model_dump(mode="json", exclude_unset=True), "client_time": iso(client_time)}
    return run_once(user, key, kind, request, lambda: OPERATIONS[kind].apply(user, op, client_time))


def tablet_key(request: HttpRequest, payload: TabletWrite | None) -> str:
    header = request.headers.get("Idempotency-Key", "").strip()
    field = ((payload.idempotency_key if payload else None) or "").strip()
    if header and field and header != field:
        raise ActionError(
            _("The Idempotency-Key header and the idempotency_key field differ."),
            "idempotency_key_mismatch",
            422,
        )
    return header or field


def reply(outcome: Outcome) -> JsonResponse:
    response = JsonResponse(outcome.body, status=outcome.status, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replay"] = "true" if outcome.replayed else "false"
    return response


def write(request: HttpRequest, kind: str, payload: TabletWrite | None, **targets: int) -> JsonResponse:
    """A direct tablet write: the same operation the batch would run. A body-less POST (only the
    Idempotency-Key header) is an empty body."""
    require_role(request, Role.CREW)
    payload = payload or TabletWrite()
    key = tablet_key(request, payload)
    fields = payload.model_dump(exclude=TABLET_FIELDS, exclude_unset=True)
    op = OPERATIONS[kind].schema.model_validate({**fields, **targets})
    return reply(perform(request.user, kind, op, payload.client_time, key))


ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Documents the header every tablet write carries (the body's idempotency_key field also works).
KEYED = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,80}$"},
            "description": "one per write, reused on every retry (the body's idempotency_key field may "
            "carry it instead)",
        }
    ]
}


# --- shift -----------------------------------------------------------------------------------


@router.get(
    "/crew/units",
    response={200: list[PickableUnitOut], **errors(403)},
    summary="Units a crew member may start a shift on",
)
def pickable_units(request: HttpRequest) -> list[dict]:
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
            "crew": sorted(crews.get(u.pk, [])),
        }
        for u in Unit.objects.select_related("home_station")
    ]


@router.get(
    "/crew/shift",
    response={200: ShiftStateOut, **errors(403)},
    summary="The signed-in crew member's shift, if any",
)
def shift(request: HttpRequest) -> dict:
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
def start_shift(request: HttpRequest, payload: ShiftIn) -> JsonResponse:
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
def end_shift(request: HttpRequest, payload: TabletWrite | None = None) -> JsonResponse:
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
def current(request: HttpRequest) -> dict:
    require_role(request, Role.CREW)
    shift = crew.current_shift(request.user)
    live = crew.live_assignment(shift.unit) if shift else None
    return {"shift": crew.shift_out(shift), "assignment": crew.assignment_out(live) if live else None}


@router.get(
    "/crew/assignments/{assignment_id}",
    response={200: CrewAssignmentOut, 404: ErrorOut, **errors(403)},
    summary="One of my unit's assignments this shift",
)
def assignment(request: HttpRequest, assignment_id: int) -> dict:
    require_role(request, Role.CREW)
    return crew.assignment_out(crew.crew_assignment(request.user, assignment_id))


@router.post(
    "/crew/assignments/{assignment_id}/acknowledge",
    response={200: StatusResultOut, **ERRORS},
    summary="Acknowledge the assignment (status acknowledged; its time is recorded)",
    openapi_extra=KEYED,
)
def acknowledge_job(
    request: HttpRequest, assignment_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return write(request, "acknowledge", payload, assignment=assignment_id)


@router.post(
    "/crew/status",
    response={200: StatusResultOut, **ERRORS},
    summary="One-tap status change, in job order (409 when out of order; nothing changes)",
    openapi_extra=KEYED,
)
def status(request: HttpRequest, payload: CrewStatusIn) -> JsonResponse:
    return write(request, "status", payload)


# --- the patient record ----------------------------------------------------------------------


@router.get(
    "/crew/assignments/{assignment_id}/patient",
    response={200: RecordOut, 404: ErrorOut, **errors(403)},
    summary="The patient record and vital signs of my assignment",
)
def patient(request: HttpRequest, assignment_id: int) -> dict:
    require_role(request, Role.CREW)
    return crew.record_out(crew.crew_assignment(request.user, assignment_id))


@router.post(
    "/crew/assignments/{assignment_id}/patient",
    response={200: PatientOut, **ERRORS},
    summary="Set patient record fields (only those sent change)",
    openapi_extra=KEYED,
)
def update_patient(request: HttpRequest, assignment_id: int, payload: PatientIn) -> JsonResponse:
    return write(request, "patient", payload, assignment=assignment_id)


@router.post(
    "/crew/assignments/{assignment_id}/vitals",
    response={201: VitalOut, **ERRORS},
    summary="Record one set of vital signs",
    openapi_extra=KEYED,
)
def record_vitals(request: HttpRequest, assignment_id: int, payload: VitalsIn) -> JsonResponse:
    return write(request, "vitals", payload, assignment=assignment_id)


# --- the destination -------------------------------------------------------------------------


@router.post(
    "/crew/assignments/{assignment_id}/destination",
    response={200: DestinationResultOut, **ERRORS},
    summary="Confirm or change the receiving hospital",
    openapi_extra=KEYED,
)
def crew_destination(request: HttpRequest, assignment_id: int, payload: CrewDestinationIn) -> JsonResponse:
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
def recommendation(request: HttpRequest, assignment_id: int, needs: Query[HospitalNeeds]) -> dict:
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
    rows = list(messages.filter(pk__gt=q.after).select_related("sender").order_by("-pk")[: q.limit])
    return [crew.message_out(m) for m in reversed(rows)]


@router.get(
    "/crew/messages",
    response={200: list[CrewMessageOut], **errors(403)},
    summary="My unit's messages, oldest first",
)
def crew_messages(request: HttpRequest, q: Query[MessagesQuery]) -> list[dict]:
    require_role(request, Role.CREW)
    return latest(Message.objects.for_crew(request.user), q)


@router.post(
    "/crew/messages",
    response={201: CrewMessageOut, **ERRORS},
    summary="Send a message to the control room",
    openapi_extra=KEYED,
)
def send_crew_message(request: HttpRequest, payload: MessageIn) -> JsonResponse:
    return write(request, "message", payload)


@router.post(
    "/crew/messages/{message_id}/read",
    response={200: CrewMessageOut, **ERRORS},
    summary="Mark a message from the control room read",
    openapi_extra=KEYED,
)
def read_crew_message(
    request: HttpRequest, message_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return write(request, "message_read", payload, message=message_id)


@router.get(
    "/units/{unit_id}/messages",
    response={200: list[CrewMessageOut], **errors(403)},
    summary="A unit's message line (control room)",
    tags=["messages"],
)
def unit_messages(request: HttpRequest, unit_id: int, q: Query[MessagesQuery]) -> list[dict]:
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
def send_to_crew(request: HttpRequest, unit_id: int, payload: ControlMessageIn) -> JsonResponse | Status:
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
def read_message(request: HttpRequest, message_id: int) -> dict:
    require_role(request, *CONTROL_ROOM)
    message = get_object_or_404(Message.objects.select_related("sender"), pk=message_id)
    return crew.message_out(actions.mark_read(message, actor=request.user))


# --- the offline queue -----------------------------------------------------------------------


class OperationIn(Schema):
    key: str = Field(..., max_length=80, description="the operation's idempotency key")
    kind: str = Field(..., max_length=40, description=", ".join(OPERATIONS))
    client_time: datetime = Field(description="the tablet's clock when the crew acted")
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="as the direct endpoint's body, with `assignment` or `message` naming the target",
    )


class SyncIn(Schema):
    operations: list[OperationIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class OperationResultOut(Schema):
    key: str
    kind: str
    status: int = Field(description="the HTTP status the operation alone would have had")
    ok: bool
    replayed: bool = Field(description="answered from the record: nothing was applied again")
    result: dict[str, Any] | None
    error: str | None
    code: str | None


class SyncOut(Schema):
    results: list[OperationResultOut]


@router.post(
    "/crew/sync",
    response={200: SyncOut, 422: ErrorOut},
    summary="Apply the tablet's offline queue in order, each operation once",
)
def sync(request: HttpRequest, payload: SyncIn) -> dict:
    """Each operation is its own transaction: one refused in the middle keeps those before it
    and does not stop those after it. Sending the same batch again applies nothing twice."""
    require_role(request, Role.CREW)
    return {"results": [sync_one(request.user, op) for op in payload.operations]}


def sync_one(user: User, envelope: OperationIn) -> dict:
    try:
        outcome = queued(user, envelope)
    except ActionError as exc:  # a bad or reused key: refused without being recorded
        outcome = Outcome(exc.status, error_body(exc), replayed=False)
    except (OperationalError, InterfaceError):
        # The database is failing over: nothing was applied, and the tablet sends it again.
        log.warning(
            "queued operation %s (%s): database unavailable", envelope.key, envelope.kind, exc_info=True
        )
        body = {
            "error": _("The server is busy: this operation was not applied; it is sent again."),
            "code": "unavailable",
        }
        outcome = Outcome(503, body, replayed=False)
    except Exception:
        log.exception("queued operation %s (%s) failed", envelope.key, envelope.kind)
        outcome = not_applied(user, envelope)
    ok = 200 <= outcome.status < 300
    return {
        "key": envelope.key,
        "kind": envelope.kind,
        "status": outcome.status,
        "ok": ok,
        "replayed": outcome.replayed,
        "result": outcome.body if ok else None,
        "error": None if ok else outcome.body.get("error"),
        "code": None if ok else outcome.body.get("code"),
    }


def not_applied(user: User, envelope: OperationIn) -> Outcome:
    """An operation the server failed on (a fault of ours, logged): refused and recorded, so the
    tablet shows the crew it was not applied and the queue behind it moves on instead of
    resending it forever."""
    refusal = ActionError(
        _("The server could not apply this (the fault is logged). Enter it again if it is still needed."),
        "not_applied",
        422,
    )
    try:
        return refused_once(user, envelope, refusal)
    except Exception:
        log.exception("could not record the refusal of queued operation %s", envelope.key)
        return Outcome(refusal.status, error_body(refusal), replayed=False)


def queued(user: User, envelope: OperationIn) -> Outcome:
    operation = OPERATIONS.get(envelope.kind)
    try:
        if operation is None:
            raise ActionError(
                _("Unknown operation kind %(kind)r: use one of %(kinds)s.")
                % {"kind": envelope.kind.replace(NUL, ""), "kinds": ", ".join(OPERATIONS)},
                "bad_kind",
                422,
            )
        field = nul_path(envelope.data, "data")
        if field is not None:
            raise ActionError(nul_message(field), "nul_character", 422)
        op = operation.schema.model_validate(envelope.data)
    except (ActionError, pydantic.ValidationError) as exc:
        return refused_once(user, envelope, exc)
    return perform(user, envelope.kind, op, envelope.client_time, envelope.key)


def refused_once(user: User, envelope: OperationIn, exc: Exception) -> Outcome:
    """A malformed operation is recorded as refused like any other, so its replays agree."""
    if isinstance(exc, pydantic.ValidationError):
        exc = ActionError(_("Invalid operation. ") + problems(exc), "invalid", 422)

    def refuse() -> NoReturn:
        raise exc

    request = {"data": envelope.data, "client_time": iso(envelope.client_time)}
    kind = envelope.kind if envelope.kind in OPERATIONS else "unknown"  # stored: never the raw text
    return run_once(user, envelope.key, kind, request, refuse)


def problems(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" if e.get("loc") else str(e.get("msg"))
        for e in exc.errors()
    )
