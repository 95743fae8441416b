"""The recommendation endpoints: control room only, JSON errors, the incident's own needs."""

from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from dispatch.handoff.actions import set_diversion
from dispatch.incidents.actions import create_incident, triage_incident
from dispatch.models import Incident
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, river_city

POINT_URL = "/api/recommendation"


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/test_recommend_api.py")
    return world


@pytest.fixture
def alice(client: Client, world: Any) -> Client:
    client.force_login(world.alice)
    return client


def located_incident(world: Any, **triage: str) -> Incident:
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin")
    if triage:
        triage_incident(
            incident,
            actor=world.alice,
            priority=1,
            chief_complaint="胸痛",
            capability=triage.get("capability", ""),
            answers={"hospital_capability": triage.get("hospital_capability", "")},
        )
    return incident


@pytest.mark.django_db(transaction=True)
def test_point_recommendation_ranks_by_road(client, city) -> None:
    client.force_login(city.alice)
    response = client.get(POINT_URL, {"lon": 119.60, "lat": 24.905, "capability": "als"})
    assert response.status_code == 200
    body = response.json()
    assert body["by_road"] and body["network"] and body["shortfall"] is None
    assert [u["call_sign"] for u in body["units"]] == ["T-ALS-1", "T-ALS-2", "T-NEG-1", "T-BLS-1"]
    first = body["units"][0]
    assert first["rank"] == 1 and first["id"] == city.als1.pk
    assert first["eta_s"] == pytest.approx(450.4, abs=1)
    assert first["reasons"][0] == {"zh": "车程 7分30秒，道路 5.0 公里", "en": "ETA 7 min 30 s, road 5.0 km"}
    assert [h["name"] for h in body["hospitals"]] == ["市第一人民医院", "县人民医院"]


@pytest.mark.django_db(transaction=True)
def test_incident_recommendation_uses_its_triage(client, city) -> None:
    incident = located_incident(city, capability="negative_pressure", hospital_capability="stroke")
    set_diversion(city.city, ["stroke"], actor=city.bob)
    client.force_login(city.bob)
    body = client.get(f"/api/incidents/{incident.pk}/recommendation").json()
    assert body["incident"] == incident.pk
    assert (body["capability"], body["hospital_capability"]) == ("negative_pressure", "stroke")
    assert body["diversion_category"] == "stroke"
    assert body["units"][0]["call_sign"] == "T-NEG-1"
    assert [h["diverting"] for h in body["hospitals"]] == [False, True]
    assert "no open stroke centre" in body["hospital_shortfall"]["en"]
    # the console may ask for other needs than the triage's
    body = client.get(f"/api/incidents/{incident.pk}/recommendation", {"capability": ""}).json()
    assert body["capability"] is None and body["units"][0]["call_sign"] == "T-ALS-1"


def test_an_odd_triaged_capability_still_gets_an_answer(client, world, fresh_router) -> None:
    incident = located_incident(world, capability="hovercraft", hospital_capability="spa")
    client.force_login(world.alice)
    response = client.get(f"/api/incidents/{incident.pk}/recommendation")
    assert response.status_code == 200
    body = response.json()
    assert not any(u["has_capability"] for u in body["units"])
    assert "no open spa" in body["hospital_shortfall"]["en"]


def test_without_a_road_network_the_answer_says_so(alice, fresh_router) -> None:
    body = alice.get(POINT_URL, {"lon": 119.60, "lat": 24.905}).json()
    assert body["by_road"] is False and body["network"] is None
    assert "no road network loaded" in body["shortfall"]["en"]


@pytest.mark.parametrize("user, status", [("carol", 403), ("dave", 403), ("bob", 200), ("erin", 200)])
def test_only_the_control_room_gets_recommendations(client, world, fresh_router, user, status) -> None:
    client.force_login(getattr(world, user))
    incident = located_incident(world)
    assert client.get(POINT_URL, {"lon": 119.6, "lat": 24.9}).status_code == status
    response = client.get(f"/api/incidents/{incident.pk}/recommendation")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")


def test_signed_out_gets_json_401(client, db) -> None:
    response = client.get(POINT_URL, {"lon": 119.6, "lat": 24.9})
    assert response.status_code == 401 and response.json()["error"]


@pytest.mark.parametrize(
    "query, status, words",
    [
        ({"lon": 200, "lat": 24.9}, 422, "lon"),
        ({"lon": 119.6, "lat": -91}, 422, "lat"),
        ({"lon": 119.6}, 422, "lat"),
        ({"lon": "east", "lat": 24.9}, 422, "lon"),
        ({"lon": 0, "lat": 0}, 422, "GPS fault"),
        ({"lon": 119.6, "lat": 24.9, "capability": "wings"}, 422, "Unknown unit capability 'wings'"),
        ({"lon": 119.6, "lat": 24.9, "hospital_capability": "spa"}, 422, "Unknown hospital capability"),
        ({"lon": 119.6, "lat": 24.9, "limit": 0}, 422, "limit"),
    ],
)
def test_bad_input_is_a_json_error(alice, fresh_router, query, status, words) -> None:
    response = alice.get(POINT_URL, query)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_unknown_incident_is_json_404(alice) -> None:
    response = alice.get("/api/incidents/999999/recommendation")
    assert response.status_code == 404 and response.json()["error"]


def test_incident_without_a_location_is_409(alice, world) -> None:
    incident = create_incident(actor=world.alice, chief_complaint="不知道在哪")
    response = alice.get(f"/api/incidents/{incident.pk}/recommendation")
    assert response.status_code == 409
    assert response.json()["code"] == "no_location" and "locate it first" in response.json()["error"]


def test_recommendation_is_in_the_api_schema(alice) -> None:
    paths = alice.get("/api/schema/").json()["paths"]
    assert "/api/recommendation" in paths and "/api/incidents/{incident_id}/recommendation" in paths
    assert paths["/api/recommendation"]["get"]["tags"] == ["recommendation"]


@pytest.mark.django_db(transaction=True)
def test_scene_off_the_road_is_warned(client, city) -> None:
    client.force_login(city.alice)
    off = Point(119.62, 24.915, srid=4326)  # a park: 1.1 km from the nearest street
    body = client.get(POINT_URL, {"lon": off.x, "lat": off.y}).json()
    assert body["scene_off_road_m"] > 1000
    assert "from a road: ETAs are short" in body["shortfall"]["en"]
