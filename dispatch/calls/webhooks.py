"""Webhooks the telephony providers call: Twilio (form-encoded, signed) and a PBX (JSON, shared
secret). No session and no CSRF token: each request proves itself by signature or secret, and
a refused one writes nothing. They answer fast: one small transaction, no lookups for screens."""

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema
from pydantic import Field

from dispatch.calls.actions import record_aml, record_call_event
from dispatch.calls.aml import AmlError, AmlFix, parse_https, parse_sms
from dispatch.calls.telephony import pbx, twilio_adapter
from dispatch.calls.telephony.events import TelephonyError
from dispatch.core.errors import json_error, parse_json_body
from dispatch.core.openapi import errors

router = Router(tags=["telephony webhooks"], auth=None)

TWIML = "application/xml; charset=utf-8"


def form_body(required: list[str], fields: dict[str, str]) -> dict:
    """An OpenAPI form body (Twilio's and AML's webhooks post form fields, all strings)."""
    properties = {name: {"type": "string", "description": text} for name, text in fields.items()}
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def json_body(required: list[str], properties: dict[str, dict]) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


TWILIO_SIGNATURE = {
    "in": "header",
    "name": "X-Twilio-Signature",
    "required": True,
    "schema": {"type": "string"},
    "description": "base64 HMAC-SHA1 of the public URL and the sorted form fields, keyed by the auth token",
}
BEARER = {
    "in": "header",
    "name": "Authorization",
    "required": True,
    "schema": {"type": "string", "pattern": "^Bearer .+"},
    "description": "Bearer and the shared secret",
}
TWILIO_CALL_FIELDS = {
    "CallSid": "Twilio's id of the call",
    "From": "the caller's number, E.164",
    "To": "the number called",
    "CallStatus": "ringing on the voice webhook; completed, busy, no-answer, failed or canceled at the end",
    "Timestamp": "RFC 2822 time of the event (status callbacks)",
}
TWIML_ANSWER = {"description": "TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}}


def twilio_docs(body: dict) -> dict:
    return {"parameters": [TWILIO_SIGNATURE], "requestBody": body, "responses": {200: TWIML_ANSWER}}


TWILIO_CALL = twilio_docs(form_body(["CallSid", "CallStatus"], TWILIO_CALL_FIELDS))
TWILIO_RECORDING = twilio_docs(
    form_body(
        ["CallSid", "RecordingUrl"],
        {
            "CallSid": "Twilio's id of the call",
            "RecordingUrl": "where the recording can be fetched",
            "RecordingSid": "Twilio's id of the recording",
            "RecordingStatus": "completed when the recording is ready",
            "Timestamp": "RFC 2822 time of the event",
        },
    )
)
PBX_EVENT = {
    "parameters": [BEARER],
    "requestBody": json_body(
        ["event", "call_id"],
        {
            "event": {"type": "string", "enum": ["ringing", "answered", "ended", "recording"]},
            "call_id": {"type": "string", "maxLength": 64},
            "from": {"type": "string", "maxLength": 32, "description": "the caller's number"},
            "to": {"type": "string", "maxLength": 32},
            "at": {"type": "string", "format": "date-time", "description": "ISO 8601 with a zone"},
            "agent": {"type": "string", "maxLength": 150, "description": "the dispatcher's username"},
            "recording_url": {"type": "string", "maxLength": 500, "description": "on recording events"},
        },
    ),
}
AML_HTTPS = {
    "parameters": [BEARER],
    "requestBody": form_body(
        ["device_number", "location_latitude", "location_longitude"],
        {
            "device_number": "the handset's number",
            "location_latitude": "degrees WGS-84",
            "location_longitude": "degrees WGS-84",
            "location_accuracy": "metres",
            "location_time": "when the handset measured it (unix ms or ISO 8601)",
            "location_source": "GPS, WIFI or CELL",
            "location_certainty": "percent",
        },
    ),
}
AML_SMS = {
    "parameters": [BEARER],
    "requestBody": json_body(
        ["from", "text"],
        {
            "from": {"type": "string", "description": "the SMS centre's originating address"},
            "text": {"type": "string", "description": 'the SMS text, A"ML=1;lt=...;lg=...'},
        },
    ),
}


class CallEventOut(Schema):
    call: int
    status: str


class AmlStoredOut(Schema):
    stored: bool = Field(description="false for a message without a position")
    location: int | None
    call: int | None = Field(description="the call it joined, when one matched")


def refused(exc: TelephonyError) -> HttpResponse:
    return json_error(exc.status, exc.message, "forbidden" if exc.status == 403 else "invalid")


def empty_twiml() -> HttpResponse:
    return HttpResponse("<?xml version='1.0' encoding='UTF-8'?><Response/>", content_type=TWIML)


def recording_callback_url(request: HttpRequest) -> str:
    path = reverse("api:twilio_recording")
    return settings.PUBLIC_BASE_URL + path if settings.PUBLIC_BASE_URL else request.build_absolute_uri(path)


@router.post(
    "/telephony/twilio/voice",
    url_name="twilio_voice",
    summary="Twilio voice webhook: a call comes in (answers with TwiML)",
    response={200: None, **errors(400, 403)},
    openapi_extra=TWILIO_CALL,
)
def twilio_voice(request: HttpRequest) -> HttpResponse:
    try:
        twilio_adapter.check_signature(request)
        event = twilio_adapter.call_event(request.POST)
    except TelephonyError as exc:
        return refused(exc)
    if event is not None:
        record_call_event(event)
    twiml = twilio_adapter.answer_twiml(recording_callback_url(request), twilio_adapter.greeting_languages())
    return HttpResponse(twiml, content_type=TWIML)


@router.post(
    "/telephony/twilio/status",
    url_name="twilio_status",
    summary="Twilio call status callback",
    response={200: None, **errors(400, 403)},
    openapi_extra=TWILIO_CALL,
)
def twilio_status(request: HttpRequest) -> HttpResponse:
    return twilio_callback(request, twilio_adapter.call_event)


@router.post(
    "/telephony/twilio/recording",
    url_name="twilio_recording",
    summary="Twilio recording status callback",
    response={200: None, **errors(400, 403)},
    openapi_extra=TWILIO_RECORDING,
)
def twilio_recording(request: HttpRequest) -> HttpResponse:
    return twilio_callback(request, twilio_adapter.recording_event)


def twilio_callback(request: HttpRequest, parse) -> HttpResponse:
    """A signed callback: check, normalise, apply (a repeat changes nothing); empty TwiML back."""
    try:
        twilio_adapter.check_signature(request)
        event = parse(request.POST)
    except TelephonyError as exc:
        return refused(exc)
    if event is not None:
        record_call_event(event)
    return empty_twiml()


@router.post(
    "/telephony/pbx/events",
    url_name="pbx_events",
    summary="PBX/SIP call event (ringing, answered, ended, recording)",
    description=pbx.__doc__,
    response={200: CallEventOut, **errors(400, 403)},
    openapi_extra=PBX_EVENT,
)
def pbx_events(request: HttpRequest) -> HttpResponse:
    try:
        pbx.check_secret(request)
        event = pbx.call_event(request.body)
    except TelephonyError as exc:
        return refused(exc)
    call = record_call_event(event)
    return HttpResponse(
        f'{{"call": {call.pk}, "status": "{call.status}"}}', content_type="application/json", status=200
    )


def check_aml_secret(request: HttpRequest) -> None:
    secret = settings.AML_SHARED_SECRET
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if (
        not secret
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), secret.encode())
    ):
        raise TelephonyError("Wrong or missing AML secret (AML_SHARED_SECRET).", 403)


