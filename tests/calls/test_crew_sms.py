"""The "crew_sms" outbox channel (the escalation writes it when nobody acknowledged a job):
recipient the unit's phone in E.164, payload {"assignment", "unit", "body"}; the body is sent
as it is, through the configured SMS provider."""

import pytest

from dispatch.core import outbox
from dispatch.models import Outbox, OutboxStatus
from tests.support.fake_china_sms import fake_aliyun  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

BODY = "【120】T-ALS-1 未确认任务 20261206-0001，请立即确认出车！"


def crew_sms(world, recipient: str = "+8613900000001", body: str = BODY) -> Outbox:
    return Outbox.objects.create(
        channel="crew_sms",
        recipient=recipient,
        payload={"assignment": 1, "unit": world.als1.pk, "body": body},
    )


def test_crew_sms_is_sent_to_the_unit_phone(world, fake_twilio):  # noqa: F811
    row = crew_sms(world)
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    (sent,) = fake_twilio.messages
    assert sent["To"] == "+8613900000001" and sent["Body"] == BODY
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == sent["sid"]


def test_crew_sms_goes_through_the_configured_provider(world, fake_aliyun):  # noqa: F811
    crew_sms(world)
    assert outbox.run_once()["sent"] == 1
    (sent,) = fake_aliyun.messages
    assert sent["to"] == "13900000001" and sent["param"] == BODY


@pytest.mark.parametrize("recipient", ["13900000001", "T-ALS-1", "", "+0123456"])
def test_a_recipient_that_is_not_e164_fails_for_good(world, fake_twilio, recipient):  # noqa: F811
    row = crew_sms(world, recipient=recipient)
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "E.164" in row.last_error
    assert fake_twilio.messages == []


def test_a_crew_sms_without_a_body_fails_for_good(world, fake_twilio):  # noqa: F811
    row = crew_sms(world, body="  ")
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert "no body" in row.last_error and fake_twilio.messages == []


def test_a_provider_outage_is_retried(world, fake_twilio):  # noqa: F811
    fake_twilio.failures = [503]
    row = crew_sms(world)
    assert outbox.run_once()["retry"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
