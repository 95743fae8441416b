"""The locate endpoints: search, reverse and duplicates; control room only; JSON errors."""

import numpy as np
import pytest
from django.contrib.gis.geos import Point

from dispatch.incidents.actions import create_incident
from dispatch.locate.gazetteer import search_keys
from dispatch.models import Place, PlaceKind
from fleet.models import RoadClass
from fleet.roads.data import RoadData
from fleet.roads.readers import haversine_m
from fleet.roads.store import save_network

CALLER = "+8613800000001"


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


@pytest.fixture
def gate(db) -> Place:
    pinyin, initials = search_keys("碧水苑东门")
    return Place.objects.create(
        name="碧水苑东门",
        name_en="Bishui Garden East Gate",
        kind=PlaceKind.LANDMARK,
        point=Point(119.601, 24.900, srid=4326),
        address="福民路88号",
        district="龙华区",
        pinyin=pinyin,
        initials=initials,
    )


def one_street() -> RoadData:
    """A two-way street along latitude 24.9, from 119.59 to 119.61."""
    lon, lat = np.array([119.59, 119.60, 119.61]), np.full(3, 24.9)
    src, dst = np.array([0, 1, 1, 2], np.int32), np.array([1, 0, 2, 1], np.int32)
    length = haversine_m(lon[src], lat[src], lon[dst], lat[dst])
    return RoadData(
        lon=lon,
        lat=lat,
        src=src,
        dst=dst,
        length_m=length,
        time_s=length / 10,
        road_class=np.full(4, RoadClass.RESIDENTIAL, np.int8),
        oneway=np.zeros(4, bool),
    )


def test_search_returns_places_with_how_they_matched(alice, gate):
    [row] = alice.get("/api/places/search", {"q": "bsydm"}).json()
    assert row == {
        "id": gate.pk,
        "name": "碧水苑东门",
        "name_en": "Bishui Garden East Gate",
        "kind": "landmark",
        "lon": 119.601,
        "lat": 24.9,
        "address": "福民路88号",
        "district": "龙华区",
        "match": "initials",
    }


def test_search_near_a_point_gives_distances(alice, gate):
    [row] = alice.get("/api/places/search", {"q": "碧水", "lon": 119.600, "lat": 24.900}).json()
    assert row["match"] == "name"
    assert row["distance_m"] == pytest.approx(101, abs=1.5)


def test_reverse_without_a_road_network_gives_the_place_and_no_snap(alice, gate, fresh_router):
    response = alice.get("/api/places/reverse", {"lon": 119.600, "lat": 24.900})
    assert response.status_code == 200
    body = response.json()
    assert body["place"]["name"] == "碧水苑东门"
    assert body["place"]["distance_m"] == pytest.approx(101, abs=1.5)
    assert "snap" not in body


def test_reverse_with_nothing_near_is_empty(alice, fresh_router):
    assert alice.get("/api/places/reverse", {"lon": 100.0, "lat": 30.0}).json() == {}


@pytest.mark.django_db(transaction=True)
def test_reverse_with_a_road_network_snaps_to_the_road(client, world, gate, fresh_router):
    save_network(one_street(), "one street", "tests/test_locate_api.py")
    client.force_login(world.alice)
    body = client.get("/api/places/reverse", {"lon": 119.600, "lat": 24.901}).json()
    assert body["place"]["id"] == gate.pk
    assert body["snap"]["lat"] == pytest.approx(24.9, abs=1e-6)
    assert body["snap"]["lon"] == pytest.approx(119.600, abs=1e-6)
    assert body["snap"]["distance_m"] == pytest.approx(111, abs=1.5)


def test_duplicates_lists_nearby_and_same_number(alice, world):
    incident = create_incident(
        actor=world.alice,
        location=Point(119.600, 24.900, srid=4326),
        location_source="pin",
        caller_number=CALLER,
        chief_complaint="胸痛",
        address="碧水苑3栋",
    )
    query = {"lon": 119.602, "lat": 24.900, "caller_number": CALLER}
    [row] = alice.get("/api/incidents/duplicates", query).json()
    assert row["id"] == incident.pk and row["number"] == incident.number
    assert row["reason"] == "same_caller" and row["reasons"] == ["same_caller", "nearby"]
    assert row["distance_m"] == pytest.approx(202, abs=2)
    assert (row["status"], row["chief_complaint"], row["address"]) == ("open", "胸痛", "碧水苑3栋")
    assert row["created_at"]
    other = alice.get("/api/incidents/duplicates", {"caller_number": "+8613900000002"}).json()
    assert other == []


@pytest.mark.parametrize("user", ["carol", "dave"])
@pytest.mark.parametrize(
    "url, query",
    [
        ("/api/places/search", {"q": "bsy"}),
        ("/api/places/reverse", {"lon": 119.6, "lat": 24.9}),
        ("/api/incidents/duplicates", {"caller_number": CALLER}),
    ],
)
def test_crews_and_hospital_staff_are_refused(client, world, user, url, query):
    client.force_login(getattr(world, user))
    response = client.get(url, query)
    assert response.status_code == 403
    assert response.json()["error"]


def test_signed_out_gets_json_401(client, db):
    response = client.get("/api/places/search", {"q": "bsy"})
    assert response.status_code == 401 and response.json()["error"]


@pytest.mark.parametrize(
    "url, query, words",
    [
        ("/api/places/search", {"q": ""}, "q"),
        ("/api/places/search", {}, "q"),
        ("/api/places/search", {"q": "   "}, "Type"),
        ("/api/places/search", {"q": "碧" * 61}, "q"),
        ("/api/places/search", {"q": "bsy", "lon": 200, "lat": 24.9}, "lon"),
        ("/api/places/search", {"q": "bsy", "lon": 119.6}, "both"),
        ("/api/places/search", {"q": "bsy", "limit": 0}, "limit"),
        ("/api/places/reverse", {"lon": 119.6, "lat": 95}, "lat"),
        ("/api/places/reverse", {"lon": 119.6}, "lat"),
        ("/api/places/reverse", {"lon": "east", "lat": 24.9}, "lon"),
        ("/api/places/reverse", {"lon": 0, "lat": 0}, "0,0"),
        ("/api/incidents/duplicates", {}, "location"),
        ("/api/incidents/duplicates", {"lat": 24.9}, "both"),
        ("/api/incidents/duplicates", {"caller_number": "1" * 33}, "caller_number"),
    ],
)
def test_bad_input_is_a_json_error_with_a_message(alice, url, query, words):
    response = alice.get(url, query)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert words in response.json()["error"]


def test_endpoints_are_in_the_api_schema(alice):
    paths = alice.get("/api/schema/").json()["paths"]
    assert {"/api/places/search", "/api/places/reverse", "/api/incidents/duplicates"} <= set(paths)
