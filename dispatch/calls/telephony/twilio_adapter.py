"""Twilio: webhook signatures, call webhooks as normalised CallEvents, TwiML, and SMS.

The only module that imports the twilio SDK (docs/house-style.md, practice 7).
"""

from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from dispatch.calls.telephony.events import CallEvent, CallEventKind, TelephonyError

PROVIDER = "twilio"

# Twilio's CallStatus words, in the order a call lives them.
ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}

GREETING = {
    "zh-CN": "您好，这里是120急救指挥中心。正在为您接通调度员，请不要挂机。",
    "en-US": "This is the 120 emergency medical centre. A dispatcher will answer you now. "
    "Please stay on the line.",
}


# ---------------------------------------------------------------------------- signatures


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested. Behind a TLS proxy Django sees http:// and its own host, so
    the configured public address is used when set (else BEHIND_PROXY's forwarded headers)."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def check_signature(request: HttpRequest) -> None:
    """Raise TelephonyError(403) unless the request carries a valid X-Twilio-Signature."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token:
        raise TelephonyError("Twilio is not configured (TWILIO_AUTH_TOKEN is empty).", 403)
    if not signature:
        raise TelephonyError("Missing X-Twilio-Signature.", 403)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    if not RequestValidator(token).validate(public_url(request), request.POST, signature, algorithm):
        raise TelephonyError("Invalid X-Twilio-Signature.", 403)


# ---------------------------------------------------------------------------- call events


def event_time(params: QueryDict) -> datetime:
    """Status callbacks carry an RFC 2822 Timestamp; the first webhook does not (an empty one
    is no date either)."""
    try:
        return parsedate_to_datetime(params.get("Timestamp", ""))
    except (TypeError, ValueError):
        return timezone.now()


def required(params: QueryDict, name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise TelephonyError(f"{name} is missing.")
    return value


def call_event(params: QueryDict) -> CallEvent | None:
    """The normalised event for a voice or status webhook, or None for a status we ignore
    (queued, initiated, in-progress: Twilio answering our own webhook is not a dispatcher)."""
    status = params.get("CallStatus", "").strip()
    if status == "ringing":
        kind = CallEventKind.RINGING
    elif status in ENDED_STATUSES:
        kind = CallEventKind.ENDED
    else:
        return None
    return CallEvent(
        provider=PROVIDER,
        call_id=required(params, "CallSid"),
        kind=kind,
        at=event_time(params),
        caller=params.get("From", ""),
        called=params.get("To", ""),
        detail=status,
    )


def recording_event(params: QueryDict) -> CallEvent | None:
    """The recording callback: an event once the recording is completed, None before."""
    if params.get("RecordingStatus", "completed") != "completed":
        return None
    url = required(params, "RecordingUrl")
    return CallEvent(
        provider=PROVIDER,
        call_id=required(params, "CallSid"),
        kind=CallEventKind.RECORDING,
        at=event_time(params),
        recording_url=url,
        detail=params.get("RecordingSid", ""),
    )


def answer_twiml(recording_callback_url: str, languages: tuple[str, ...]) -> str:
    """Greet in the centre's language first, then ring every dispatcher's softphone, recording
    from the moment one answers. Built with the SDK so it is valid TwiML."""
    response = VoiceResponse()
    for language in languages:
        response.say(GREETING[language], language=language)
    dial = Dial(
        record="record-from-answer-dual",
        recording_status_callback=recording_callback_url,
        recording_status_callback_event="completed",
        timeout=600,
    )
    dial.client(settings.TWILIO_AGENT_CLIENT)
    response.append(dial)
    return str(response)


def greeting_languages() -> tuple[str, ...]:
    return ("en-US", "zh-CN") if settings.LANGUAGE_CODE.startswith("en") else ("zh-CN", "en-US")


# ---------------------------------------------------------------------------- SMS


class RedirectingHttpClient(TwilioHttpClient):
    """Sends what the SDK addresses to *.twilio.com to TWILIO_API_BASE_URL instead (an egress
    proxy, or a local server speaking Twilio's REST API in tests)."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method: str, url: str, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.endswith(".twilio.com"):
            url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


class TwilioSmsError(Exception):
    """`permanent`: Twilio refused the message itself (4xx other than 429), so resending the
    same message cannot succeed."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def rest_client() -> Client:
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise TwilioSmsError("Twilio is not configured (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN).")
    http_client = (
        RedirectingHttpClient(settings.TWILIO_API_BASE_URL, timeout=10)
        if settings.TWILIO_API_BASE_URL
        else TwilioHttpClient(timeout=10)
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def send_sms(to: str, body: str) -> str:
    """Send one SMS through Twilio's Messages API; the message SID, or TwilioSmsError."""
    if not settings.TWILIO_FROM_NUMBER:
        raise TwilioSmsError("TWILIO_FROM_NUMBER is empty.")
    try:
        message = rest_client().messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise TwilioSmsError(f"Twilio {exc.status} ({exc.code}): {exc.msg}", permanent) from exc
    except TwilioException as exc:
        raise TwilioSmsError(str(exc)) from exc
    except OSError as exc:  # connection refused, timeouts: requests' errors are OSErrors
        raise TwilioSmsError(f"Twilio unreachable: {exc}") from exc
    return message.sid


# ---------------------------------------------------------------------------- voice calls out


def job_call_twiml(speech: str, times: int = 2) -> str:
    """What the crew hears when it picks up: the job, read `times` times in Mandarin."""
    response = VoiceResponse()
    for n in range(times):
        if n:
            response.pause(length=1)
        response.say(speech, language="zh-CN")
    return str(response)


def place_call(to: str, twiml: str) -> str:
    """Ring `to` and play the TwiML through Twilio's Calls API; the call SID, or TwilioSmsError
    (the REST failures of both APIs are alike: permanent for a refused request)."""
    if not settings.TWILIO_FROM_NUMBER:
        raise TwilioSmsError("TWILIO_FROM_NUMBER is empty.")
    try:
        call = rest_client().calls.create(to=to, from_=settings.TWILIO_FROM_NUMBER, twiml=twiml)
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise TwilioSmsError(f"Twilio {exc.status} ({exc.code}): {exc.msg}", permanent) from exc
    except TwilioException as exc:
        raise TwilioSmsError(str(exc)) from exc
    except OSError as exc:
        raise TwilioSmsError(f"Twilio unreachable: {exc}") from exc
    return call.sid


# ---------------------------------------------------------------------------- calling back

# What a missed caller hears on picking up, before the dispatcher's softphone rings.
CALL_BACK_GREETING = "您好，这里是120急救指挥中心，回拨您刚才打来的电话。正在为您接通调度员，请不要挂机。"


def place_call_back(to: str, url: str) -> str:
    """Ring a missed caller back from the centre's number (TWILIO_FROM_NUMBER, so the phone shows
    the number the caller dialled into); when the caller picks up Twilio fetches `url` (a POST,
    signed) for what to do next: call_back_twiml. The call SID, or TwilioSmsError."""
    if not settings.TWILIO_FROM_NUMBER:
        raise TwilioSmsError("TWILIO_FROM_NUMBER is empty.", permanent=True)
    try:
        call = rest_client().calls.create(to=to, from_=settings.TWILIO_FROM_NUMBER, url=url, method="POST")
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise TwilioSmsError(f"Twilio {exc.status} ({exc.code}): {exc.msg}", permanent) from exc
    except TwilioException as exc:
        raise TwilioSmsError(str(exc)) from exc
    except OSError as exc:
        raise TwilioSmsError(f"Twilio unreachable: {exc}") from exc
    return call.sid


def call_back_twiml(dispatcher: str, call_back: int) -> str:
    """Greet the caller, then ring the softphones with the dispatcher who asked for the call back
    named in the client parameters (the softphones share one identity, TWILIO_AGENT_CLIENT: the
    one signed in as `dispatcher` answers it), recording from the answer as every call in is."""
    response = VoiceResponse()
    response.say(CALL_BACK_GREETING, language="zh-CN")
    dial = Dial(record="record-from-answer-dual", timeout=60)
    client = dial.client()
    client.identity(settings.TWILIO_AGENT_CLIENT)
    client.parameter(name="dispatcher", value=dispatcher)
    client.parameter(name="call_back", value=str(call_back))
    response.append(dial)
    return str(response)
