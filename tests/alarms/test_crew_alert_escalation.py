"""A job nobody acknowledges escalates: 30 s after dispatch one SMS and one voice call to the
unit's phone (outbox rows "crew_sms" and "crew_voice"), each step an event on the incident's
timeline, exactly once even with two scanners at once; none when the crew acknowledged, the unit
was stood down or cleared meanwhile; a unit without a phone gets a line on the timeline, once.
The delays are the centre's to change (CREW_ALERT_SMS_AFTER_SECONDS, ..._VOICE_...)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from dispatch.alarms.scanner import escalate
from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Event, Outbox
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import job

PHONE = "+8613911112222"


@pytest.fixture(autouse=True)
def delays(settings):
    settings.CREW_ALERT_SMS_AFTER_SECONDS = 30
    settings.CREW_ALERT_VOICE_AFTER_SECONDS = 30
    settings.TARGET_UNIT_ACK_SECONDS = 60


def with_phone(unit, phone: str = PHONE):
    Unit.objects.filter(pk=unit.pk).update(phone=phone)  # reference data, as the admin edits it
    unit.refresh_from_db()
    return unit


def escalate_after(assignment, seconds: float) -> dict[str, int]:
    return escalate(now=assignment.dispatched_at + timedelta(seconds=seconds))


def escalations(assignment) -> list[Event]:
    return list(
        Event.objects.filter(kind="assignment.escalated", data__assignment=assignment.pk).order_by("seq")
    )


@pytest.mark.django_db
def test_thirty_seconds_unacknowledged_writes_one_sms_and_one_voice_row_with_timeline_lines(world):
    with_phone(world.als1)
    a = job(world, world.als1, hospital=world.city)
    assert escalate_after(a, 29) == {"sms": 0, "voice": 0, "no_phone": 0}
    assert not Outbox.objects.filter(channel__in=["crew_sms", "crew_voice"]).exists()
    assert escalate_after(a, 31) == {"sms": 1, "voice": 1, "no_phone": 0}
    assert escalate_after(a, 45) == {"sms": 0, "voice": 0, "no_phone": 0}  # once, not once a pass

    sms = Outbox.objects.get(channel="crew_sms")
    assert sms.recipient == PHONE and sms.incident_id == a.incident_id
    assert set(sms.payload) == {"assignment", "unit", "body"}
    assert (sms.payload["assignment"], sms.payload["unit"]) == (a.pk, world.als1.pk)
    body = sms.payload["body"]
    for part in (a.incident.number, "明湾市滨海路 88 号", "T-ALS-1", "1级", "priority 1"):
        assert part in body, (part, body)
    assert body.index("请立即确认") < body.index("Acknowledge it")  # Chinese first, English too

    voice = Outbox.objects.get(channel="crew_voice")
    assert voice.recipient == PHONE and voice.payload["assignment"] == a.pk
    assert "明湾市滨海路 88 号" in voice.payload["speech"] and "胸痛" in voice.payload["speech"]

    steps = escalations(a)
    assert [e.data["step"] for e in steps] == ["sms", "voice"]
    for event in steps:
        assert (
            event.incident_id == a.incident_id
            and event.unit_id == world.als1.pk
            and event.hospital_id is None
        )
    assert steps[0].data["text_en"] == "SMS sent to T-ALS-1 (not acknowledged after 30 s)"
    assert steps[0].data["text"] == "已向 T-ALS-1 发送短信（派车 30 秒未确认）"
    assert steps[1].data["text_en"] == "Voice call to T-ALS-1 (not acknowledged after 30 s)"
    assert steps[0].data["outbox"] == sms.pk and steps[1].data["outbox"] == voice.pk


@pytest.mark.django_db
def test_the_centre_changes_the_delays(world, settings):
    settings.CREW_ALERT_SMS_AFTER_SECONDS, settings.CREW_ALERT_VOICE_AFTER_SECONDS = 20, 45
    with_phone(world.als1)
    a = job(world, world.als1)
    assert escalate_after(a, 21) == {"sms": 1, "voice": 0, "no_phone": 0}
    assert escalate_after(a, 44) == {"sms": 0, "voice": 0, "no_phone": 0}
    assert escalate_after(a, 46) == {"sms": 0, "voice": 1, "no_phone": 0}
    assert [e.data["after_s"] for e in escalations(a)] == [20, 45]


@pytest.mark.django_db
def test_acknowledged_stood_down_or_cleared_before_thirty_seconds_escalates_nothing(world):
    for unit in (world.als1, world.als2, world.bls1):
        with_phone(unit)
    acknowledged = job(world, world.als1)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=None)
    stood_down = job(world, world.als2)
    cancel_assignment(stood_down, actor=world.alice, reason="误派")
    rolled = job(world, world.bls1)  # en route without tapping "acknowledged" first
    set_unit_status(world.bls1, UnitStatus.EN_ROUTE, actor=None)
    for a in (acknowledged, stood_down, rolled):
        escalate_after(a, 31)
        escalate_after(a, 300)
    assert not Outbox.objects.filter(channel__in=["crew_sms", "crew_voice"]).exists()
    assert not Event.objects.filter(kind="assignment.escalated").exists()


@pytest.mark.django_db
def test_a_unit_without_a_phone_says_so_on_the_timeline_once(world):
    with_phone(world.als1, "")
    a = job(world, world.als1)
    assert escalate_after(a, 31) == {"sms": 0, "voice": 0, "no_phone": 1}
    assert escalate_after(a, 50) == {"sms": 0, "voice": 0, "no_phone": 0}
    (event,) = escalations(a)
    assert event.data["step"] == "no_phone" and event.data["outbox"] is None
    assert event.data["text_en"] == "T-ALS-1 has no phone: no SMS or voice call (not acknowledged)"
    assert not Outbox.objects.filter(channel__in=["crew_sms", "crew_voice"]).exists()


@pytest.mark.django_db(transaction=True)
def test_two_scanners_at_once_take_each_step_exactly_once(world):
    units = [with_phone(u, f"+86139000000{n}") for n, u in enumerate((world.als1, world.als2, world.bls1))]
    jobs = [job(world, unit) for unit in units]
    at = max(a.dispatched_at for a in jobs) + timedelta(seconds=31)
    start = threading.Barrier(2)
    results: list[dict] = []

    def scanner() -> None:
        try:
            start.wait()
            results.append(escalate(now=at))
        finally:
            connection.close()

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sms"] for r in results) == 3 and sum(r["voice"] for r in results) == 3
    for a in jobs:
        rows = Outbox.objects.filter(payload__assignment=a.pk, channel__startswith="crew_").exclude(
            channel="crew_alert"
        )
        assert sorted(rows.values_list("channel", flat=True)) == ["crew_sms", "crew_voice"]
        assert [e.data["step"] for e in escalations(a)] == ["sms", "voice"]


@pytest.mark.django_db
def test_the_alarm_scanner_loop_escalates(world, settings):
    settings.CREW_ALERT_SMS_AFTER_SECONDS = settings.CREW_ALERT_VOICE_AFTER_SECONDS = 0
    with_phone(world.als1)
    a = job(world, world.als1)
    call_command("run_alarm_scanner", "--once")
    rows = Outbox.objects.filter(payload__assignment=a.pk, channel__in=["crew_sms", "crew_voice"])
    assert sorted(rows.values_list("channel", flat=True)) == [
        "crew_sms",
        "crew_voice",
    ]
