"""The hospital handoff: the ER board, acknowledging notices, arrival and handover, the ER's
status and beds; the crew's and the dispatcher's side of the pre-arrival notice and its
delivery status.

Hospital staff reach only their own hospital: every lookup goes through a query confined to it
(permissions.visible_notices, the board's own query), so another hospital's notice id answers the
same 404 as an id that does not exist.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import last_seq
from dispatch.core.idempotency import run_once
from dispatch.core.openapi import errors
from dispatch.core.permissions import (
    CONTROL_ROOM,
    ER_STAFF,
    is_control_room,
    own_hospital,
    require_role,
    sees_caller_details,
    visible_notices,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.crew import reads as crew
from dispatch.crew.schemas import TabletWrite
from dispatch.crew.writes import ERRORS, KEYED, reply, tablet_key
from dispatch.handoff import actions
from dispatch.handoff.reads import board_sections, message_row, notice_row_by_id, withdrawn_now
from dispatch.handoff.schemas import (
    AckOut,
    BoardOut,
    BriefNoticeOut,
    CrewErLineOut,
    ErMessageOut,
    ErStatusOut,
    NoticeDetailOut,
    WithdrawalAckOut,
)
from dispatch.models import (
    Assignment,
    ErMessage,
    Event,
    FhirDeliveryAttempt,
    Incident,
    Outbox,
    PreArrivalNotice,
    Role,
    User,
)
from hospitals.models import BedAvailability, BedCategory, DiversionCategory, Hospital

router = Router(tags=["handoff"])

AUDITED = (EventKind.HOSPITAL_DIVERSION, EventKind.HOSPITAL_BEDS)


# --- helpers ---------------------------------------------------------------------------------


def er_hospital(user: User, hospital_id: int | None) -> Hospital:
    """Staff: their own hospital, whatever they ask for (asking for another is a 404). The
    control room names one."""
    if user.role == Role.HOSPITAL and not user.is_superuser:
        if hospital_id not in (None, user.hospital_id):
            raise ActionError(_("Hospital %(id)s not found.") % {"id": hospital_id}, "not_found", 404)
        return own_hospital(user)
    hospital = Hospital.objects.filter(pk=hospital_id).first() if hospital_id else None
    if hospital is None:
        raise ActionError(_("Say which hospital: ?hospital=<id>."), "hospital_required", 422)
    return hospital


def visible_notice(user: User, notice_id: int) -> PreArrivalNotice:
    notice = (
        visible_notices(user)
        .select_related("hospital", "assignment__unit", "assignment__incident", "assignment__hospital")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None or not visible_assignment(user, notice):
        raise ActionError(_("Notice %(id)s not found.") % {"id": notice_id}, "not_found", 404)
    return notice


def visible_assignment(user: User, notice: PreArrivalNotice) -> bool:
    """A redirected patient leaves the old hospital's reach at once."""
    return is_control_room(user) or notice.assignment.hospital_id == user.hospital_id


def er_status(hospital: Hospital) -> dict[str, Any]:
    beds = {b.category: b for b in BedAvailability.objects.filter(hospital=hospital)}
    changes = (
        Event.objects.filter(hospital=hospital, kind__in=AUDITED)
        .select_related("actor")
        .order_by("-seq")[:10]
    )
    return {
        "id": hospital.pk,
        "name": hospital.name,
        "name_en": hospital.name_en,
        "phone": hospital.phone,
        "diverting": hospital.diverting,
        "diversion_reason": hospital.diversion_reason,
        "status_changed_at": hospital.status_changed_at,
        "beds": [
            {
                "category": value,
                "label": str(label),
                "available": beds[value].available if value in beds else None,
                "updated_at": beds[value].updated_at if value in beds else None,
            }
            for value, label in BedCategory.choices
        ],
        "changes": [
            {
                "kind": e.kind,
                "at": e.at,
                "by": (e.actor.get_full_name() or e.actor.username) if e.actor else None,
                "data": e.data,
            }
            for e in changes
        ],
    }


