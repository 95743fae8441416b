"""At near-equal ETAs (within NEAR_EQUAL_S) the least capable unit that meets the need goes
first, so ALS stays free for the cardiac arrest that may come next; never for priority I, nor
before triage, where the fastest capable unit leads.

The river city of tests/support/road_grids.py: the scene on the north bank, the world's north
station 5 km up the street at 119.60 E with T-ALS-1 and T-BLS-1 side by side.
"""

from typing import Any

import pytest
from django.contrib.gis.geos import Point

from dispatch.incidents.actions import create_incident, triage_incident
from dispatch.recommend.reads import UnitOption, recommend_units
from dispatch.registry.actions import create_unit
from fleet.models import Unit
from fleet.roads.store import save_network
from tests.support.crew_tablet import crew_member
from tests.support.road_grids import SCENE, SPEED_MPS, river_city
from tests.support.roster import on_shift


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/recommend/test_least_capable_first.py")
    return world


def staffed(call_sign: str, kind: str, lat: float) -> Unit:
    """A unit with a crew on shift, on the street at 119.60 E: 0.001 degree is 9.9 s away."""
    unit = create_unit(call_sign, kind, position=Point(119.60, lat, srid=4326))
    on_shift(crew_member(f"crew-{call_sign.lower()}"), unit)
    return unit


def call_signs(units: list[UnitOption]) -> list[str]:
    return [u.call_sign for u in units]


def english(option: UnitOption) -> str:
    return " | ".join(r.en for r in option.reasons)


@pytest.mark.django_db(transaction=True)
def test_a_priority_iv_fall_gets_the_bls_unit_and_keeps_als_free(city) -> None:
    result = recommend_units(SCENE, None, priority=4)
    bls, als = result.units[0], result.units[1]
    assert (bls.call_sign, als.call_sign) == ("T-BLS-1", "T-ALS-1")
    assert bls.eta_s == als.eta_s
    assert "similar ETA: keeps ALS free" in english(bls)
    assert any(r.zh == "车程相近，保留高级生命支持车辆" for r in bls.reasons)
    assert "similar ETA: T-BLS-1, less equipped, goes first" in english(als)


@pytest.mark.django_db(transaction=True)
def test_specialised_units_are_kept_back_behind_als_and_bls(city) -> None:
    staffed("N-NEG", "negative_pressure", 24.933)  # 20 s nearer than the BLS
    staffed("N-ALS", "als", 24.934)  # 10 s nearer
    staffed("N-BLS", "bls", 24.935)
    result = recommend_units(SCENE, None, priority=3)
    assert call_signs(result.units)[:3] == ["N-BLS", "N-ALS", "N-NEG"]
    assert "similar ETA: keeps negative-pressure units free" in english(result.units[0])
    # an ALS call: the BLS cannot do it; the ALS unit goes before the negative-pressure one
    als_call = recommend_units(SCENE, "als", priority=2)
    assert call_signs(als_call.units)[:2] == ["N-ALS", "N-NEG"]
    assert als_call.units[-1].call_sign in ("N-BLS", "T-BLS-1") and not als_call.units[-1].has_capability


@pytest.mark.django_db(transaction=True)
def test_priority_i_and_untriaged_calls_get_the_fastest_capable_unit(city) -> None:
    staffed("N-NEG", "negative_pressure", 24.933)
    staffed("N-ALS", "als", 24.934)
    staffed("N-BLS", "bls", 24.935)
    for priority in (1, None):
        result = recommend_units(SCENE, None, priority=priority)
        assert call_signs(result.units)[:3] == ["N-NEG", "N-ALS", "N-BLS"], priority
        assert not any("similar ETA" in english(u) for u in result.units)


@pytest.mark.django_db(transaction=True)
def test_a_more_capable_unit_more_than_a_minute_faster_still_leads(city) -> None:
    staffed("N-ALS", "als", 24.925)  # 2.2 km from the scene: 100 s sooner than the BLS
    staffed("N-BLS", "bls", 24.935)
    result = recommend_units(SCENE, None, priority=4)
    first, second = result.units[0], result.units[1]
    assert (first.call_sign, second.call_sign) == ("N-ALS", "N-BLS")
    assert second.eta_s - first.eta_s == pytest.approx(1112 / SPEED_MPS, rel=0.01)
    assert "keeps" not in english(first)


@pytest.mark.django_db(transaction=True)
def test_the_incident_priority_reaches_the_ranking_through_the_api(client, city) -> None:
    incident = create_incident(actor=city.alice, location=SCENE, location_source="pin")
    triage_incident(incident, actor=city.alice, priority=4, chief_complaint="跌倒")
    client.force_login(city.alice)
    url = f"/api/incidents/{incident.pk}/recommendation"
    assert client.get(url).json()["units"][0]["call_sign"] == "T-BLS-1"
    # the query's priority overrides the incident's
    assert client.get(url, {"priority": 1}).json()["units"][0]["call_sign"] == "T-ALS-1"
    point = client.get("/api/recommendation", {"lon": SCENE.x, "lat": SCENE.y, "priority": 3}).json()
    assert point["units"][0]["call_sign"] == "T-BLS-1"
    assert client.get(url, {"priority": 5}).status_code == 422
