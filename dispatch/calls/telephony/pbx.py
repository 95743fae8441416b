"""A generic JSON webhook a PBX/SIP system (Asterisk, FreeSWITCH) posts call events to.

    POST /api/telephony/pbx/events
    Authorization: Bearer <PBX_SHARED_SECRET>
    {"event": "ringing" | "answered" | "ended" | "recording",
     "call_id": "1733050000.42", "from": "+8613912345678", "to": "120",
     "at": "2026-12-01T12:00:00+08:00", "agent": "alice", "recording_url": "https://..."}

`at` is optional (the time received); `agent` is the dispatcher's username on "answered";
`recording_url` is required on "recording".

Calling a missed caller back, the other way (click-to-call, `click_to_call` below): we post

    POST <PBX_CLICK_TO_CALL_URL>
    Authorization: Bearer <PBX_SHARED_SECRET>
    {"agent": "alice", "seat": "调度台 3", "to": "+8613912345678",
     "reference": "callback-17", "call_id": "1733050000.42"}

and the PBX rings the dispatcher's own extension first (the one it names `agent` in its events;
`seat` is the desk the dispatcher is signed on to, empty when none), then, once picked up, dials
`to` from the centre's number. `reference` is ours (one per attempt), `call_id` the missed call's
own id at the PBX. It answers 2xx at once, before anyone picks up, with an optional JSON body
{"call_id": "..."} naming the new call; anything else is a refusal (4xx) or an outage (5xx).
"""

import hmac
import json
from datetime import datetime

import requests
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dispatch.calls.telephony.events import CallEvent, CallEventKind, TelephonyError

PROVIDER = "pbx"


def check_secret(request: HttpRequest) -> None:
    """Raise TelephonyError(403) unless the request carries the shared secret."""
    secret = settings.PBX_SHARED_SECRET
    if not secret:
        raise TelephonyError("The PBX webhook is not configured (PBX_SHARED_SECRET is empty).", 403)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), secret.encode()):
        raise TelephonyError("Wrong or missing PBX secret.", 403)


def parse_time(value: object) -> datetime:
    if value in (None, ""):
        return timezone.now()
    parsed = parse_datetime(str(value)) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise TelephonyError(f"at must be an ISO 8601 time with a zone, not {value!r}.")
    return parsed


def text(body: dict, name: str, max_length: int = 64) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > max_length:
        raise TelephonyError(f"{name} must be a string of at most {max_length} characters.")
    return value.strip()


def call_event(raw: bytes) -> CallEvent:
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TelephonyError(f"Body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise TelephonyError("Body must be a JSON object.")
    try:
        kind = CallEventKind(body.get("event", ""))  # missing: "" is no kind either
    except ValueError as exc:
        choices = ", ".join(k.value for k in CallEventKind)
        raise TelephonyError(f"event must be one of {choices}, not {body.get('event')!r}.") from exc
    call_id = text(body, "call_id")
    if not call_id:
        raise TelephonyError("call_id is missing.")
    recording_url = text(body, "recording_url", 500)
    if kind == CallEventKind.RECORDING and not recording_url.startswith(("https://", "http://")):
        raise TelephonyError("recording_url must be an http(s) URL on a recording event.")
    return CallEvent(
        provider=PROVIDER,
        call_id=call_id,
        kind=kind,
        at=parse_time(body.get("at")),
        caller=text(body, "from", 32),
        called=text(body, "to", 32),
        agent=text(body, "agent", 150),
        recording_url=recording_url,
        detail=kind.value,
    )


class ClickToCallError(Exception):
    """The PBX did not take the click-to-call request. `permanent`: it refused the request itself
    (4xx), so sending it again cannot succeed."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def click_to_call(*, agent: str, seat: str, to: str, reference: str, call_id: str) -> str:
    """Ask the PBX to ring `agent`'s extension and then `to`; the PBX's id for the new call (may
    be empty), or ClickToCallError."""
    url, secret = settings.PBX_CLICK_TO_CALL_URL, settings.PBX_SHARED_SECRET
    if not (url and secret):
        raise ClickToCallError(
            "PBX click-to-call is not configured (PBX_CLICK_TO_CALL_URL, PBX_SHARED_SECRET)."
        )
    body = {"agent": agent, "seat": seat, "to": to, "reference": reference, "call_id": call_id}
    try:
        response = requests.post(url, json=body, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    except requests.RequestException as exc:
        raise ClickToCallError(f"PBX unreachable: {exc}") from exc
    if not response.ok:
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        raise ClickToCallError(f"PBX {response.status_code}: {response.text[:200]}", permanent)
    try:
        answer = response.json() if response.content else {}
    except ValueError:
        answer = {}
    placed = answer.get("call_id", "") if isinstance(answer, dict) else ""
    return str(placed)[:64]
