"""Tencent Cloud SMS (腾讯云短信, sms 2021-01-11 SendSms) through Tencent Cloud's SDK: the only
module that imports it. Requests are JSON POSTs signed TC3-HMAC-SHA256 with the secret key.

An error the whole request gets (a bad signature, a template not approved) comes back as
Response.Error and the SDK raises it; a number-level one as that number's Code in
SendStatusSet ("Ok" when accepted). Limits and the provider's own faults are retried by the
outbox; everything else would be refused again."""

from django.conf import settings
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from dispatch.calls.sms_providers import SmsError, scheme_and_host, template_param

TRANSIENT_PREFIXES = (
    "LimitExceeded",  # per-number frequency limits (30 s, 1 h, a day)
    "RequestLimitExceeded",
    "InternalError",
    "ServerNetworkError",
    "ClientNetworkError",
    "ResourceUnavailable",
    "FailedOperation.JsonParseFail",
)


def transient(code: str) -> bool:
    return code.startswith(TRANSIENT_PREFIXES)


def client() -> sms_client.SmsClient:
    missing = [
        name
        for name in (
            "TENCENT_SMS_SECRET_ID",
            "TENCENT_SMS_SECRET_KEY",
            "TENCENT_SMS_SDK_APP_ID",
            "TENCENT_SMS_SIGN_NAME",
            "TENCENT_SMS_TEMPLATE_ID",
        )
        if not getattr(settings, name)
    ]
    if missing:
        raise SmsError(f"Tencent Cloud SMS is not configured: {', '.join(missing)} empty.", permanent=True)
    scheme, host = scheme_and_host(settings.TENCENT_SMS_ENDPOINT)
    http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=10)
    cred = credential.Credential(settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY)
    return sms_client.SmsClient(cred, settings.TENCENT_SMS_REGION, ClientProfile(httpProfile=http))


def send(to: str, body: str) -> str:
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [to]  # E.164: +86 for the mainland
    request.SmsSdkAppId = settings.TENCENT_SMS_SDK_APP_ID
    request.SignName = settings.TENCENT_SMS_SIGN_NAME
    request.TemplateId = settings.TENCENT_SMS_TEMPLATE_ID
    request.TemplateParamSet = [template_param(body)]
    try:
        response = client().SendSms(request)
    except TencentCloudSDKException as exc:
        code = str(exc.code or "")
        raise SmsError(f"Tencent Cloud SMS {code}: {exc.message}", permanent=not transient(code)) from exc
    statuses = response.SendStatusSet or []
    if not statuses:
        raise SmsError("Tencent Cloud SMS answered without a send status.")
    status = statuses[0]
    code = status.Code or ""
    if code != "Ok":
        raise SmsError(f"Tencent Cloud SMS {code}: {status.Message}", permanent=not transient(code))
    return status.SerialNo or response.RequestId or ""
