"""SMS through mainland China's providers (SMS_PROVIDER=aliyun or tencent): the outbox worker
sends with each provider's real SDK to a local server that answers like the provider and
recomputes the request's signature; the message goes in as the template's parameter; refusals
that would be refused again fail the row, throttling and outages are retried."""

import pytest

from dispatch.calls.actions import queue_sms
from dispatch.core import outbox
from dispatch.models import Event, Outbox, OutboxStatus
from tests.support.fake_china_sms import SIGN_NAME, fake_aliyun, fake_tencent  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

TEXT = "救护车 T-ALS-1 已出发，约 6 分钟到达；请保持电话畅通 & 开门 <3 楼>。"


def sms_row(to: str = "+8613912345678", body: str = TEXT) -> Outbox:
    return Outbox.objects.create(channel="sms", recipient=to, payload={"body": body})


# --- Aliyun ----------------------------------------------------------------------------------


def test_aliyun_sends_the_text_as_the_template_parameter(world, fake_aliyun):  # noqa: F811
    row = queue_sms("+8613912345678", TEXT, actor=world.alice)
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    (sent,) = fake_aliyun.messages
    assert sent["to"] == "13912345678"  # mainland numbers without +86
    assert sent["param"] == TEXT and sent["sign"] == SIGN_NAME and sent["template"] == "SMS_480105001"
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == sent["id"]
    assert Event.objects.filter(kind="outbox.sent", data__outbox=row.pk).exists()


def test_aliyun_with_a_wrong_secret_is_refused_by_the_signature_check(world, settings, fake_aliyun):  # noqa: F811
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"
    row = sms_row()
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "SignatureDoesNotMatch" in row.last_error
    assert fake_aliyun.messages == [] and fake_aliyun.refused == ["SignatureDoesNotMatch"]


def test_aliyun_refuses_an_illegal_number_for_good(world, fake_aliyun):  # noqa: F811
    row = sms_row(to="+86123")
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "isv.MOBILE_NUMBER_ILLEGAL" in row.last_error


@pytest.mark.parametrize(
    "failure", [(200, "isv.BUSINESS_LIMIT_CONTROL"), (400, "Throttling.User"), (503, "ServiceUnavailable")]
)
def test_aliyun_throttling_and_outages_are_retried(world, fake_aliyun, failure):  # noqa: F811
    fake_aliyun.failures = [failure]
    row = sms_row()
    assert outbox.run_once() == {"sent": 0, "retry": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and failure[1] in row.last_error
    Outbox.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert outbox.run_once()["sent"] == 1 and len(fake_aliyun.messages) == 1


def test_aliyun_unconfigured_fails_with_what_is_missing(world, settings, fake_aliyun):  # noqa: F811
    settings.ALIYUN_SMS_TEMPLATE_CODE = ""
    row = sms_row()
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert "ALIYUN_SMS_TEMPLATE_CODE" in row.last_error and fake_aliyun.refused == []


def test_a_long_text_is_cut_to_the_templates_limit(world, settings, fake_aliyun):  # noqa: F811
    settings.SMS_TEMPLATE_PARAM_MAX_CHARS = 20
    sms_row()
    outbox.run_once()
    assert fake_aliyun.messages[0]["param"] == TEXT[:20]


# --- Tencent Cloud ---------------------------------------------------------------------------


def test_tencent_sends_the_text_as_the_template_parameter(world, fake_tencent):  # noqa: F811
    row = queue_sms("+8613912345678", TEXT, actor=world.alice)
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    (sent,) = fake_tencent.messages
    assert sent["to"] == "+8613912345678" and sent["param"] == [TEXT]
    assert sent["sign"] == SIGN_NAME and sent["template"] == "1985230"
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == sent["id"]


def test_tencent_with_a_wrong_secret_is_refused_by_the_signature_check(world, settings, fake_tencent):  # noqa: F811
    settings.TENCENT_SMS_SECRET_KEY = "not-the-secret"
    row = sms_row()
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert "AuthFailure.SignatureFailure" in row.last_error and fake_tencent.messages == []


def test_tencent_refuses_an_incorrect_number_for_good(world, fake_tencent):  # noqa: F811
    row = sms_row(to="+86123")
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert "InvalidParameterValue.IncorrectPhoneNumber" in row.last_error


def test_tencent_unapproved_template_fails_for_good(world, settings, fake_tencent):  # noqa: F811
    settings.TENCENT_SMS_TEMPLATE_ID = "1"
    row = sms_row()
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert "FailedOperation.TemplateIncorrectOrUnapproved" in row.last_error


@pytest.mark.parametrize(
    "failure",
    [
        (200, "LimitExceeded.PhoneNumberThirtySecondLimit"),
        (500, "InternalError.Timeout"),
        (500, "RequestLimitExceeded"),
    ],
)
def test_tencent_limits_and_outages_are_retried(world, fake_tencent, failure):  # noqa: F811
    fake_tencent.failures = [failure]
    row = sms_row()
    assert outbox.run_once() == {"sent": 0, "retry": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and failure[1] in row.last_error
    Outbox.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert outbox.run_once()["sent"] == 1 and len(fake_tencent.messages) == 1


def test_an_unknown_provider_is_a_clear_failure(world, settings):
    settings.SMS_PROVIDER = "pigeon"
    row = sms_row()
    outbox.run_once()
    row.refresh_from_db()
    assert "Unknown SMS_PROVIDER 'pigeon'" in row.last_error
