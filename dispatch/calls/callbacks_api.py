"""The missed-call list's endpoints (dispatch.calls.callbacks): the list, calling back, the
outcome; and the TwiML Twilio fetches when a called-back caller picks up. Dispatchers and
supervisors only: the list is caller numbers."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.calls import callbacks
from dispatch.calls.telephony import twilio_adapter
from dispatch.calls.telephony.events import TelephonyError
from dispatch.core.errors import json_error
from dispatch.core.openapi import errors
from dispatch.core.permissions import CALL_BACKERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import CallBack, CallBackOutcome

router = Router(tags=["calls"])

TWIML = "application/xml; charset=utf-8"


class CallBackAttemptOut(Schema):
    id: int
    by: int
    by_name: str
    seat: str
    provider: str
    placed_at: datetime
    outcome: str = Field(
        description="empty while under way; else reached, no_answer, wrong_number, not_needed"
    )
    outcome_at: datetime | None


class MissedCallOut(Schema):
    id: int
    caller_number: str
    ringing_at: datetime
    ended_at: datetime | None
    waited_s: float | None = Field(description="how long the caller waited before hanging up")
    attempts: int
    calling: CallBackAttemptOut | None = Field(description="the attempt under way, if any")
    done: bool
    last_outcome: str


class CallBackPlacedOut(MissedCallOut):
    call_back: CallBackAttemptOut


class OutcomeIn(Schema):
    outcome: CallBackOutcome


@router.get(
    "/call-backs",
    response={200: list[MissedCallOut], **errors(403)},
    summary="Missed and abandoned calls still to call back, oldest first",
)
def missed_calls(request: SignedInRequest) -> list[dict]:
    require_role(request, *CALL_BACKERS)
    return [callbacks.missed_summary(call) for call in callbacks.missed_calls()]


@router.post(
    "/calls/{call_id}/call-back",
    response={201: CallBackPlacedOut, **errors(403, 409, 503)},
    summary="Call a missed caller back through the telephony provider (one dispatcher at a time: "
    "409 for the others; 503 when the provider does not answer, and nothing is recorded)",
)
def call_back(request: SignedInRequest, call_id: int) -> Status:
    require_role(request, *CALL_BACKERS)
    attempt = callbacks.call_back(call_id, actor=request.user, base_url=request.build_absolute_uri("/"))
    call = callbacks.missed_call_with_attempts(attempt.call_id)
    return Status(201, {**callbacks.missed_summary(call), "call_back": callbacks.attempt_summary(attempt)})


@router.post(
    "/call-backs/{call_back_id}/outcome",
    response={200: CallBackPlacedOut, **errors(403, 409)},
    summary="What came of a call back (once; by whoever placed it, or a supervisor)",
)
def outcome(request: SignedInRequest, call_back_id: int, payload: OutcomeIn) -> dict:
    require_role(request, *CALL_BACKERS)
    attempt = callbacks.record_outcome(call_back_id, payload.outcome, actor=request.user)
    call = callbacks.missed_call_with_attempts(attempt.call_id)
    return {**callbacks.missed_summary(call), "call_back": callbacks.attempt_summary(attempt)}


TWILIO_SIGNED = {
    "parameters": [
        {
            "in": "header",
            "name": "X-Twilio-Signature",
            "required": True,
            "schema": {"type": "string"},
            "description": "base64 HMAC-SHA1 of the public URL and the sorted form fields",
        }
    ],
    "responses": {
        200: {"description": "TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}}
    },
}


@router.post(
    "/telephony/twilio/call-back/{call_back_id}",
    url_name="twilio_call_back",
    auth=None,
    response={200: None, **errors(403)},
    summary="Twilio fetches what to do when a called-back caller picks up (TwiML)",
    openapi_extra=TWILIO_SIGNED,
)
def twilio_call_back(request: HttpRequest, call_back_id: int) -> HttpResponse:
    try:
        twilio_adapter.check_signature(request)
    except TelephonyError as exc:
        return json_error(exc.status, exc.message, "forbidden" if exc.status == 403 else "invalid")
    attempt = CallBack.objects.select_related("by").filter(pk=call_back_id).first()
    if attempt is None:
        return json_error(404, _("No such call back."), "not_found")
    twiml = twilio_adapter.call_back_twiml(attempt.by.username, attempt.pk)
    return HttpResponse(twiml, content_type=TWIML)
