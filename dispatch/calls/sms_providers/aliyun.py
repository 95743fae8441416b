"""Aliyun SMS (阿里云短信服务, Dysmsapi 2017-05-25 SendSms) through Alibaba Cloud's SDK: the only
module that imports it. Requests are signed ACS3-HMAC-SHA256 with the access key secret.

SendSms answers HTTP 200 with Code "OK" and a BizId, or with a business error code: a number,
signature or template the provider refuses is permanent; throttling and the provider's own
faults are retried by the outbox."""

import json

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from dispatch.calls.sms_providers import SmsError, mainland_number, scheme_and_host, template_param

# Codes worth another try later; every other refusal would be refused again.
TRANSIENT = {
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number frequency control (1 a minute, 5 an hour...)
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",
}


def transient(code: str, status: int | None = None) -> bool:
    return code in TRANSIENT or code.startswith("Throttling") or (status or 0) >= 500


def client() -> Client:
    missing = [
        name
        for name in (
            "ALIYUN_SMS_ACCESS_KEY_ID",
            "ALIYUN_SMS_ACCESS_KEY_SECRET",
            "ALIYUN_SMS_SIGN_NAME",
            "ALIYUN_SMS_TEMPLATE_CODE",
        )
        if not getattr(settings, name)
    ]
    if missing:
        raise SmsError(f"Aliyun SMS is not configured: {', '.join(missing)} empty.", permanent=True)
    scheme, host = scheme_and_host(settings.ALIYUN_SMS_ENDPOINT)
    config = Config(
        access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
        access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        region_id=settings.ALIYUN_SMS_REGION,
        endpoint=host,
        protocol=scheme,
        connect_timeout=5000,
        read_timeout=10000,
    )
    return Client(config)


def send(to: str, body: str) -> str:
    request = models.SendSmsRequest(
        phone_numbers=mainland_number(to),
        sign_name=settings.ALIYUN_SMS_SIGN_NAME,
        template_code=settings.ALIYUN_SMS_TEMPLATE_CODE,
        template_param=json.dumps(
            {settings.ALIYUN_SMS_TEMPLATE_PARAM: template_param(body)}, ensure_ascii=False
        ),
    )
    try:
        response = client().send_sms_with_options(request, RuntimeOptions())
    except AlibabaCloudException as exc:
        code = str(exc.code or "")
        status = getattr(exc, "status_code", None)
        raise SmsError(
            f"Aliyun SMS {status or ''} {code}: {exc.message}", permanent=not transient(code, status)
        ) from exc
    answer = response.body
    if answer is None or answer.code != "OK":
        code = (answer.code if answer else "") or ""
        message = (answer.message if answer else "") or "no answer"
        raise SmsError(f"Aliyun SMS {code}: {message}", permanent=not transient(code))
    return answer.biz_id or answer.request_id or ""
