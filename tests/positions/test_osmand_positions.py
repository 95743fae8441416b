"""Trackers report through the OsmAnd protocol (Traccar Client and dedicated trackers): good fixes
move the unit and fill the history, impossible ones are answered 200 (so the device stops
resending them), stored nowhere and counted; unknown trackers get 404 and are counted (their own
tests: test_tracker_keys.py)."""

import json
from datetime import UTC, timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.models import Event
from fleet.models import PositionReport, RejectedFix, Unit
from tests.support.trackers import DEVICE, LAT, LON, URL, fix_params, key, soon

# A spot 2 km south of the north station, where T-ALS-1 starts.


def unit_state(unit: Unit) -> tuple:
    unit.refresh_from_db()
    return (unit.position.coords if unit.position else None, unit.position_at, unit.speed_kmh, unit.heading)


def test_good_fix_moves_the_unit_and_fills_the_history(client, world):
    events = Event.objects.count()
    at = soon()
    response = client.get(URL, fix_params(at))
    assert response.status_code == 200
    assert response.json() == {"stored": True, "moved": True, "code": "", "error": ""}
    world.als1.refresh_from_db()
    assert world.als1.position.coords == pytest.approx((LON, LAT))
    assert world.als1.position_at == at
    assert world.als1.speed_kmh == pytest.approx(18.52)  # 10 knots
    assert world.als1.heading == 90.0
    (report,) = PositionReport.objects.filter(unit=world.als1)
    assert (report.source, report.at, report.accuracy_m) == ("tracker", at, 8.0)
    assert report.speed_kmh == pytest.approx(18.52)
    assert Event.objects.count() == events  # positions are state, not events


