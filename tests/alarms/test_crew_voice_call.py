"""The crew alert's voice call ("crew_voice" outbox rows, dispatch/calls/telephony/voice.py):
the real twilio client places it through Twilio's Calls API (a local server speaking it) with
TwiML that says the job twice in Mandarin; a refused number fails for good at once; a PBX, which
has no outbound-call API, fails the row at once saying so, on the incident's timeline."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from dispatch.alarms.scanner import escalate
from dispatch.models import Event, Outbox, OutboxStatus
from fleet.models import Unit
from tests.support.calls_helpers import ACCOUNT
from tests.support.crew_tablet import job
from tests.support.fake_twilio_calls import fake_twilio_calls  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def voice_row(world, phone: str) -> Outbox:
    Unit.objects.filter(pk=world.als1.pk).update(phone=phone)
    a = job(world, world.als1, complaint="胸痛 <持续> & 出汗")
    escalate(now=a.dispatched_at + timedelta(seconds=31))
    return Outbox.objects.get(channel="crew_voice", payload__assignment=a.pk)


def deliver_voice() -> None:
    # The dispatch's crew alert and the step's SMS have their own senders: only the call here.
    Outbox.objects.exclude(channel="crew_voice").delete()
    call_command("run_outbox", "--once")


def test_twilio_places_the_call_and_reads_the_job_twice_in_mandarin(world, fake_twilio_calls):  # noqa: F811
    row = voice_row(world, "+8613911112222")
    deliver_voice()
    (call,) = fake_twilio_calls.messages
    assert call["To"] == "+8613911112222" and call["From"] == "+15005550006"
    says = ElementTree.fromstring(call["Twiml"]).findall("Say")
    assert len(says) == 2 and {s.get("language") for s in says} == {"zh-CN"}
    assert says[0].text == says[1].text == row.payload["speech"]
    assert "T-ALS-1" in says[0].text and "胸痛 <持续> & 出汗" in says[0].text  # escaped in, read back whole
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == call["sid"]
    assert Event.objects.filter(kind="outbox.sent", data__outbox=row.pk, incident=row.incident).count() == 1
    assert fake_twilio_calls.account == ACCOUNT


def test_a_number_twilio_refuses_fails_at_once(world, fake_twilio_calls):  # noqa: F811
    row = voice_row(world, "013911112222")  # not E.164: Twilio answers 400
    deliver_voice()
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == 1 and "21211" in row.last_error
    assert fake_twilio_calls.messages == []


def test_an_outage_is_retried(world, fake_twilio_calls):  # noqa: F811
    fake_twilio_calls.failures = [503]
    row = voice_row(world, "+8613911112222")
    deliver_voice()
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and row.next_attempt_at > row.created_at


def test_a_pbx_cannot_place_calls_and_the_timeline_says_so(world, settings):
    settings.VOICE_PROVIDER = "pbx"
    row = voice_row(world, "+8613911112222")
    deliver_voice()
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    assert "cannot place calls" in row.last_error
    failed = Event.objects.get(kind="outbox.failed", data__outbox=row.pk)
    assert failed.incident_id == row.incident_id and failed.data["channel"] == "crew_voice"
