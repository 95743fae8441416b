"""Missed and abandoned calls called back (dispatch/calls/callbacks.py): the list holds the
calls that rang out unanswered, one click places the call through the provider the call came
in on (the real twilio client against a local Twilio, or the PBX's click-to-call), the outcome
is chosen after, a failure writes nothing and leaves the call listed."""

from datetime import timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import CallBack, Event, Seat, SeatSession
from tests.support.calls_helpers import twilio_post
from tests.support.fake_pbx import fake_pbx  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.missed_calls import call_back, client_for, missed_call, outcome

pytestmark = pytest.mark.django_db

ODD = "+86139<&>'\"12"  # a number as odd as a network may send: it is only ever text


def listed(user) -> list[dict]:
    response = client_for(user).get("/api/call-backs")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_list_holds_unanswered_calls_with_a_number_oldest_first(world):
    now = timezone.now()
    late = missed_call("CA-late", "+8613900000002", rang_at=now - timedelta(minutes=5), waited_s=12.5)
    early = missed_call("CA-early", "+8613900000001", rang_at=now - timedelta(minutes=20), waited_s=61)
    missed_call("CA-withheld", "", rang_at=now - timedelta(minutes=3))  # no number: nothing to call
    missed_call("CA-old", "+8613900000003", rang_at=now - timedelta(hours=30))  # before the window
    ringing = CallEvent("twilio", "CA-ok", CallEventKind.RINGING, now, caller="+8613900000004")
    answered = record_call_event(ringing)
    take_call(answered, actor=world.alice)
    record_call_event(CallEvent("twilio", "CA-ok", CallEventKind.ENDED, now + timedelta(seconds=90)))

    rows = listed(world.alice)
    assert [r["id"] for r in rows] == [early.pk, late.pk]
    assert rows[0]["caller_number"] == "+8613900000001" and rows[0]["waited_s"] == 61.0
    assert rows[1]["waited_s"] == 12.5 and rows[1]["attempts"] == 0 and rows[1]["calling"] is None
    assert listed(world.bob) == rows  # supervisors see it too


def test_twilio_rings_the_caller_from_the_centre_number_and_connects_the_dispatcher(world, fake_twilio):  # noqa: F811
    call = missed_call("CA-m1", "+8613911112222")
    response = call_back(world.alice, call)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attempts"] == 1 and body["calling"]["by_name"] == "alice"
    assert body["call_back"]["outcome"] == ""

    (placed,) = fake_twilio.calls
    attempt = CallBack.objects.get()
    assert placed["To"] == "+8613911112222" and placed["From"] == "+15005550006"
    assert placed["Url"] == f"http://testserver/api/telephony/twilio/call-back/{attempt.pk}"
    assert placed["Method"] == "POST" and "Twiml" not in placed
    assert attempt.provider == "twilio" and attempt.provider_call_id == placed["sid"]
    assert attempt.by == world.alice
    event = Event.objects.get(kind="call.back_placed")
    assert event.actor == world.alice
    assert event.incident is None and event.unit is None and event.hospital is None
    assert event.data["id"] == call.pk and event.data["call_back"]["id"] == attempt.pk

    # Twilio fetches the Url, signed, when the caller picks up: greet, then ring the softphones
    # with the dispatcher who asked named.
    path = urlsplit(placed["Url"]).path
    answer = twilio_post(path, {"CallSid": placed["sid"], "CallStatus": "in-progress", "To": placed["To"]})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/xml")
    twiml = ElementTree.fromstring(answer.content)
    assert twiml.find("Say").get("language") == "zh-CN"
    client = twiml.find("Dial/Client")
    assert client.find("Identity").text == "dispatch"
    assert {p.get("name"): p.get("value") for p in client.findall("Parameter")} == {
        "dispatcher": "alice",
        "call_back": str(attempt.pk),
    }
    unsigned = client_for(world.alice).post(path, {"CallSid": placed["sid"]})
    assert unsigned.status_code == 403
    assert twilio_post("/api/telephony/twilio/call-back/999999", {"CallSid": "x"}).status_code == 404


def test_public_address_is_the_url_twilio_fetches(world, fake_twilio, settings):  # noqa: F811
    settings.PUBLIC_BASE_URL = "https://120.example.cn"
    call_back(world.alice, missed_call("CA-pub"))
    (placed,) = fake_twilio.calls
    assert (
        placed["Url"] == f"https://120.example.cn/api/telephony/twilio/call-back/{CallBack.objects.get().pk}"
    )


def test_a_pbx_gets_the_click_to_call_for_the_dispatchers_own_seat(world, fake_pbx):  # noqa: F811
    seat = Seat.objects.create(name="调度台 3")
    SeatSession.objects.create(seat=seat, user=world.alice)
    call = missed_call("1733050000.42", "13911112222", provider="pbx")
    response = call_back(world.alice, call)
    assert response.status_code == 201, response.content
    (request,) = fake_pbx.requests
    attempt = CallBack.objects.get()
    assert request["body"] == {
        "agent": "alice",
        "seat": "调度台 3",
        "to": "+8613911112222",
        "reference": f"callback-{attempt.pk}",
        "call_id": "1733050000.42",
    }
    assert request["headers"]["Content-Type"] == "application/json"
    assert attempt.provider == "pbx" and attempt.provider_call_id == "pbx-out-1"
    assert attempt.seat == "调度台 3"


