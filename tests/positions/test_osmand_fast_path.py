"""Under daphne the trackers' path is answered before Django's stack (TrackerFastPath in the
ASGI application), with the same answers as the django-ninja route; other paths pass through."""

import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from fleet.models import PositionReport, RejectedFix
from tests.support.trackers import call, key

pytestmark = pytest.mark.django_db(transaction=True)


def fix(**extra) -> dict:
    at = int(timezone.now().timestamp()) + 1
    return {"id": key(), "lat": 24.94, "lon": 119.61, "timestamp": at, "speed": 10, **extra}


def test_a_tracker_get_is_stored_by_the_fast_path(world):
    status, answer = call("GET", f"/api/osmand?{urlencode(fix())}")
    assert (status, answer) == (200, {"stored": True, "moved": True, "code": "", "error": ""})
    report = PositionReport.objects.get(unit=world.als1)
    assert report.speed_kmh == pytest.approx(18.52)
    world.als1.refresh_from_db()
    assert world.als1.position.coords == pytest.approx((119.61, 24.94))


def test_form_and_json_posts_and_refusals_answer_as_the_route_does(world):
    status, answer = call(
        "POST", "/api/osmand", urlencode(fix()).encode(), "application/x-www-form-urlencoded"
    )
    assert status == 200 and answer["stored"] is True
    body = {"device_id": key(), "location": {"coords": {"latitude": 95, "longitude": 119.6}}}
    status, answer = call("POST", "/api/osmand", json.dumps(body).encode(), "application/json")
    assert (status, answer["stored"], answer["code"]) == (200, False, "bad_coordinates")
    assert RejectedFix.objects.get(device="dev-als1").reason == "bad_coordinates"
    status, answer = call("GET", f"/api/osmand?{urlencode(fix(id='nobody'))}")
    assert (status, answer["code"]) == (404, "unknown_device")


def test_other_paths_still_go_through_django(world):
    status, _ = call("GET", "/healthz")
    assert status == 200
    status, answer = call("GET", "/api/units")  # Django's auth still applies there
    assert status == 401 and answer["code"] == "login_required"
