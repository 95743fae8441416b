"""The crew tablet's browser reports its own unit's position (watchPosition), and only a crew
member on shift may: nobody else moves a unit from a browser."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.crew.actions import end_shift
from fleet.models import PositionReport, RejectedFix
from tests.support.roster import on_shift as start_rostered_shift

URL = "/api/crew/position"


def post(client, body: dict):
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def on_shift(client, world):
    start_rostered_shift(world.carol, world.als2)
    client.force_login(world.carol)
    return client


def test_crew_on_shift_moves_their_own_unit(on_shift, world):
    at = timezone.now() + timedelta(milliseconds=500)
    body = {"lon": 119.61, "lat": 24.86, "accuracy": 12, "speed": 10, "heading": 180, "at": at.isoformat()}
    response = post(on_shift, body)
    assert response.status_code == 200
    row = response.json()
    assert (row["unit"], row["moved"], row["position_stale"]) == (world.als2.pk, True, False)
    assert row["speed_kmh"] == pytest.approx(36.0)  # the browser's m/s
    (report,) = PositionReport.objects.filter(unit=world.als2)
    assert (report.source, report.accuracy_m, report.heading) == ("tablet", 12.0, 180.0)
    world.als2.refresh_from_db()
    assert world.als2.position.coords == pytest.approx((119.61, 24.86))


def test_browser_epoch_milliseconds_and_unknown_speed_are_understood(on_shift, world):
    at = timezone.now() + timedelta(seconds=1)
    body = {"lon": 119.61, "lat": 24.86, "accuracy": 30, "speed": None, "heading": None}
    response = post(on_shift, {**body, "at": int(at.timestamp() * 1000)})
    assert response.status_code == 200
    report = PositionReport.objects.get(unit=world.als2)
    assert abs((report.at - at).total_seconds()) < 0.002
    assert (report.speed_kmh, report.heading) == (None, None)


@pytest.mark.parametrize("user", ["alice", "bob", "dave", "erin", "carol"])
def test_anyone_not_on_shift_is_refused(client, world, user):
    client.force_login(getattr(world, user))  # carol is crew, but has no shift here
    response = post(client, {"lon": 119.61, "lat": 24.86})
    assert response.status_code == 403 and response.json()["error"]
    assert PositionReport.objects.count() == 0


def test_signed_out_is_401(client, world):
    assert post(client, {"lon": 119.61, "lat": 24.86}).status_code == 401


def test_an_ended_shift_reports_nothing(on_shift, world):
    end_shift(world.carol)
    assert post(on_shift, {"lon": 119.61, "lat": 24.86}).status_code == 403


def test_an_impossible_fix_is_refused_and_counted_against_the_tablet(on_shift, world):
    response = post(on_shift, {"lon": 0, "lat": 0, "accuracy": 5})
    assert response.status_code == 422 and response.json()["code"] == "bad_coordinates"
    counter = RejectedFix.objects.get(reason="bad_coordinates")
    assert (counter.device, counter.unit_id, counter.count) == ("tablet:T-ALS-2", world.als2.pk, 1)
    assert PositionReport.objects.count() == 0
