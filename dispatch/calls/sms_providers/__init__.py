"""SMS providers serving mainland China (Twilio does not): Aliyun SMS and Tencent Cloud SMS.

Both send only through a template the centre registered and had approved with the provider,
with a signature (签名) also approved: the message itself goes in as the template's one
parameter. Register a notification template (通知短信) whose text is only the variable, e.g.
Aliyun `${content}` (the parameter's name is ALIYUN_SMS_TEMPLATE_PARAM) or Tencent `{1}`, and
mind the provider's limit on a variable's length (SMS_TEMPLATE_PARAM_MAX_CHARS cuts longer text
rather than have it refused). Each module is the only one that imports its SDK (house style 7).
"""

from urllib.parse import urlsplit

from django.conf import settings

from dispatch.core.outbox import DeliveryError


class SmsError(DeliveryError):
    pass


def template_param(body: str) -> str:
    limit = settings.SMS_TEMPLATE_PARAM_MAX_CHARS
    return body[:limit] if limit > 0 else body


def scheme_and_host(endpoint: str) -> tuple[str, str]:
    """("https", "dysmsapi.aliyuncs.com") from the endpoint setting (a bare host means https)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    return parts.scheme or "https", parts.netloc


def mainland_number(to: str) -> str:
    """The providers take mainland numbers without +86 (Aliyun) or in E.164 (Tencent); a
    number that is neither is the provider's to refuse, with its own code."""
    return to[3:] if to.startswith("+86") else to.lstrip("+")
