"""A generic JSON webhook a PBX/SIP system (Asterisk, FreeSWITCH) posts call events to.

    POST /api/telephony/pbx/events
    Authorization: Bearer <PBX_SHARED_SECRET>
    {"event": "ringing" | "answered" | "ended" | "recording",
     "call_id": "1733050000.42", "from": "+8613912345678", "to": "120",
     "at": "2026-12-01T12:00:00+08:00", "agent": "alice", "recording_url": "https://..."}

`at` is optional (the time received); `agent` is the dispatcher's username on "answered";
`recording_url` is required on "recording".
"""

import hmac
import json
from datetime import datetime

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
