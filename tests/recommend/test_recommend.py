"""Units and hospitals are ranked by road time, with reasons, and say why when nothing fits.

The city is hand-made around the `world` fixture: a river at latitude 24.90 with one bridge at
its east end (119.70 E), a street grid on each bank. The `world` north station (als1, bls1) is
on the north bank, the south station (als2, neg1) on the south bank.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from dispatch.handoff.actions import set_beds, set_diversion
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.recommend.reads import (
    HANDOVER_S,
    REACH_S,
    UnitRecommendation,
    Words,
    diversion_category_for,
    hospital_shortfall,
    recommend_hospitals,
    recommend_units,
    with_road_times,
)
from dispatch.registry.actions import create_hospital, create_unit
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from fleet.roads.router import get_router
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, SPEED_MPS, river_city


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/test_recommend.py")
    return world


def send_to_hospital(world: Any, unit: Unit) -> None:
    """Take a unit through a job up to at-hospital, through the actions."""
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin")
    dispatch_unit(incident, unit, actor=world.alice)
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING, UnitStatus.AT_HOSPITAL):
        set_unit_status(unit, status, actor=world.alice)


def call_signs(recommendation: UnitRecommendation) -> list[str]:
    return [u.call_sign for u in recommendation.units]


def english(words: list[Words] | Words) -> str:
    return " | ".join(w.en for w in words) if isinstance(words, list) else words.en


@pytest.mark.django_db(transaction=True)
def test_nearest_across_the_river_is_not_first_the_road_nearest_is(city) -> None:
    across = create_unit("T-ALS-X", "als", position=Point(119.60, 24.895, srid=4326))
    assert Unit.objects.nearest_to(SCENE).first() == across  # 1.1 km straight, over the water
    result = recommend_units(SCENE, "als")
    assert result.by_road and result.shortfall is None
    first = result.units[0]
    assert first.call_sign == "T-ALS-1" and first.rank == 1
    assert first.road_m == pytest.approx(5004, rel=0.01)
    assert first.eta_s == pytest.approx(first.road_m / SPEED_MPS, rel=1e-6)
    x = next(u for u in result.units if u.call_sign == "T-ALS-X")
    assert x.straight_m < 1200 < 20_000 < x.road_m  # round by the bridge
    assert x.eta_s > first.eta_s
    assert english(first.reasons).startswith("ETA 7 min 30 s, road 5.0 km")
    assert "ALS" in english(first.reasons)
    assert any(r.zh.startswith("车程 7分30秒") for r in first.reasons)


@pytest.mark.django_db(transaction=True)
def test_unit_lacking_the_capability_comes_after_the_capable_ones(city) -> None:
    result = recommend_units(SCENE, "als")
    # bls1 stands beside als1, but it cannot give advanced life support
    assert call_signs(result) == ["T-ALS-1", "T-ALS-2", "T-NEG-1", "T-BLS-1"]
    bls = result.units[-1]
    assert not bls.has_capability and bls.eta_s == result.units[0].eta_s
    assert "lacks capability: ALS" in english(bls.reasons)
    assert all(u.has_capability for u in result.units[:3])


@pytest.mark.django_db(transaction=True)
def test_no_capable_unit_still_lists_the_others_and_says_so(city) -> None:
    result = recommend_units(SCENE, "neonatal")
    assert call_signs(result)[0] == "T-ALS-1"
    assert not any(u.has_capability for u in result.units)
    assert f"no unit with neonatal incubator within {REACH_S // 60} min" in result.shortfall.en
    assert "没有新生儿暖箱车辆" in result.shortfall.zh


@pytest.mark.django_db(transaction=True)
def test_unit_at_hospital_is_listed_with_the_time_it_frees_up(city) -> None:
    send_to_hospital(city, city.als1)
    dispatch_unit(create_incident(actor=city.alice), city.bls1, actor=city.alice)
    now = timezone.now()
    result = recommend_units(SCENE, None, now=now)
    assert "T-BLS-1" not in call_signs(result)  # on its way to another job
    row = next(u for u in result.units if u.call_sign == "T-ALS-1")
    assert row.status == UnitStatus.AT_HOSPITAL
    assert HANDOVER_S - 60 < row.free_in_s <= HANDOVER_S
    assert row.eta_s == pytest.approx(row.free_in_s + 5004 / SPEED_MPS, rel=0.01)
    assert "at hospital, free in about 1" in english(row.reasons)
    later = recommend_units(SCENE, None, now=now + timedelta(hours=1))
    row = next(u for u in later.units if u.call_sign == "T-ALS-1")
    assert row.free_in_s == 180  # past the typical handover, still a few minutes to clear


@pytest.mark.django_db(transaction=True)
def test_stale_position_is_flagged(city) -> None:
    fresh = recommend_units(SCENE, "als")
    assert not fresh.units[0].stale
    assert "old" in english(fresh.units[0].reasons)
    assert fresh.shortfall is None
    later = recommend_units(SCENE, "als", now=timezone.now() + timedelta(minutes=8, seconds=1))
    assert later.units[0].stale
    assert later.shortfall.en == "the first unit's position is stale: confirm by radio"
    assert "stale position 8 min" in english(later.units[0].reasons)
    assert any(r.zh.startswith("位置过时 8分") for r in later.units[0].reasons)


@pytest.mark.django_db(transaction=True)
def test_unit_without_a_position_is_listed_last(city) -> None:
    create_unit("T-ALS-0", "als")
    result = recommend_units(SCENE, "als")
    last = result.units[-1]
    assert last.call_sign == "T-ALS-0" and last.eta_s is None and last.straight_m is None
    assert "no position reported" in english(last.reasons)


@pytest.mark.django_db(transaction=True)
def test_all_units_busy_gives_a_shortfall(city) -> None:
    incident = create_incident(actor=city.alice, location=SCENE, location_source="pin")
    for unit in (city.als1, city.als2, city.bls1, city.neg1):
        dispatch_unit(incident, unit, actor=city.alice)
    result = recommend_units(SCENE, "als")
    assert result.units == []
    assert result.shortfall.en == "all 4 units in service are busy"
    assert result.shortfall.zh == "全部 4 辆在岗车辆都在任务中"


@pytest.mark.django_db(transaction=True)
def test_only_units_at_hospital_says_none_is_free_now(city) -> None:
    incident = create_incident(actor=city.alice, location=SCENE, location_source="pin")
    for unit in (city.als2, city.bls1, city.neg1):
        dispatch_unit(incident, unit, actor=city.alice)
    send_to_hospital(city, city.als1)
    result = recommend_units(SCENE, "als")
    assert call_signs(result) == ["T-ALS-1"]
    assert "no unit free now; the first in about 1" in result.shortfall.en


def test_unknown_location_gives_a_shortfall(db) -> None:
    result = recommend_units(None, "als")
    assert result.units == [] and "locate it first" in result.shortfall.en


def test_without_a_road_network_units_are_ranked_by_straight_line(fresh_router, world) -> None:
    assert get_router() is None
    result = recommend_units(SCENE, "als")
    assert not result.by_road and all(u.eta_s is None for u in result.units)
    assert call_signs(result) == ["T-ALS-1", "T-ALS-2", "T-NEG-1", "T-BLS-1"]
    assert "no road network loaded" in result.shortfall.en
    hospitals = recommend_hospitals(SCENE, None)
    assert [h.name for h in hospitals] == ["市第一人民医院", "县人民医院"]
    assert "no road network" in english(hospitals[0].reasons)


@pytest.mark.django_db(transaction=True)
def test_hospital_diverting_for_stroke_is_not_first_and_is_marked(city) -> None:
    north = create_hospital("北区医院", Point(119.65, 24.95, srid=4326), capabilities=["stroke"])
    set_diversion(city.city, ["stroke"], actor=city.bob, reason="CT 故障")
    assert diversion_category_for("stroke") == "stroke"
    ranked = recommend_hospitals(SCENE, "stroke")
    assert [h.id for h in ranked] == [north.pk, city.county.pk, city.city.pk]
    diverting = ranked[-1]
    assert diverting.diverting and diverting.diverting_categories == ["stroke"]
    assert english(diverting.reasons).startswith("diverting stroke (CT 故障)")
    assert hospital_shortfall(ranked, "stroke") is None
    # a chest pain patient may still go there: the diversion is for stroke only
    chest = recommend_hospitals(SCENE, "chest_pain")
    assert chest[0].id == city.city.pk and not chest[0].diverting
    assert "diverting stroke only" in english(chest[0].reasons)


@pytest.mark.django_db(transaction=True)
def test_hospital_without_the_capability_comes_after_those_with_it(city) -> None:
    near_county = Point(119.58, 24.86, srid=4326)
    ranked = recommend_hospitals(near_county, "chest_pain")
    assert [h.id for h in ranked] == [city.city.pk, city.county.pk]
    county = ranked[1]
    assert county.eta_s < ranked[0].eta_s  # nearer, but no chest pain centre
    assert "no chest pain centre" in english(county.reasons)
    assert "has a chest pain centre" in english(ranked[0].reasons)


@pytest.mark.django_db(transaction=True)
def test_full_resuscitation_beds_cost_rank_and_say_so(city) -> None:
    set_beds(city.city, "resus", 0, actor=city.bob)
    set_beds(city.county, "resus", 2, actor=city.bob)
    ranked = recommend_hospitals(SCENE, None)
    city_row = next(h for h in ranked if h.id == city.city.pk)
    assert city_row.resus_beds == 0
    assert "no resuscitation bed: ranked as 10 min farther" in english(city_row.reasons)
    assert "2 resuscitation beds" in english(next(h for h in ranked if h.id == city.county.pk).reasons)


@pytest.mark.django_db(transaction=True)
def test_pruned_hospital_search_matches_searching_every_hospital(city) -> None:
    for k, (lon, lat) in enumerate([(119.55, 24.95), (119.70, 24.93), (119.65, 24.875), (119.55, 24.85)]):
        create_hospital(f"医院{k}", Point(lon, lat, srid=4326), capabilities=["trauma"] * (k % 2))
    router = get_router()
    for scene in (SCENE, Point(119.62, 24.86, srid=4326), Point(119.70, 24.95, srid=4326)):
        everything = [(h.id, h.eta_s) for h in recommend_hospitals(scene, "trauma", limit=50)]
        for limit in (1, 2, 3):
            pruned = recommend_hospitals(scene, "trauma", limit=limit)
            assert [(h.id, h.eta_s) for h in pruned] == everything[:limit]
    assert with_road_times(router, SCENE, [], 3) == []
