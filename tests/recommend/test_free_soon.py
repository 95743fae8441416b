"""Units about to be free are candidates with an honest estimate: at hospital, the rest of a
typical handover; transporting, the road time left to the destination plus the handover, with
the ETA to a new scene counted from that hospital. They are listed, never `dispatchable` yet.

The river city of tests/support/road_grids.py; the world's city hospital stands on the north
bank near the street corner at 119.60 E, 24.93 N.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.recommend.reads import HANDOVER_S, TRANSPORT_GUESS_S, UnitOption, recommend_units
from dispatch.registry.actions import create_unit
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from fleet.roads.router import get_router
from fleet.roads.store import save_network
from hospitals.models import Hospital
from tests.support.crew_tablet import crew_member
from tests.support.road_grids import SCENE, river_city
from tests.support.roster import on_shift


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/recommend/test_free_soon.py")
    return world


def transporting(world: Any, unit: Unit, hospital: Hospital | None) -> None:
    """Through the actions: sent, on scene, the patient aboard."""
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin")
    dispatch_unit(incident, unit, actor=world.alice, hospital=hospital)
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING):
        set_unit_status(unit, status, actor=world.alice)


def row(units: list[UnitOption], call_sign: str) -> UnitOption:
    return next(u for u in units if u.call_sign == call_sign)


def english(option: UnitOption) -> str:
    return " | ".join(r.en for r in option.reasons)


@pytest.mark.django_db(transaction=True)
def test_a_transporting_unit_is_free_after_its_road_to_hospital_and_the_handover(city) -> None:
    transporting(city, city.als1, city.city)  # still at the north station, 2 km from the hospital
    router = get_router()
    station, hospital = city.north.location, city.city.location
    to_hospital = float(router.travel_times_to(hospital.x, hospital.y, [(station.x, station.y)]).seconds[0])
    hospital_to_scene = float(router.travel_times_to(SCENE.x, SCENE.y, [(hospital.x, hospital.y)]).seconds[0])
    result = recommend_units(SCENE, None)
    als1 = row(result.units, "T-ALS-1")
    assert als1.status == "transporting" and not als1.dispatchable and not als1.confirm_by_radio
    assert als1.free_in_s == pytest.approx(to_hospital + HANDOVER_S, abs=1)
    assert als1.eta_s == pytest.approx(als1.free_in_s + hospital_to_scene, abs=1)
    minutes = -(-int(als1.free_in_s) // 60)
    assert f"transporting, free in about {minutes} min after handover at 市第一人民医院" in english(als1)
    assert any(r.zh == f"转运中，约 {minutes} 分钟后在市第一人民医院交接完毕空闲" for r in als1.reasons)
    # ranked by that ETA: after T-BLS-1, free beside it at the station, before the units
    # on the far bank
    assert [u.call_sign for u in result.units] == ["T-BLS-1", "T-ALS-1", "T-ALS-2", "T-NEG-1"]


@pytest.mark.django_db(transaction=True)
def test_without_a_destination_a_typical_transport_is_assumed(city) -> None:
    transporting(city, city.als2, None)
    als2 = row(recommend_units(SCENE, None).units, "T-ALS-2")
    assert TRANSPORT_GUESS_S + HANDOVER_S - 60 < als2.free_in_s <= TRANSPORT_GUESS_S + HANDOVER_S
    assert "after handover (a typical transport assumed)" in english(als2)
    later = recommend_units(SCENE, None, now=timezone.now() + timedelta(hours=1))
    assert row(later.units, "T-ALS-2").free_in_s == HANDOVER_S  # overdue: the handover is left


@pytest.mark.django_db(transaction=True)
def test_at_hospital_the_row_names_the_hospital(city) -> None:
    transporting(city, city.bls1, city.county)
    set_unit_status(city.bls1, UnitStatus.AT_HOSPITAL, actor=city.alice)
    bls = row(recommend_units(SCENE, None).units, "T-BLS-1")
    assert bls.status == "at_hospital" and not bls.dispatchable
    assert HANDOVER_S - 60 < bls.free_in_s <= HANDOVER_S
    assert "at hospital, free in about 15 min after handover at 县人民医院" in english(bls)


@pytest.mark.django_db(transaction=True)
def test_a_free_unit_goes_before_one_only_expected_free_at_a_near_equal_eta(city) -> None:
    """At hospital nearer the scene, expected free in 3 min: its ETA beats the north station's
    by less than a minute, so the unit free now is first."""
    near = create_unit("H-NEG", "negative_pressure", position=Point(119.60, 24.93, srid=4326))
    on_shift(crew_member("crew-h-neg"), near)
    transporting(city, near, city.city)
    set_unit_status(near, UnitStatus.AT_HOSPITAL, actor=city.alice)
    # half an hour on: the handover is overdue, every position as old as every other
    result = recommend_units(SCENE, "als", now=timezone.now() + timedelta(minutes=30))
    neg, als = row(result.units, "H-NEG"), row(result.units, "T-ALS-1")
    assert neg.free_in_s == 180
    assert neg.eta_s < als.eta_s < neg.eta_s + 60
    assert [u.call_sign for u in result.units[:2]] == ["T-ALS-1", "H-NEG"]
    assert "similar ETA, free now" in english(als)
    assert "similar ETA: T-ALS-1, free now, goes first" in english(neg)
