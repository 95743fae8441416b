"""The location link: a dispatcher texts it to the caller through the outbox; the page it opens
posts the phone's position once; the console can adopt it as the incident's location."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import record_call_event
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import CallerLocation, Event, Incident, LocationLink, Outbox
from tests.support.calls_helpers import send_link, taken_call

pytestmark = pytest.mark.django_db

POSITION = {"lat": 24.9512, "lon": 119.6012, "accuracy_m": 18.5, "measured_at": "2026-12-01T05:00:00Z"}


def test_link_page_posts_the_position_once(world):
    call = taken_call(world)
    path = send_link(world, call)
    phone = Client(enforce_csrf_checks=True)  # and no cookies: the token alone is enough
    page = phone.get(path)
    assert page.status_code == 200 and b'id="share"' in page.content and b'lang="zh-hans"' in page.content
    posted = phone.post(path, POSITION, content_type="application/json")
    assert posted.status_code == 200, posted.content
    location = CallerLocation.objects.get()
    assert (location.point.x, location.point.y, location.accuracy_m) == (119.6012, 24.9512, 18.5)
    assert location.call == call and location.incident == call.incidents.get()
    event = Event.objects.get(kind="caller.location")
    assert event.incident == location.incident and event.data["accuracy_m"] == 18.5

    again = phone.post(path, POSITION, content_type="application/json")
    assert again.status_code == 410
    assert CallerLocation.objects.count() == 1
    assert phone.get(path).status_code == 410  # the page now says it was sent


def test_english_page(world):
    path = send_link(world, taken_call(world))
    assert b"Send my location" in Client().get(path + "?lang=en").content


def test_expired_or_unknown_token_is_refused(world):
    path = send_link(world, taken_call(world))
    LocationLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = Client()
    assert client.get(path).status_code == 410
    assert client.post(path, POSITION, content_type="application/json").status_code == 410
    assert client.post("/l/not-a-token", POSITION, content_type="application/json").status_code == 410
    assert not CallerLocation.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{broken",
        {"lat": 95, "lon": 119.6},
        {"lat": 0, "lon": 0},
        {**POSITION, "accuracy_m": "near"},
        # Integers too large for a float (JSON has no limit): a clear refusal, not a 500.
        '{"lat": 1' + "0" * 400 + ', "lon": 119.6}',
        '{"lat": 24.95, "lon": 119.6, "accuracy_m": 1' + "0" * 400 + "}",
        {**POSITION, "accuracy_m": -5},
        {**POSITION, "accuracy_m": True},
    ],
    ids=["broken", "lat-95", "null-island", "accuracy-text", "huge-lat", "huge-accuracy", "negative", "true"],
)
def test_bad_positions_are_refused_and_keep_the_link(world, body):
    path = send_link(world, taken_call(world))
    data = body if isinstance(body, str) else body
    response = Client().post(path, data, content_type="application/json")
    # Unreadable JSON is a 400; readable but impossible positions are 422.
    assert response.status_code == (400 if body == "{broken" else 422) and response.json()["error"]
    assert not CallerLocation.objects.exists()
    assert LocationLink.objects.get().used_at is None  # the caller can still try again


def test_adopting_the_position_locates_the_incident(world):
    call = taken_call(world)
    path = send_link(world, call)
    Client().post(path, POSITION, content_type="application/json")
    location = CallerLocation.objects.get()
    incident = call.incidents.get()
    alice = Client()
    alice.force_login(world.alice)
    response = alice.post(
        f"/api/caller-locations/{location.pk}/adopt",
        {"incident": incident.pk},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.location.coords == (119.6012, 24.9512)
    assert incident.location_source == "sms_link" and incident.location_accuracy_m == 18.5
    assert incident.location_confirmed_at is not None


def test_only_dispatchers_send_links_and_see_positions(world):
    call = taken_call(world)
    for user in (world.carol, world.dave):
        client = Client()
        client.force_login(user)
        assert client.post(f"/api/calls/{call.pk}/location-link").status_code == 403
        assert client.get(f"/api/calls/{call.pk}/locations").status_code == 403
    assert not Outbox.objects.filter(channel="sms").exists()


def test_withheld_number_gets_a_clear_refusal(world):
    call = record_call_event(CallEvent("pbx", "anon", CallEventKind.RINGING, timezone.now()))
    client = Client()
    client.force_login(world.alice)
    response = client.post(f"/api/calls/{call.pk}/location-link")
    assert response.status_code == 422 and response.json()["code"] == "no_number" and response.json()["error"]
    assert not LocationLink.objects.exists()
