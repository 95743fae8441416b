"""The outbox's "crew_voice" channel: a voice call to a unit's phone that reads the job out,
written by the crew alert's escalation (dispatch/alarms/scanner.py) when nobody acknowledged it.

The provider is VOICE_PROVIDER: Twilio places the call through its Calls API with TwiML that
says the job twice in Mandarin; the PBX webhook (pbx.py) only reports calls in and has no API to
place one, so a row for it fails at once, permanently, saying so (the timeline shows the
failure, and the SMS and the console alarm still stand).
"""

from django.conf import settings

from dispatch.core.outbox import DeliveryError, register
from dispatch.models import Outbox


class VoiceError(DeliveryError):
    pass


def twilio(to: str, speech: str) -> str:
    from dispatch.calls.telephony import twilio_adapter  # the SDK loads only where Twilio is used

    try:
        return twilio_adapter.place_call(to, twilio_adapter.job_call_twiml(speech))
    except twilio_adapter.TwilioSmsError as exc:
        raise VoiceError(str(exc), permanent=exc.permanent) from exc


def pbx(to: str, speech: str) -> str:
    raise VoiceError(
        "The telephony provider (PBX) cannot place calls: it has no outbound-call API.", permanent=True
    )


PROVIDERS = {"twilio": twilio, "pbx": pbx}


def send_row(row: Outbox) -> str:
    speech = row.payload.get("speech", "")
    if not speech:
        raise VoiceError("The outbox row has nothing to say.", permanent=True)
    provider = PROVIDERS.get(settings.VOICE_PROVIDER)
    if provider is None:
        raise VoiceError(f"Unknown VOICE_PROVIDER {settings.VOICE_PROVIDER!r}.", permanent=True)
    return provider(row.recipient, speech)


register("crew_voice", send_row)
