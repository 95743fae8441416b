"""Input pasted or forged in ways the fuzzer found: each gets a 4xx that says what is wrong, and
nothing is written. (Before, each of these was a 500.)"""

import json
from urllib.parse import urlencode

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from dispatch.incidents.actions import create_incident
from dispatch.models import CallerLocation, Event, Incident
from fleet.models import PositionReport
from tests.support.calls_helpers import send_link, taken_call
from tests.support.trackers import call, key


@pytest.fixture
def alice(world) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.alice)
    return client


@pytest.fixture
def incident(world):
    return create_incident(actor=world.alice, caller_number="13900000000", notes="before")


def post_json(client: Client, url: str, body: object) -> tuple[int, dict]:
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_a_nul_in_a_tracker_id_is_refused_naming_the_field(world):
    response = Client().get("/api/osmand?id=a%00&lat=24.9&lon=119.6")
    assert response.status_code == 422
    assert response.json()["code"] == "nul_character" and response.json()["error"].startswith("id")


@pytest.mark.django_db(transaction=True)
def test_a_nul_in_a_tracker_fix_is_refused_by_daphnes_fast_path_too(world):
    fix = {"id": key(), "lat": 24.9, "lon": 119.6, "batt": "9\x00"}
    status, answer = call("GET", f"/api/osmand?{urlencode(fix)}")
    assert (status, answer["code"]) == (422, "nul_character") and answer["error"].startswith("batt")
    body = {
        "device_id": key(),
        "location": {"coords": {"latitude": 24.9, "longitude": 119.6}},
        "x": "\x00",
    }
    status, answer = call("POST", "/api/osmand", json.dumps(body).encode(), "application/json")
    assert (status, answer["code"]) == (422, "nul_character")
    assert not PositionReport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_nul_in_a_trackers_url_key_is_an_unknown_tracker_on_both_paths(world):
    """The key in /api/osmand/<key> is no query field: on daphne's fast path a NUL there is a key
    nobody has (404), not a database error; through Django the input guard refuses it (422)."""
    fix = urlencode({"lat": 24.9, "lon": 119.6})
    status, answer = call("GET", f"/api/osmand/{key()}%00?{fix}")
    assert (status, answer["code"]) == (404, "unknown_device")
    response = Client().get(f"/api/osmand/{key()}%00?{fix}")  # Django's guard sees it first
    assert (response.status_code, response.json()["code"]) == (422, "nul_character")
    assert not PositionReport.objects.exists()


def test_a_nul_in_a_json_field_is_refused_and_nothing_changes(alice, incident):
    events = Event.objects.count()
    status, body = post_json(alice, f"/api/incidents/{incident.pk}/details", {"notes": "a\x00b"})
    assert status == 422 and body["error"].startswith("notes:")
    incident.refresh_from_db()
    assert incident.notes == "before" and Event.objects.count() == events


def test_a_nul_in_a_page_form_or_query_is_refused_too(world):
    login = Client().post("/login/", {"username": "alice", "password": "pw\x00"})
    assert login.status_code == 422 and b"password" in login.content
    bob = Client()
    bob.force_login(world.bob)
    assert bob.get("/reports/", {"start": "\x00"}).status_code == 422


def test_an_api_body_that_is_not_an_object_opens_no_incident(alice):
    before = Incident.objects.count()
    for body in ([1, 2, 3], "x", None, 7):
        status, answer = post_json(alice, "/api/incidents", body)
        assert (status, answer.get("code")) == (422, "not_an_object"), (body, answer)
    assert Incident.objects.count() == before


def test_json_nested_a_hundred_thousand_deep_is_refused(alice, world):
    deep = b"[" * 100_000 + b"]" * 100_000
    response = alice.post("/api/incidents", data=deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "too_deep"
    caller_page = Client().post("/l/sometoken", data=deep, content_type="application/json")
    assert caller_page.status_code == 400


def test_a_form_without_its_multipart_boundary_is_a_400_not_a_500(world):
    """The CSRF check of a session-protected POST reads the form, and the form cannot be read."""
    token = _get_new_csrf_string()
    client = Client(enforce_csrf_checks=True, headers={"X-CSRFToken": token})
    client.cookies["csrftoken"] = token
    client.force_login(world.alice)
    response = client.generic("POST", "/api/incidents", b"a=1", content_type="multipart/form-data")
    assert response.status_code == 400 and response.json()["error"]
    assert not Incident.objects.exists()


def test_null_where_the_record_needs_a_number_is_refused(alice, incident):
    status, body = post_json(alice, f"/api/incidents/{incident.pk}/details", {"patient_count": None})
    assert status == 422 and "patient_count" in body["error"]
    incident.refresh_from_db()
    assert incident.patient_count == 1
    status, body = post_json(alice, f"/api/incidents/{incident.pk}/details", {"patient_age": None})
    assert status == 200  # an age may be unknown


def test_the_callers_page_refuses_a_date_that_does_not_exist(world):
    path = send_link(world, taken_call(world))
    body = {"lat": 24.9, "lon": 119.6, "measured_at": "2026-02-30T10:00:00+08:00"}
    response = Client().post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "measured_at" in response.json()["error"]
    assert not CallerLocation.objects.exists()
    # The link is still unused: the caller's phone can send again.
    again = Client().post(
        path, data=json.dumps({**body, "measured_at": None}), content_type="application/json"
    )
    assert again.status_code == 200 and CallerLocation.objects.count() == 1


def test_a_tablet_fix_with_an_odd_zone_or_from_centuries_ago_is_refused_not_a_500(assignment, tablet):
    """Browsers pass the device's clock through: any offset, any year."""
    for at in ("1528-01-10T06:57:54-22:19", "2020-01-01T00:00:00+00:00"):
        response = tablet.post(
            "/api/crew/position", data={"lon": 119.6, "lat": 24.9, "at": at}, content_type="application/json"
        )
        assert response.status_code == 422 and response.json()["code"] == "old_fix", at
    now_far_west = timezone.now().astimezone(timezone.get_fixed_timezone(-(22 * 60 + 19)))
    response = tablet.post(
        "/api/crew/position",
        data={"lon": 119.6, "lat": 24.9, "at": now_far_west.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["moved"] is True
