"""A call answered on a handset no dispatcher is signed in on (the PBX names nobody) is not lost
to the console: it is listed, a dispatcher takes it over (once: the first wins), and it becomes
that dispatcher's call with an incident that keeps the ring and the handset's answer time; the
recording that comes later reaches that incident's timeline. An ended one can be taken over for
TAKEOVER_MINUTES; a missed call (never answered) cannot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.calls.actions import TAKEOVER_MINUTES
from dispatch.models import Call, CallStatus, Event, Incident
from tests.support.calls_helpers import PBX_SECRET, pbx_post
from tests.support.crew_tablet import signed_in

RING = {"event": "ringing", "call_id": "1733050000.77", "from": "13912345678", "to": "120"}


@pytest.fixture(autouse=True)
def pbx(settings):
    settings.PBX_SHARED_SECRET = PBX_SECRET


def on_a_handset(ended: bool = False) -> Call:
    pbx_post({**RING, "at": "2026-12-01T12:00:00+08:00"})
    pbx_post({**RING, "event": "answered", "at": "2026-12-01T12:00:09+08:00"})  # no agent: nobody signed in
    if ended:
        pbx_post({**RING, "event": "ended"})
    call = Call.objects.get()
    assert call.answered_by is None and call.answered_at is not None
    return call


def take(user, call: Call):
    return signed_in(user).post(f"/api/calls/{call.pk}/take")


def test_the_console_lists_it_and_takes_it_over_with_its_times(world):
    call = on_a_handset()
    live = signed_in(world.alice).get("/api/calls/live").json()
    assert [(c["id"], c["status"], c["answered_by"]) for c in live] == [(call.pk, "answered", None)]
    response = take(world.alice, call)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["answered_by"], body["incident_number"] != "") == (world.alice.pk, True)
    incident = Incident.objects.get(call=call)
    assert incident.caller_number == "+8613912345678"
    assert incident.call_received_at.isoformat() == "2026-12-01T04:00:00+00:00"  # the ring
    assert incident.call_answered_at.isoformat() == "2026-12-01T04:00:09+00:00"  # the handset's answer
    answered = Event.objects.filter(kind="call.answered", incident=incident).get()
    assert answered.actor == world.alice


def test_the_recording_reaches_the_incidents_timeline(world):
    call = on_a_handset()
    take(world.alice, call)
    pbx_post({**RING, "event": "ended"})
    pbx_post({**RING, "event": "recording", "recording_url": "https://pbx.example/rec/77.wav"})
    incident = Incident.objects.get(call=call)
    timeline = signed_in(world.alice).get(f"/api/incidents/{incident.pk}/timeline").json()
    recording = [e for e in timeline if e["kind"] == "call.recording"]
    assert [e["data"]["recording_url"] for e in recording] == ["https://pbx.example/rec/77.wav"]


def test_only_the_first_dispatcher_takes_it_over(world):
    call = on_a_handset()
    assert take(world.bob, call).status_code == 200
    second = take(world.alice, call)
    assert second.status_code == 409 and second.json()["code"] == "call_taken"
    assert Incident.objects.filter(call=call).count() == 1
    assert Call.objects.get().answered_by == world.bob


def test_an_ended_call_is_taken_over_for_a_while(world):
    call = on_a_handset(ended=True)
    assert [c["id"] for c in signed_in(world.alice).get("/api/calls/live").json()] == [call.pk]
    assert take(world.alice, call).status_code == 200
    assert Call.objects.get().status == CallStatus.ENDED and Incident.objects.filter(call=call).exists()


def test_not_after_the_while(world):
    call = on_a_handset(ended=True)
    Call.objects.filter(pk=call.pk).update(ended_at=timezone.now() - timedelta(minutes=TAKEOVER_MINUTES + 1))
    assert signed_in(world.alice).get("/api/calls/live").json() == []
    response = take(world.alice, call)
    assert response.status_code == 409 and not Incident.objects.exists()


def test_a_missed_call_is_not_taken(world):
    pbx_post(RING)
    pbx_post({**RING, "event": "ended"})
    call = Call.objects.get()
    assert call.status == CallStatus.MISSED
    assert take(world.alice, call).status_code == 409 and not Incident.objects.exists()


@pytest.mark.parametrize("who", ["carol", "dave", "erin"])
def test_only_dispatchers_take_it_over(world, who):
    call = on_a_handset()
    assert take(getattr(world, who), call).status_code == 403
    assert Call.objects.get().answered_by is None and not Incident.objects.exists()
