"""Acknowledging a job on the station screen: one event on the incident's timeline ("station
acknowledged", by the screen), once however often it is pressed; refused for a job stood down;
and it is the station's acknowledgement, not the crew's (the unit's acknowledged time stays
empty, so the escalation and the console's alarm still follow an unanswered crew)."""

from datetime import timedelta

import pytest
from django.test import Client

from dispatch.alarms.scanner import escalate
from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Assignment, Event, Outbox
from fleet.models import Unit
from tests.support.station_screens import screen, sent

pytestmark = pytest.mark.django_db


def press(client: Client, assignment) -> tuple[int, dict]:
    response = client.post(f"/api/station/assignments/{assignment.pk}/acknowledge", HTTP_ACCEPT_LANGUAGE="en")
    return response.status_code, response.json()


def test_pressing_twice_on_two_screens_records_one_acknowledgement(world):
    first, second = Client(), Client()
    first.force_login(screen(world.north))
    second.force_login(screen(world.north, "screen-garage-2"))
    a = sent(world, world.als1)
    status, job = press(first, a)
    assert status == 200 and job["station_acknowledged_by"] == "大屏" and job["station_acknowledged_at"]
    assert press(second, a)[1]["station_acknowledged_at"] == job["station_acknowledged_at"]
    (event,) = Event.objects.filter(kind="assignment.station_acknowledged")
    assert (event.incident_id, event.unit_id, event.hospital_id) == (a.incident_id, world.als1.pk, None)
    assert event.actor.username == "screen-n1" and event.data["assignment"] == a.pk
    board = first.get("/api/station/board").json()
    assert board["jobs"][0]["station_acknowledged_at"] == job["station_acknowledged_at"]


def test_the_station_acknowledging_is_not_the_crews(world, settings):
    settings.CREW_ALERT_SMS_AFTER_SECONDS = settings.CREW_ALERT_VOICE_AFTER_SECONDS = 30
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613911112222")
    client = Client()
    client.force_login(screen(world.north))
    a = sent(world, world.als1)
    assert press(client, a)[0] == 200
    assert Assignment.objects.get(pk=a.pk).acknowledged_at is None
    escalate(now=a.dispatched_at + timedelta(seconds=31))
    assert Outbox.objects.filter(channel__in=["crew_sms", "crew_voice"]).count() == 2


def test_a_job_stood_down_cannot_be_acknowledged(world):
    client = Client()
    client.force_login(screen(world.north))
    a = sent(world, world.als1)
    cancel_assignment(a, actor=world.alice, reason="误派")
    status, body = press(client, a)
    assert status == 404  # no longer one of the station's jobs
    assert not Event.objects.filter(kind="assignment.station_acknowledged").exists()