def stored(fix: AmlFix) -> HttpResponse:
    location = record_aml(fix)
    body = {"stored": location is not None, "location": location.pk if location else None}
    body["call"] = location.call_id if location else None
    return HttpResponse(json.dumps(body), content_type="application/json")


@router.post(
    "/aml",
    url_name="aml_https",
    summary="Advanced Mobile Location, HTTPS form (ETSI TS 103 625), form-encoded",
    response={200: AmlStoredOut, **errors(400, 403)},
    openapi_extra=AML_HTTPS,
)
def aml_https(request: HttpRequest) -> HttpResponse:
    try:
        check_aml_secret(request)
        fix = parse_https(request.POST.dict())
    except TelephonyError as exc:
        return refused(exc)
    except AmlError as exc:
        return json_error(400, f"Malformed AML message: {exc}", "bad_aml")
    return stored(fix)


@router.post(
    "/aml/sms",
    url_name="aml_sms",
    summary='Advanced Mobile Location, SMS form: {"from": "+86...", "text": "A"ML=1;lt=...;lg=..."}',
    response={200: AmlStoredOut, **errors(400, 403)},
    openapi_extra=AML_SMS,
)
def aml_sms(request: HttpRequest) -> HttpResponse:
    try:
        check_aml_secret(request)
        body = parse_json_body(request)
        if not isinstance(body.get("text"), str):
            raise AmlError('send {"from": sender, "text": the SMS text}')
        fix = parse_sms(body["text"], str(body.get("from", "")))
    except TelephonyError as exc:
        return refused(exc)
    except (AmlError, ValueError) as exc:
        return json_error(400, f"Malformed AML message: {exc}", "bad_aml")
    if not fix.number:
        return json_error(400, "Malformed AML message: the sender (from) is missing.", "bad_aml")
    return stored(fix)
