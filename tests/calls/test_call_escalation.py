"""A call nobody answers within CALL_ESCALATION_SECONDS (10 s by default) is escalated to the
supervisors once, even with several escalation loops running."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dispatch.calls.actions import escalate_unanswered_calls, record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Call, Event
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("migrated_data_back")


def ring(call_id: str, ago_s: float) -> Call:
    at = timezone.now() - timedelta(seconds=ago_s)
    return record_call_event(CallEvent("pbx", call_id, CallEventKind.RINGING, at, caller="+8613900000001"))


def escalated_ids() -> list[int]:
    return sorted(Event.objects.filter(kind="call.escalated").values_list("data__id", flat=True))


@pytest.mark.django_db
def test_default_is_ten_seconds(settings):
    assert settings.CALL_ESCALATION_SECONDS == 10
    late, fresh = ring("late", 11), ring("fresh", 5)
    assert [c.pk for c in escalate_unanswered_calls()] == [late.pk]
    assert escalated_ids() == [late.pk]
    assert Call.objects.get(pk=fresh.pk).escalated_at is None
    event = Event.objects.get(kind="call.escalated")
    assert event.data["waited_s"] >= 11


@pytest.mark.django_db
def test_configurable_and_answered_calls_are_left_alone(settings, world):
    settings.CALL_ESCALATION_SECONDS = 30
    answered, waiting = ring("answered", 40), ring("waiting", 40)
    ring("young", 20)
    take_call(answered, actor=world.alice)
    assert [c.pk for c in escalate_unanswered_calls()] == [waiting.pk]
    assert escalate_unanswered_calls() == []  # the second pass finds nothing new


@pytest.mark.django_db(transaction=True)
def test_two_loops_escalate_each_call_once(world):
    calls = [ring(f"c{n}", 15) for n in range(5)]
    barrier = threading.Barrier(2)

    def loop() -> None:
        barrier.wait()
        try:
            escalate_unanswered_calls()
        finally:
            connection.close()

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert escalated_ids() == sorted(c.pk for c in calls)


@pytest.mark.django_db
def test_the_command_escalates(capsys):
    call = ring("cmd", 12)
    call_command("run_call_escalation", "--once")
    assert f"escalated call {call.pk}" in capsys.readouterr().out
    assert Call.objects.get(pk=call.pk).escalated_at is not None