def deliveries(notice: PreArrivalNotice) -> dict[str, list]:
    rows = Outbox.objects.filter(payload__notice=notice.pk).order_by("created_at", "pk")
    attempts = FhirDeliveryAttempt.objects.filter(notice=notice).order_by("started_at", "pk")
    return {
        "deliveries": [
            {
                "id": r.pk,
                "channel": r.channel,
                "status": r.status,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "sent_at": r.sent_at,
                "last_error": r.last_error,
                "revision": r.payload.get("revision"),
            }
            for r in rows
        ],
        "attempts": [
            {
                "started_at": a.started_at,
                "duration_ms": a.duration_ms,
                "http_status": a.http_status,
                "ok": a.ok,
                "error": a.error,
                "revision": a.revision,
            }
            for a in attempts
        ],
    }


def notice_detail(notice: PreArrivalNotice) -> dict[str, Any]:
    return {
        **notice_row_by_id(notice.pk),
        "hospital": notice.hospital_id,
        "hospital_name": notice.hospital.name,
        **deliveries(notice),
    }


# --- the ER board ----------------------------------------------------------------------------


class BoardQuery(Schema):
    hospital: int | None = Field(None, description="control room only; staff always get their own")


@router.get(
    "/er/board",
    response={200: BoardOut, **ERRORS, **errors(403)},
    summary="The ER board: patients bound here, soonest first",
)
def board(request: SignedInRequest, q: Query[BoardQuery]) -> dict:
    require_role(request, *ER_STAFF)
    hospital = er_hospital(request.user, q.hospital)
    seq = last_seq()  # read first: the socket sends whatever happens after it
    sections = board_sections(hospital)
    if sees_caller_details(request.user):
        with_caller_details(sections["notices"] + sections["handed_over"])
    return {
        "hospital": er_status(hospital),
        **sections,
        "handed_over_minutes": settings.ER_HANDED_OVER_VISIBLE_MINUTES,
        "last_seq": seq,
        "alert_after_s": settings.NOTICE_ACK_ALERT_SECONDS,
    }


def with_caller_details(rows: list[dict[str, Any]]) -> None:
    """The caller and the dispatcher's notes, for the control room's view of a board only."""
    incidents = Incident.objects.in_bulk([r["incident"]["id"] for r in rows])
    for row in rows:
        incident = incidents[row["incident"]["id"]]
        row["caller"] = {"number": incident.caller_number, "name": incident.caller_name}
        row["dispatcher_notes"] = incident.notes


@router.get(
    "/er/notices/{notice_id}",
    response={200: NoticeDetailOut, **ERRORS, **errors(403)},
    summary="One notice, with its delivery status (FHIR, SMS)",
)
def notice(request: SignedInRequest, notice_id: int) -> dict:
    require_role(request, *ER_STAFF)
    return notice_detail(visible_notice(request.user, notice_id))


@router.post(
    "/er/notices/{notice_id}/acknowledge",
    response={200: AckOut, **ERRORS},
    summary="Acknowledge a notice (staff of its hospital; a dispatcher records a phoned one)",
)
def acknowledge_notice(request: SignedInRequest, notice_id: int) -> dict:
    require_role(request, *ER_STAFF)
    ack = actions.acknowledge_notice(visible_notice(request.user, notice_id), actor=request.user)
    user = ack.acknowledged_by
    return {
        "by": user.get_full_name() or user.username,
        "at": ack.acknowledged_at,
        "by_phone": ack.by_phone,
        "revision": ack.revision,
    }


class ClocksOut(Schema):
    assignment: int
    arrived_at: datetime | None
    handover_at: datetime | None
    handover_s: float | None = Field(description="arrival to handover complete")


