"""The SMS provider interface: the outbox's "sms" channel sends through the configured
provider (SMS_PROVIDER: Twilio, or for mainland China Aliyun or Tencent Cloud, which send only
through a registered template, the message as its parameter: dispatch/calls/sms_providers/). A
provider is a function (to, body) -> reference that raises SmsError; adding one is a function and
a line in PROVIDERS."""

from collections.abc import Callable

from django.conf import settings

from dispatch.calls.sms_providers import SmsError
from dispatch.core.outbox import register
from dispatch.models import Outbox

__all__ = ["PROVIDERS", "SmsError", "send", "send_row"]


def twilio(to: str, body: str) -> str:
    from dispatch.calls.telephony import twilio_adapter  # the SDK loads only where Twilio is used

    try:
        return twilio_adapter.send_sms(to, body)
    except twilio_adapter.TwilioSmsError as exc:
        raise SmsError(str(exc), permanent=exc.permanent) from exc


def aliyun(to: str, body: str) -> str:
    from dispatch.calls.sms_providers import aliyun  # each SDK loads only where it is used

    return aliyun.send(to, body)


def tencent(to: str, body: str) -> str:
    from dispatch.calls.sms_providers import tencent

    return tencent.send(to, body)


PROVIDERS: dict[str, Callable[[str, str], str]] = {"twilio": twilio, "aliyun": aliyun, "tencent": tencent}


def send(to: str, body: str) -> str:
    try:
        provider = PROVIDERS[settings.SMS_PROVIDER]
    except KeyError as exc:
        raise SmsError(f"Unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}.") from exc
    return provider(to, body)


def send_row(row: Outbox) -> str:
    body = row.payload.get("body", "")
    if not body:
        raise SmsError("The outbox row has no message body.", permanent=True)
    return send(row.recipient, body)


register("sms", send_row)
