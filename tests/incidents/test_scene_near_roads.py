"""A scene must be somewhere a unit can drive to. A pin at a pole, in the sea or in another
province is refused where the location is set (422, saying how far the nearest road is), so no
incident is left whose every recommendation fails; the road endpoints refuse the poles."""

import json

import pytest
from django.test import Client

from dispatch.incidents.actions import create_incident
from dispatch.models import Incident

ON_THE_GRID = {"lon": 119.60, "lat": 24.90}
FAR_AWAY = {"lon": 119.60, "lat": 45.0}  # 2,200 km north of the test city's streets


@pytest.fixture
def alice(world) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.alice)
    return client


def post(client: Client, url: str, body: dict) -> tuple[int, dict]:
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.parametrize("lat", [90, -90])
def test_the_poles_are_refused_by_every_point_endpoint(alice, grid, lat):
    for url in (
        f"/api/recommendation?lon=119.6&lat={lat}",
        f"/api/roads/snap?lon=119.6&lat={lat}",
        f"/api/roads/route?from_lon=119.6&from_lat={lat}&to_lon=119.61&to_lat=24.9",
        f"/api/places/reverse?lon=119.6&lat={lat}",
    ):
        response = alice.get(url)
        assert response.status_code == 422, (url, response.content)
        assert "lat" in response.json()["error"]


def test_a_scene_far_from_every_road_is_refused_and_the_incident_keeps_its_place(alice, world, grid):
    incident = create_incident(actor=world.alice, caller_number="1")
    status, body = post(alice, f"/api/incidents/{incident.pk}/locate", {**ON_THE_GRID, "source": "pin"})
    assert status == 200
    for where in (FAR_AWAY, {"lon": 119.6, "lat": 90}):
        status, body = post(alice, f"/api/incidents/{incident.pk}/locate", {**where, "source": "pin"})
        assert status == 422, body
    status, body = post(alice, f"/api/incidents/{incident.pk}/locate", {**FAR_AWAY, "source": "pin"})
    assert body["code"] == "no_road_near" and "km" in body["error"]
    incident.refresh_from_db()
    assert (incident.location.x, incident.location.y) == (ON_THE_GRID["lon"], ON_THE_GRID["lat"])
    assert alice.get(f"/api/incidents/{incident.pk}/recommendation").status_code == 200


def test_an_incident_cannot_be_opened_far_from_every_road(alice, grid):
    status, body = post(alice, "/api/incidents", {**FAR_AWAY, "caller_number": "2"})
    assert (status, body["code"]) == (422, "no_road_near")
    assert not Incident.objects.exists()
    assert alice.get("/api/recommendation", FAR_AWAY).status_code == 422


def test_without_a_road_network_any_real_place_will_do(alice, world, fresh_router):
    incident = create_incident(actor=world.alice, caller_number="1")
    status, _ = post(alice, f"/api/incidents/{incident.pk}/locate", {**FAR_AWAY, "source": "pin"})
    assert status == 200