def clocks_out(assignment: Assignment) -> dict[str, Any]:
    arrived, handed = assignment.at_hospital_at, assignment.handover_at
    return {
        "assignment": assignment.pk,
        "arrived_at": arrived,
        "handover_at": handed,
        "handover_s": (handed - arrived).total_seconds() if arrived and handed else None,
    }


@router.post(
    "/er/notices/{notice_id}/arrived",
    response={200: ClocksOut, **ERRORS},
    summary="The ambulance has arrived",
)
def er_arrived(request: SignedInRequest, notice_id: int) -> dict:
    require_role(request, *ER_STAFF)
    notice = visible_notice(request.user, notice_id)
    return clocks_out(actions.record_arrival(notice.assignment, actor=request.user))


@router.post(
    "/er/notices/{notice_id}/handover", response={200: ClocksOut, **ERRORS}, summary="Handover complete"
)
def er_handover(request: SignedInRequest, notice_id: int) -> dict:
    require_role(request, *ER_STAFF)
    notice = visible_notice(request.user, notice_id)
    return clocks_out(actions.record_handover(notice.assignment, actor=request.user))


# --- ER status and beds ----------------------------------------------------------------------


class DiversionIn(Schema):
    hospital: int | None = Field(None, description="control room only")
    diverting: list[DiversionCategory] = Field(
        ..., max_length=len(DiversionCategory.values), description="empty: open for everyone"
    )
    reason: str = Field("", max_length=200, description="e.g. CT down")


@router.post("/er/status", response={200: ErStatusOut, **ERRORS}, summary="Open, or divert named categories")
def set_status(request: SignedInRequest, payload: DiversionIn) -> dict:
    require_role(request, *ER_STAFF)
    hospital = er_hospital(request.user, payload.hospital)
    categories = [c.value for c in payload.diverting]
    if categories and not payload.reason.strip():
        raise ActionError(_("Say why you divert (for example: CT down)."), "reason_required", 422)
    actions.set_diversion(hospital, categories, actor=request.user, reason=payload.reason)
    hospital.refresh_from_db()
    return er_status(hospital)


class BedsIn(Schema):
    hospital: int | None = Field(None, description="control room only")
    category: BedCategory
    available: int = Field(..., ge=0, le=10_000)


@router.post("/er/beds", response={200: ErStatusOut, **ERRORS}, summary="Available beds of one category")
def set_beds(request: SignedInRequest, payload: BedsIn) -> dict:
    require_role(request, *ER_STAFF)
    hospital = er_hospital(request.user, payload.hospital)
    actions.set_beds(hospital, payload.category.value, payload.available, actor=request.user)
    return er_status(hospital)


# --- the crew's and the dispatcher's side ----------------------------------------------------


def brief(notice: PreArrivalNotice) -> dict[str, Any]:
    return crew.notice_out(notice)


