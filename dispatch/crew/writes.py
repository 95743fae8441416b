"""The tablet's writes: one named operation per kind, each applied at most once per idempotency
key (dispatch.core.idempotency.run_once), the same whether sent directly or queued."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Schema

from dispatch.core.actions import ActionError
from dispatch.core.idempotency import Outcome, run_once
from dispatch.core.openapi import ErrorOut
from dispatch.core.permissions import require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.crew import actions
from dispatch.crew import reads as crew
from dispatch.crew.schemas import (
    TABLET_FIELDS,
    AssignmentOp,
    CrewMessageOut,
    DestinationOp,
    DestinationResultOut,
    MessageOp,
    PatientOp,
    PatientOut,
    ReadOp,
    StatusOp,
    StatusResultOut,
    TabletWrite,
    UndoOp,
    VitalOut,
    VitalsOp,
    shaped,
)
from dispatch.incidents.actions import set_destination
from dispatch.models import Assignment, Role, User
from dispatch.units.actions import STATUS_CLOCKS, correct_status, last_status_event, set_unit_status
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital

log = logging.getLogger(__name__)


Result = tuple[int, dict[str, Any]]


def apply_status(user: User, op: StatusOp, client_time: datetime | None) -> Result:
    return change_status(user, op.status, op.assignment, client_time, op.end_reason, op.end_note)


def apply_acknowledge(user: User, op: AssignmentOp, client_time: datetime | None) -> Result:
    return change_status(user, UnitStatus.ACKNOWLEDGED, op.assignment, client_time)


def change_status(
    user: User,
    status: str,
    assignment_id: int | None,
    client_time: datetime | None,
    end_reason: str | None = None,
    end_note: str | None = None,
) -> Result:
    unit = crew.crew_unit(user)
    assignment = checked_job(user, unit, status, assignment_id)
    crew.refuse_unless_next(unit, status)
    if assignment is not None and actions.ends_early(unit.status, status):
        actions.end_job_early(unit, assignment, end_reason, end_note, actor=user, client_time=client_time)
    else:
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
    live = crew.live_job(unit)
    if assignment_id is None:
        if live is not None and status in STATUS_CLOCKS:
            raise ActionError(_("Say which assignment this status is for."), "assignment_required", 422)
        return live
    if live is not None and live.pk == assignment_id:
        # The usual tap, for the job in hand: the unit's live job is its crew's on shift
        # (Assignment.objects.for_crew), so it is not read a second time.
        return live
    assignment = crew.crew_assignment(user, assignment_id)
    crew.refuse_unless_live(assignment, unit)
    return assignment


def apply_undo(user: User, op: UndoOp, client_time: datetime | None) -> Result:
    """Undo the crew's own last status tap, within the window (dispatch.units.actions.correct_status).
    Another unit's crew is refused (403); so is a change the crew did not tap (409)."""
    unit = crew.crew_unit(user)
    if op.unit != unit.pk:
        raise ActionError(_("You can only undo your own unit's status."), "not_your_unit", 403)
    tap = last_status_event(unit)
    if tap is not None and not (tap.actor and tap.actor.role == Role.CREW):
        raise ActionError(
            _("The last status change was not a crew tap: ask the control room to correct it."),
            "not_a_crew_tap",
            409,
        )
    correct_status(unit, op.status, op.back_to, actor=user)
    live = crew.live_job(unit)
    body = {
        "unit": crew.unit_out(unit),
        "assignment": live.pk if live else None,
        "changed_at": unit.status_changed_at,
        "client_time": client_time,
    }
    return 200, shaped(StatusResultOut, body)


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
    "status_undo": Operation(UndoOp, apply_undo),
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


class Keyed(Protocol):
    """A write that may carry its idempotency key in the body (TabletWrite, a control-room
    message)."""

    @property
    def idempotency_key(self) -> str | None: ...


def tablet_key(request: HttpRequest, payload: Keyed | None) -> str:
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


def write(request: SignedInRequest, kind: str, payload: TabletWrite | None, **targets: int) -> JsonResponse:
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
