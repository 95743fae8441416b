"""A unit whose position is stale is not put first over a confirmed one with a near-equal ETA
(within NEAR_EQUAL_S): Enter must not send a guess. A stale unit much faster than every
confirmed one still leads, and its row says so and asks for a radio check.

The river city of tests/support/road_grids.py: the scene on the north bank, the world's north
station 5 km up the street at 119.60 E (T-ALS-1 and T-BLS-1, 7 min 30 s away).
"""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dispatch.positions.actions import Fix, record_position
from dispatch.recommend.reads import NEAR_EQUAL_S, UnitOption, recommend_units
from dispatch.registry.actions import create_unit
from fleet.models import Unit
from fleet.roads.store import save_network
from tests.support.crew_tablet import crew_member
from tests.support.road_grids import SCENE, SPEED_MPS, river_city
from tests.support.roster import on_shift


@pytest.fixture
def city(fresh_router: None, world: Any, settings: Any) -> Any:
    settings.STALE_POSITION_SECONDS = 120
    save_network(river_city(), "river city", "tests/recommend/test_stale_positions_rank.py")
    return world


def last_seen_minutes_ago(call_sign: str, lat: float, minutes: int) -> Unit:
    """A staffed ALS unit on the street at 119.60 E whose last fix is `minutes` old."""
    unit = create_unit(call_sign, "als")
    at = timezone.now() - timedelta(minutes=minutes)
    record_position(unit, Fix(119.60, lat, at), source="tracker", device=call_sign)
    on_shift(crew_member(f"crew-{call_sign.lower()}"), unit)
    return unit


def row(result: Any, call_sign: str) -> UnitOption:
    return next(u for u in result.units if u.call_sign == call_sign)


def english(option: UnitOption) -> str:
    return " | ".join(r.en for r in option.reasons)


@pytest.mark.django_db(transaction=True)
def test_stale_unit_with_a_near_equal_eta_ranks_after_the_confirmed_one(city) -> None:
    # 330 m nearer the scene than the north station (30 s sooner), last heard of 10 min ago
    last_seen_minutes_ago("T-ALS-OLD", 24.947, minutes=10)
    result = recommend_units(SCENE, "als")
    confirmed, stale = result.units[0], result.units[1]
    assert (confirmed.call_sign, stale.call_sign) == ("T-ALS-1", "T-ALS-OLD")
    assert 0 < confirmed.eta_s - stale.eta_s < NEAR_EQUAL_S  # faster on paper, by a guess
    assert not confirmed.stale and not confirmed.confirm_by_radio and confirmed.dispatchable
    assert stale.stale and stale.confirm_by_radio and stale.dispatchable
    assert "stale position 10 min 0 s old: confirm by radio" in english(stale)
    assert "similar ETA: T-ALS-1, position confirmed, goes first" in english(stale)
    assert any(r.zh == "车程相近，先派位置已确认的 T-ALS-1" for r in stale.reasons)
    assert any(r.zh == "位置过时 10分0秒，请电台确认" for r in stale.reasons)
    assert "similar ETA, position confirmed" in english(confirmed)
    assert result.shortfall is None


@pytest.mark.django_db(transaction=True)
def test_stale_unit_much_faster_than_every_confirmed_one_still_leads_and_says_so(city) -> None:
    # 2.2 km nearer: 200 s sooner than anything confirmed
    last_seen_minutes_ago("T-ALS-OLD", 24.93, minutes=5)
    result = recommend_units(SCENE, "als")
    first, second = result.units[0], result.units[1]
    assert (first.call_sign, second.call_sign) == ("T-ALS-OLD", "T-ALS-1")
    assert second.eta_s - first.eta_s == pytest.approx(2224 / SPEED_MPS, rel=0.01)
    assert first.stale and first.confirm_by_radio and first.rank == 1
    assert "3 min 20 s faster than T-ALS-1, whose position is confirmed: ranked before it" in english(first)
    assert any(r.zh.startswith("比位置已确认的 T-ALS-1 快 3分20秒") for r in first.reasons)
    assert result.shortfall.en == "the first unit's position is stale: confirm by radio"


@pytest.mark.django_db(transaction=True)
def test_among_stale_units_the_eta_decides_and_nothing_claims_a_confirmed_one(city) -> None:
    later = timezone.now() + timedelta(minutes=8)  # every position is stale by then
    result = recommend_units(SCENE, "als", now=later)
    assert [u.call_sign for u in result.units] == ["T-ALS-1", "T-ALS-2", "T-NEG-1", "T-BLS-1"]
    assert all(u.stale and u.confirm_by_radio for u in result.units)
    assert not any("whose position is confirmed" in english(u) for u in result.units)


@pytest.mark.django_db(transaction=True)
def test_a_unit_that_never_reported_a_position_is_asked_for_by_radio(city) -> None:
    unit = create_unit("T-ALS-0", "als")
    on_shift(crew_member("crew-t-als-0"), unit)
    last = recommend_units(SCENE, "als").units[-1]
    assert last.call_sign == "T-ALS-0" and last.eta_s is None
    assert last.stale and last.confirm_by_radio and last.dispatchable


@pytest.mark.django_db(transaction=True)
def test_the_api_row_carries_confirm_by_radio(client, city) -> None:
    last_seen_minutes_ago("T-ALS-OLD", 24.93, minutes=5)
    client.force_login(city.alice)
    body = client.get("/api/recommendation", {"lon": SCENE.x, "lat": SCENE.y, "capability": "als"}).json()
    rows = {u["call_sign"]: u for u in body["units"]}
    assert rows["T-ALS-OLD"]["stale"] is True and rows["T-ALS-OLD"]["confirm_by_radio"] is True
    assert rows["T-ALS-1"]["stale"] is False and rows["T-ALS-1"]["confirm_by_radio"] is False
    schema = client.get("/api/schema/").json()["components"]["schemas"]["RankedUnitOut"]["properties"]
    assert "radio" in schema["confirm_by_radio"]["description"]
    assert schema["confirm_by_radio"]["type"] == "boolean"
