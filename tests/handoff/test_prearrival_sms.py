"""A hospital with neither board nor FHIR endpoint gets the notice as one short SMS through the
SMS provider interface (the outbox's sms channel, the real twilio client against a local
server): minimal patient data, no name; once per hospital, not on every update."""

import pytest
from django.core.management import call_command

from dispatch.crew.actions import record_vitals
from dispatch.models import Outbox
from tests.support.er_helpers import notified
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_by_sms(world):
    world.county.has_board = False
    world.county.sms_number = "+8613700000120"
    world.county.save()
    world.als2.phone = "+8613900000002"
    world.als2.save()
    return world


def test_the_summary_goes_by_sms_without_the_name(county_by_sms, fake_twilio):  # noqa: F811
    world = county_by_sms
    notice = notified(
        world, world.als2, world.county, world.carol, complaint="跌倒 右髋痛", name="李女士", age=81, sex="F"
    )
    call_command("run_outbox", "--once")
    # The unit's phone may get its own crew alert by SMS; the hospital gets exactly one message.
    (sms,) = [m for m in fake_twilio.messages if m["To"] == "+8613700000120"]
    body = sms["Body"]
    assert "T-ALS-2" in body and "女81岁" in body and "跌倒 右髋痛" in body and "I级危重" in body
    assert "HR110" in body and "BP150/90" in body and "回电+8613900000002" in body
    assert notice.assignment.incident.number in body
    assert "李女士" not in body and len(body) <= 300
    record_vitals(notice.assignment, actor=world.carol, heart_rate=90)
    call_command("run_handoff", "--once")
    assert Outbox.objects.filter(channel="sms").count() == 1  # updates do not send more SMS


def test_a_hospital_with_a_board_gets_no_sms(world, fake_twilio):  # noqa: F811
    world.city.sms_number = "+8613700000999"
    world.city.save()
    notified(world, world.als1, world.city, world.carol)
    assert not Outbox.objects.filter(channel="sms").exists()