@router.post(
    "/crew/assignments/{assignment_id}/notice",
    response={200: BriefNoticeOut, **ERRORS},
    summary="Send (or update) the pre-arrival notice to the destination",
    openapi_extra=KEYED,
)
def crew_send(
    request: SignedInRequest, assignment_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return crew_write(request, "notice.send", assignment_id, payload, actions.send_notice)


@router.post(
    "/crew/assignments/{assignment_id}/arrived",
    response={200: ClocksOut, **ERRORS},
    summary="Arrived at the hospital (same as the at-hospital status tap)",
    openapi_extra=KEYED,
)
def crew_arrived(
    request: SignedInRequest, assignment_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return crew_write(request, "notice.arrived", assignment_id, payload, actions.record_arrival)


@router.post(
    "/crew/assignments/{assignment_id}/handover",
    response={200: ClocksOut, **ERRORS},
    summary="Handover complete (before clearing the unit)",
    openapi_extra=KEYED,
)
def crew_handover(
    request: SignedInRequest, assignment_id: int, payload: TabletWrite | None = None
) -> JsonResponse:
    return crew_write(request, "notice.handover", assignment_id, payload, actions.record_handover)


def crew_write(
    request: SignedInRequest,
    operation: str,
    assignment_id: int,
    payload: TabletWrite | None,
    action: Callable[..., PreArrivalNotice | Assignment],
) -> JsonResponse:
    """A tablet write, once per idempotency key (dispatch.core.idempotency)."""
    require_role(request, Role.CREW)
    user = request.user
    payload = payload or TabletWrite()

    def apply() -> tuple[int, dict]:
        assignment = crew.crew_assignment(user, assignment_id)
        if operation == "notice.send":
            crew.refuse_unless_live(assignment, crew.crew_unit(user))
        result = action(assignment, actor=user)
        if isinstance(result, PreArrivalNotice):
            return 200, BriefNoticeOut.model_validate(brief(result)).model_dump(mode="json")
        return 200, ClocksOut.model_validate(clocks_out(result)).model_dump(mode="json")

    request_data = {"assignment": assignment_id, "client_time": payload.client_time}
    return reply(run_once(user, tablet_key(request, payload), operation, request_data, apply))


@router.post(
    "/assignments/{assignment_id}/notice",
    response={200: NoticeDetailOut, **ERRORS},
    summary="Send (or update) the pre-arrival notice for a unit (control room)",
)
def dispatcher_send(request: SignedInRequest, assignment_id: int) -> dict:
    require_role(request, *CONTROL_ROOM)
    assignment = Assignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        raise ActionError(_("Assignment %(id)s not found.") % {"id": assignment_id}, "not_found", 404)
    return notice_detail(actions.send_notice(assignment, actor=request.user))


@router.get(
    "/assignments/{assignment_id}/notice",
    response={200: NoticeDetailOut, **ERRORS, **errors(403)},
    summary="The unit's pre-arrival notice: acknowledgement and delivery status (control room)",
)
def dispatcher_notice(request: SignedInRequest, assignment_id: int) -> dict:
    require_role(request, *CONTROL_ROOM)
    notice = PreArrivalNotice.objects.filter(assignment_id=assignment_id).select_related("hospital").first()
    if notice is None:
        raise ActionError(_("No notice has been sent for this assignment."), "not_found", 404)
    return notice_detail(notice)


# --- withdrawn notices -----------------------------------------------------------------------


class WithdrawalAckIn(Schema):
    hospital: int | None = Field(None, description="control room only; staff always their own")


def withdrawn_notice(hospital: Hospital, notice_id: int) -> PreArrivalNotice:
    """A notice withdrawn from this hospital (or once withdrawn from it), else the same 404 as
    for none at all."""
    notice = (
        PreArrivalNotice.objects.filter(pk=notice_id)
        .filter(Q(withdrawals__hospital=hospital) | withdrawn_now(hospital.pk, timezone.now()))
        .select_related("assignment")
        .distinct()
        .first()
    )
    if notice is None:
        raise ActionError(_("Notice %(id)s not found.") % {"id": notice_id}, "not_found", 404)
    return notice


@router.post(
    "/er/notices/{notice_id}/withdrawal/acknowledge",
    response={200: WithdrawalAckOut, **ERRORS, **errors(403)},
    summary="Acknowledge that a notice was withdrawn (the patient is not coming here)",
)
def acknowledge_withdrawal(
    request: SignedInRequest, notice_id: int, payload: WithdrawalAckIn | None = None
) -> dict:
    require_role(request, *ER_STAFF)
    hospital = er_hospital(request.user, payload.hospital if payload else None)
    notice = withdrawn_notice(hospital, notice_id)
    withdrawal = actions.acknowledge_withdrawal(notice, hospital, actor=request.user)
    user = withdrawal.acknowledged_by
    assert user is not None and withdrawal.acknowledged_at is not None
    return {
        "notice": notice.pk,
        "hospital": hospital.pk,
        "revision": withdrawal.revision,
        "by": user.get_full_name() or user.username,
        "at": withdrawal.acknowledged_at,
    }


# --- the crew <-> ER message line ---------------------------------------------------------------


def line(notice: PreArrivalNotice) -> list[dict[str, Any]]:
    """The notice's messages with its current hospital (never those with one it left)."""
    call_sign = notice.assignment.unit.call_sign
    rows = ErMessage.objects.filter(notice=notice, hospital_id=notice.hospital_id).select_related("sender")
    return [message_row(m, call_sign) for m in rows]


class ErMessageIn(Schema):
    text: str = Field(..., max_length=500)


@router.get(
    "/er/notices/{notice_id}/messages",
    response={200: list[ErMessageOut], **ERRORS, **errors(403)},
    summary="The crew <-> ER line of one notice (its hospital's staff, the control room)",
)
def er_messages(request: SignedInRequest, notice_id: int) -> list[dict[str, Any]]:
    require_role(request, *ER_STAFF)
    return line(visible_notice(request.user, notice_id))


@router.post(
    "/er/notices/{notice_id}/messages",
    response={201: ErMessageOut, **ERRORS, **errors(403)},
    summary="Answer the crew bringing this patient (the receiving hospital's staff)",
)
def er_message_send(request: SignedInRequest, notice_id: int, payload: ErMessageIn) -> Status:
    require_role(request, *ER_STAFF)
    notice = visible_notice(request.user, notice_id)
    message = actions.send_er_message(notice, payload.text, actor=request.user)
    return Status(201, message_row(message, notice.assignment.unit.call_sign))


@router.get(
    "/crew/er-line",
    response={200: CrewErLineOut, **errors(403)},
    summary="The crew's line to the receiving ER of its live job",
)
def crew_er_line(request: SignedInRequest) -> dict[str, Any]:
    require_role(request, Role.CREW)
    shift = crew.current_shift(request.user)
    assignment = crew.live_assignment(shift.unit) if shift else None
    notice = (
        PreArrivalNotice.objects.filter(assignment=assignment)
        .select_related("hospital", "assignment__unit")
        .first()
        if assignment
        else None
    )
    bound = bool(notice and assignment and notice.hospital_id == assignment.hospital_id)
    return {
        "assignment": assignment.pk if assignment else None,
        "notice": notice.pk if notice else None,
        "hospital": notice.hospital_id if notice else None,
        "hospital_name": notice.hospital.name if notice else None,
        "open": bound,
        "messages": line(notice) if notice and bound else [],
    }


class CrewErMessageIn(TabletWrite):
    text: str = Field(..., max_length=500)


@router.post(
    "/crew/assignments/{assignment_id}/er-messages",
    response={201: ErMessageOut, **ERRORS, **errors(403)},
    summary="Write to the receiving ER about this patient (once per idempotency key)",
    openapi_extra=KEYED,
)
def crew_er_message(request: SignedInRequest, assignment_id: int, payload: CrewErMessageIn) -> JsonResponse:
    require_role(request, Role.CREW)
    user = request.user

    def apply() -> tuple[int, dict]:
        assignment = crew.crew_assignment(user, assignment_id)
        crew.refuse_unless_live(assignment, crew.crew_unit(user))
        notice = PreArrivalNotice.objects.filter(assignment=assignment).first()
        if notice is None:
            raise ActionError(
                _("Send the pre-arrival notice first: the line is with the hospital that has it."),
                "no_notice",
                409,
            )
        message = actions.send_er_message(notice, payload.text, actor=user)
        return 201, ErMessageOut.model_validate(message_row(message, assignment.unit.call_sign)).model_dump(
            mode="json"
        )

    request_data = {"assignment": assignment_id, "text": payload.text, "client_time": payload.client_time}
    return reply(run_once(user, tablet_key(request, payload), "notice.message", request_data, apply))