def test_traccar_client_posts_its_fields_in_the_query_string(client, world):
    query = "&".join(f"{k}={v}" for k, v in fix_params().items())
    response = client.post(f"{URL}?{query}", data=b"", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json()["stored"] is True
    assert PositionReport.objects.filter(unit=world.als1).count() == 1


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_form_body_works_as_well(client, world, encoding):
    params = fix_params(speed="0")
    if encoding == "urlencoded":
        response = client.post(URL, urlencode(params), content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(URL, params)  # the test client's default: multipart/form-data
    assert response.status_code == 200 and response.json()["moved"] is True
    world.als1.refresh_from_db()
    assert world.als1.speed_kmh == 0.0


def test_traccar_client_9_json_has_speed_in_metres_per_second(client, world):
    at = soon()
    body = {
        "device_id": key(),
        "location": {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "coords": {"latitude": LAT, "longitude": LON, "accuracy": 5, "speed": 10, "heading": 45},
            "battery": {"level": 0.8, "is_charging": False},
        },
    }
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.json()["stored"] is True
    world.als1.refresh_from_db()
    assert world.als1.speed_kmh == pytest.approx(36.0)
    assert (world.als1.position_at, world.als1.heading) == (at, 45.0)


@pytest.mark.parametrize(
    "stamp",
    [
        lambda at: str(int(at.timestamp())),  # unix seconds
        lambda at: str(int(at.timestamp() * 1000)),  # unix milliseconds
        lambda at: at.isoformat(),  # ISO 8601 with offset
        lambda at: at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        lambda at: at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),  # naive: UTC, as Traccar
    ],
    ids=["seconds", "milliseconds", "iso-offset", "iso-z", "naive"],
)
def test_timestamps_in_every_form_mean_the_same_time(client, world, stamp):
    at = soon(10)
    response = client.get(URL, {**fix_params(), "timestamp": stamp(at)})
    assert response.status_code == 200 and response.json()["stored"] is True
    assert PositionReport.objects.get(unit=world.als1).at == at


def test_an_older_fix_fills_the_history_but_does_not_move_the_unit(client, world):
    assert client.get(URL, fix_params(soon(20))).json()["moved"] is True
    before = unit_state(world.als1)
    late = fix_params(soon(5), lat=LAT - 0.002)  # a tunnel's buffer emptying
    response = client.get(URL, late)
    assert response.json() == {"stored": True, "moved": False, "code": "", "error": ""}
    assert unit_state(world.als1) == before
    assert PositionReport.objects.filter(unit=world.als1).count() == 2


def test_the_same_fix_sent_twice_is_stored_once(client, world):
    params = fix_params(soon(5))
    assert client.get(URL, params).json()["moved"] is True
    assert client.get(URL, params).json() == {"stored": True, "moved": False, "code": "", "error": ""}
    assert PositionReport.objects.filter(unit=world.als1).count() == 1


def test_unknown_device_gets_404_and_is_counted(client, world):
    for _ in range(2):
        response = client.get(URL, {**fix_params(), "id": "stranger-7"})
        assert response.status_code == 404
        assert response.json()["code"] == "unknown_device"
    (counter,) = RejectedFix.objects.all()
    assert (counter.reason, counter.count, counter.unit) == ("unknown_device", 2, None)
    assert counter.device.startswith("(unknown) ") and "stranger" not in counter.last_message
    assert PositionReport.objects.count() == 0


def test_missing_device_id_is_400(client, world):
    params = fix_params()
    del params["id"]
    response = client.get(URL, params)
    assert response.status_code == 400 and response.json()["code"] == "missing_device"


def future() -> dict:
    return {"timestamp": int((timezone.now() + timedelta(seconds=120)).timestamp())}


@pytest.mark.parametrize(
    "change, code",
    [
        ({"lat": 95}, "bad_coordinates"),
        ({"lon": -181}, "bad_coordinates"),
        ({"lat": 0, "lon": 0}, "bad_coordinates"),
        ({"lat": "north"}, "bad_input"),
        ({"lat": "nan"}, "bad_coordinates"),
        (future, "future_fix"),
        ({"speed": -1}, "bad_speed"),
        ({"speed": 500}, "bad_speed"),  # 926 km/h
        ({"accuracy": -3}, "bad_accuracy"),
        ({"bearing": 400}, "bad_heading"),
        ({"valid": "false"}, "invalid_fix"),
        ({"timestamp": "yesterday"}, "bad_input"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_impossible_fixes_are_refused_counted_and_change_nothing(client, world, change, code):
    before = unit_state(world.als1)
    params = {**fix_params(), **{k: str(v) for k, v in (change() if callable(change) else change).items()}}
    for expected_count in (1, 2):
        response = client.get(URL, params)
        assert response.status_code == 200  # a 4xx would make Traccar Client resend it forever
        body = response.json()
        assert (body["stored"], body["code"]) == (False, code) and body["error"]
        counter = RejectedFix.objects.get(device=DEVICE, reason=code)
        assert (counter.count, counter.unit_id) == (expected_count, world.als1.pk)
    assert unit_state(world.als1) == before
    assert PositionReport.objects.count() == 0


@pytest.mark.parametrize(
    "location",
    [
        {"timestamp": [1]},
        {"timestamp": {"at": "2026-12-07T08:00:00Z"}},
        {"timestamp": True},
        {"timestamp": "1e400"},
        {"coords": {"latitude": [LAT], "longitude": LON}},
        {"coords": {"latitude": LAT, "longitude": LON, "speed": {"value": 3}}},
        {"timestamp": 10**400},  # JSON's integers have no limit; a float's do
        {"coords": {"latitude": 10**400, "longitude": LON}},
    ],
    ids=["list", "object", "true", "huge", "coords-list", "speed-object", "huge-int", "huge-int-latitude"],
)
def test_a_json_fix_with_a_field_of_the_wrong_kind_is_refused_and_changes_nothing(client, world, location):
    """Found by the schema fuzz: a timestamp that was a list reached float() and answered 500."""
    before = unit_state(world.als1)
    fields = {"timestamp": soon().isoformat(), "coords": {"latitude": LAT, "longitude": LON}, **location}
    body = {"device_id": key(), "location": fields}
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert (response.json()["stored"], response.json()["code"]) == (False, "bad_input")
    assert len(response.json()["error"]) < 100  # a 401-digit number is quoted cut short
    assert unit_state(world.als1) == before
    assert PositionReport.objects.count() == 0


def test_a_jump_faster_than_an_ambulance_is_refused_and_says_why(client, world):
    assert client.get(URL, fix_params(soon())).json()["moved"] is True
    before = unit_state(world.als1)
    far = fix_params(soon(30), lat=LAT - 0.3)  # 33 km in 30 s
    body = client.get(URL, far).json()
    assert (body["stored"], body["code"]) == (False, "jump")
    assert "250" in body["error"]  # the limit, in the words of the request's language
    assert unit_state(world.als1) == before
    assert PositionReport.objects.filter(unit=world.als1).count() == 1
    assert RejectedFix.objects.get(device=DEVICE, reason="jump").count == 1


def test_a_plausible_drive_is_not_a_jump(client, world):
    client.get(URL, fix_params(soon()))
    body = client.get(URL, fix_params(soon(30), lat=LAT - 0.009)).json()  # 1 km in 30 s: 120 km/h
    assert body == {"stored": True, "moved": True, "code": "", "error": ""}


def test_trackers_need_no_session_and_no_csrf_token(world):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, fix_params())
    assert response.status_code == 200 and response.json()["stored"] is True