def test_no_answer_keeps_it_listed_for_another_try_and_reached_takes_it_off(world, fake_twilio):  # noqa: F811
    call = missed_call("CA-m2", ODD)
    first = call_back(world.alice, call).json()["call_back"]["id"]
    assert call_back(world.alice, call).status_code == 409  # one attempt at a time

    after = outcome(world.alice, first, "no_answer").json()
    assert after["attempts"] == 1 and after["calling"] is None and after["done"] is False
    (row,) = listed(world.alice)
    assert row["caller_number"] == ODD and row["last_outcome"] == "no_answer"

    second = call_back(world.bob, call).json()["call_back"]["id"]  # another dispatcher tries again
    assert outcome(world.bob, second, "reached").json()["done"] is True
    assert listed(world.alice) == []
    attempts = list(CallBack.objects.filter(call=call).values_list("by__username", "outcome"))
    assert attempts == [("alice", "no_answer"), ("bob", "reached")]
    assert CallBack.objects.get(pk=second).outcome_at is not None
    kinds = list(
        Event.objects.filter(kind__startswith="call.back").order_by("seq").values_list("kind", flat=True)
    )
    assert kinds == ["call.back_placed", "call.back_outcome"] * 2
    # Done is done: a third call back is refused, naming who called.
    refused = call_back(world.alice, call)
    assert refused.status_code == 409 and "bob" in refused.json()["error"]


@pytest.mark.parametrize("value", ["wrong_number", "not_needed"])
def test_every_final_outcome_takes_it_off(world, fake_twilio, value):  # noqa: F811
    call = missed_call("CA-f")
    attempt = call_back(world.alice, call).json()["call_back"]["id"]
    assert outcome(world.alice, attempt, value).status_code == 200
    assert listed(world.alice) == []


def test_the_outcome_is_recorded_once_by_whoever_called_or_a_supervisor(world, fake_twilio):  # noqa: F811
    from dispatch.models import Role, User

    other = User.objects.create_user("grace", role=Role.DISPATCHER)
    call = missed_call("CA-o")
    attempt = call_back(world.alice, call).json()["call_back"]["id"]
    refused = outcome(other, attempt, "reached")
    assert refused.status_code == 403 and "alice" in refused.json()["error"]
    assert outcome(world.bob, attempt, "not_needed").status_code == 200  # bob supervises
    again = outcome(world.alice, attempt, "reached")
    assert again.status_code == 409 and again.json()["code"] == "outcome_recorded"
    assert CallBack.objects.get().outcome == "not_needed"


def test_an_answered_or_live_call_is_not_called_back(world, fake_twilio):  # noqa: F811
    ringing = CallEvent("twilio", "CA-live", CallEventKind.RINGING, timezone.now(), caller="+8613900000005")
    live = record_call_event(ringing)
    response = call_back(world.alice, live)
    assert response.status_code == 409 and response.json()["code"] == "not_missed"
    withheld = missed_call("CA-w", "")
    assert call_back(world.alice, withheld).status_code == 422
    assert (
        fake_twilio.messages == []
        and not CallBack.objects.exists()
        and not Event.objects.filter(kind="call.back_placed").exists()
    )


def test_a_provider_outage_writes_nothing_and_the_call_stays_listed(world, fake_twilio):  # noqa: F811
    call = missed_call("CA-down")
    events = Event.objects.count()
    fake_twilio.failures = [503]
    response = call_back(world.alice, call)
    assert response.status_code == 503 and response.json()["code"] == "provider_unavailable"
    assert "Twilio 503" in response.json()["error"]
    assert not CallBack.objects.exists() and Event.objects.count() == events
    (row,) = listed(world.alice)
    assert row["id"] == call.pk and row["attempts"] == 0 and row["calling"] is None
    assert call_back(world.alice, call).status_code == 201  # Twilio is back: the next click works


def test_a_number_the_provider_refuses_is_a_clear_422(world, fake_twilio):  # noqa: F811
    call = missed_call("CA-bad", "013911112222")  # not E.164: Twilio answers 400 (21211)
    response = call_back(world.alice, call)
    assert response.status_code == 422 and response.json()["code"] == "provider_refused"
    assert "21211" in response.json()["error"] and not CallBack.objects.exists()


def test_a_pbx_outage_or_missing_configuration_writes_nothing(world, fake_pbx, settings):  # noqa: F811
    call = missed_call("pbx-1", provider="pbx")
    fake_pbx.failures = [502]
    response = call_back(world.alice, call)
    assert response.status_code == 503 and "PBX 502" in response.json()["error"]
    settings.PBX_CLICK_TO_CALL_URL = ""
    response = call_back(world.alice, call)
    assert response.status_code == 503 and "PBX_CLICK_TO_CALL_URL" in response.json()["error"]
    assert not CallBack.objects.exists() and fake_pbx.requests == []
    assert [r["id"] for r in listed(world.alice)] == [call.pk]
