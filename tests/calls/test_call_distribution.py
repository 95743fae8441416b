"""A ringing call reaches every dispatcher; the first to take it owns it (race-safe), and the
incident it opens carries the call's ring and answer times."""

import threading
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import record_call_event, record_caller_location, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.core.actions import ActionError
from dispatch.incidents.actions import create_incident
from dispatch.models import Call, Event, Incident
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("migrated_data_back")


def ring(call_id: str = "c1", caller: str = "+8613912345678", ago_s: float = 4) -> Call:
    at = timezone.now() - timedelta(seconds=ago_s)
    return record_call_event(CallEvent("pbx", call_id, CallEventKind.RINGING, at, caller=caller))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_take_the_same_call_one_wins(world):
    call = ring()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def take(user) -> None:
        barrier.wait()
        try:
            take_call(Call.objects.get(pk=call.pk), actor=user)
            results[user.username] = "won"
        except ActionError as exc:
            results[user.username] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in (world.alice, world.bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["call_taken", "won"]
    call.refresh_from_db()
    winner = world.alice if results["alice"] == "won" else world.bob
    assert call.answered_by == winner and call.status == "answered"
    assert Incident.objects.filter(call=call).count() == 1
    assert Event.objects.filter(kind="call.answered").count() == 1


@pytest.mark.django_db
def test_loser_gets_409_with_who_took_it(world):
    call = ring()
    assert client_for(world.alice).post(f"/api/calls/{call.pk}/take").status_code == 200
    response = client_for(world.bob).post(f"/api/calls/{call.pk}/take")
    assert response.status_code == 409
    assert "alice" in response.json()["error"]


@pytest.mark.django_db
def test_incident_carries_ring_and_answer_times(world):
    call = ring(ago_s=6)
    take_call(call, actor=world.alice)
    incident = Incident.objects.get(call=call)
    assert incident.call_received_at == call.ringing_at
    assert incident.call_answered_at == call.answered_at
    assert 5.5 < (incident.call_answered_at - incident.call_received_at).total_seconds() < 30
    assert incident.caller_number == "+8613912345678" and incident.created_by == world.alice


@pytest.mark.django_db
def test_live_calls_and_caller_context_for_the_console(world):
    old = create_incident(actor=world.alice, caller_number="13912345678", chief_complaint="胸痛")
    near = create_incident(
        actor=world.alice,
        location=Point(119.601, 24.951, srid=4326),
        location_source="pin",
        chief_complaint="跌倒",
    )
    call = ring()
    record_caller_location(
        source="aml",
        point=Point(119.6012, 24.9512, srid=4326),
        accuracy_m=12,
        caller_number="+8613912345678",
        call=call,
    )
    alice = client_for(world.alice)
    live = alice.get("/api/calls/live").json()
    assert [c["id"] for c in live] == [call.pk] and live[0]["status"] == "ringing"
    detail = alice.get(f"/api/calls/{call.pk}").json()
    assert [i["id"] for i in detail["history"]] == [old.pk]  # typed without +86, still matched
    assert [i["id"] for i in detail["nearby"]] == [near.pk]
    assert detail["locations"][0]["accuracy_m"] == 12


@pytest.mark.django_db
def test_only_the_control_room_sees_calls(world):
    call = ring()
    for user in (world.carol, world.dave):  # a crew member, hospital staff
        client = client_for(user)
        assert client.get("/api/calls/live").status_code == 403
        assert client.get(f"/api/calls/{call.pk}").status_code == 403
        assert client.post(f"/api/calls/{call.pk}/take").status_code == 403
    assert Client().get("/api/calls/live").status_code == 401
    call.refresh_from_db()
    assert call.status == "ringing"


@pytest.mark.django_db
def test_an_ended_call_cannot_be_taken(world):
    call = ring()
    record_call_event(CallEvent("pbx", "c1", CallEventKind.ENDED, timezone.now()))
    with pytest.raises(ActionError) as refused:
        take_call(Call.objects.get(pk=call.pk), actor=world.alice)
    assert (refused.value.code, refused.value.status) == ("call_taken", 409) and refused.value.message
    assert not Incident.objects.exists()
