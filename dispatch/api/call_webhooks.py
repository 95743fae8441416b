"""Webhooks the telephony providers call: Twilio (form-encoded, signed) and a PBX (JSON, shared
secret). No session and no CSRF token: each request proves itself by signature or secret, and
a refused one writes nothing. They answer fast: one small transaction, no lookups for screens."""

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router

from ..actions.calls import record_aml, record_call_event
from ..aml import AmlError, AmlFix, parse_https, parse_sms
from ..telephony import pbx, twilio_adapter
from ..telephony.events import TelephonyError
from .errors import json_error

router = Router(tags=["telephony webhooks"], auth=None)

TWIML = "application/xml; charset=utf-8"


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
    include_in_schema=True,
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


@router.post("/telephony/twilio/status", url_name="twilio_status", summary="Twilio call status callback")
def twilio_status(request: HttpRequest) -> HttpResponse:
    return twilio_callback(request, twilio_adapter.call_event)


@router.post(
    "/telephony/twilio/recording", url_name="twilio_recording", summary="Twilio recording status callback"
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
)
def aml_sms(request: HttpRequest) -> HttpResponse:
    try:
        check_aml_secret(request)
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise AmlError('send {"from": sender, "text": the SMS text}')
        fix = parse_sms(body["text"], str(body.get("from", "")))
    except TelephonyError as exc:
        return refused(exc)
    except (AmlError, ValueError) as exc:
        return json_error(400, f"Malformed AML message: {exc}", "bad_aml")
    if not fix.number:
        return json_error(400, "Malformed AML message: the sender (from) is missing.", "bad_aml")
    return stored(fix)
