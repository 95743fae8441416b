"""The recommendation weighs coverage only between near-equal units (rule 4 of
dispatch/recommend/reads.py), on the hand-built street of tests/support/coverage_street.py: A..E
about 202 s apart, a 300 s coverage target, 西区 = A B C, 东区 = D E.

The scene is at C. T-ALS-1 waits between B and C (151 s away), T-ALS-2 at D (202 s), T-NEG-1 at
E. Sending T-ALS-1 leaves A and B (西区) with no unit within the target; sending T-ALS-2 leaves
nothing uncovered (T-NEG-1 still reaches D and E, T-ALS-1 C).
"""

import threading
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dispatch.coverage import live
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.recommend.reads import recommend_units
from fleet.models import UnitStatus
from tests.support.coverage_street import LONS, C, D, E, lay_street, place, road_s

SCENE = Point(*C, srid=4326)
NEAR_B = (119.625, C[1])  # 151 s from C; covers A, B and C like B does


@pytest.fixture
def street(fresh_router: None, world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    lay_street(settings, monkeypatch)
    place(world.als1, NEAR_B)
    place(world.als2, D)
    place(world.neg1, E)
    place(world.bls1, D, UnitStatus.OUT_OF_SERVICE)
    yield world
    assert live.wait_for_background()
    live.refresh()


def first_two(priority: int | None) -> list[str]:
    return [u.call_sign for u in recommend_units(SCENE, None, priority=priority).units[:2]]


@pytest.mark.django_db(transaction=True)
def test_near_equal_units_the_one_that_keeps_the_district_covered_goes_first_with_the_reason(street) -> None:
    result = recommend_units(SCENE, None, priority=2)
    first, second = result.units[:2]
    assert (first.call_sign, second.call_sign) == ("T-ALS-2", "T-ALS-1")
    assert first.eta_s == pytest.approx(road_s(LONS[2], LONS[3]), abs=0.5)
    assert second.eta_s == pytest.approx(road_s(NEAR_B[0], LONS[2]), abs=0.5)
    assert first.eta_s - second.eta_s < 60  # within priority II's margin
    assert any(
        r.en == "similar ETA: keeps 西区 covered" and r.zh == "车程相近，保持西区覆盖" for r in first.reasons
    )
    assert any(
        r.en == "similar ETA: sending it leaves 西区 uncovered; T-ALS-2 goes first" for r in second.reasons
    )
    assert first.dispatchable and result.shortfall is None


@pytest.mark.django_db(transaction=True)
def test_priority_one_and_untriaged_calls_always_get_the_fastest(street) -> None:
    assert first_two(1) == ["T-ALS-1", "T-ALS-2"]
    assert first_two(None) == ["T-ALS-1", "T-ALS-2"]
    reasons = " | ".join(r.en for r in recommend_units(SCENE, None, priority=1).units[0].reasons)
    assert "covered" not in reasons
    assert first_two(3) == ["T-ALS-2", "T-ALS-1"]


@pytest.mark.django_db(transaction=True)
def test_a_unit_much_faster_is_never_passed_over(street) -> None:
    place(street.als1, (119.635, C[1]))  # 50 s from C: 152 s faster than T-ALS-2
    assert first_two(2) == ["T-ALS-1", "T-ALS-2"]  # beyond priority II's 60 s
    assert first_two(3) == ["T-ALS-2", "T-ALS-1"]  # within priority III's 180 s
    place(street.als1, C)  # 202 s faster: beyond every margin
    for priority in (1, 2, 3, 4):
        assert first_two(priority) == ["T-ALS-1", "T-ALS-2"]


@pytest.mark.django_db(transaction=True)
def test_equal_coverage_leaves_the_fastest_first(street) -> None:
    place(street.neg1, D, UnitStatus.EN_ROUTE)  # nobody else covers 东区 now: both leave a hole
    place(street.bls1, (119.61, C[1]), UnitStatus.AVAILABLE)  # and B's side has a second unit
    ranked = [u.call_sign for u in recommend_units(SCENE, "als", priority=2).units[:2]]
    # sending T-ALS-1 keeps A..C covered by T-BLS-1; sending T-ALS-2 leaves D and E: ALS-1 goes
    assert ranked == ["T-ALS-1", "T-ALS-2"]


@pytest.mark.django_db(transaction=True)
def test_the_override_cost_is_counted_from_the_coverage_aware_first_pick(street) -> None:
    incident = create_incident(actor=street.alice, location=SCENE, location_source="pin", priority=2)
    ranking = recommend_units(SCENE, incident.capability_needed, priority=2)
    assert ranking.units[0].call_sign == "T-ALS-2"
    sent = dispatch_unit(
        incident,
        street.als1,
        actor=street.alice,
        recommended_rank=2,
        eta_s=1.0,
        override_reason="快 / faster",
    )
    assert sent.top_pick_eta_s == pytest.approx(ranking.units[0].eta_s, abs=0.01)
    assert sent.eta_at_dispatch_s == pytest.approx(ranking.units[1].eta_s, abs=0.01)


@pytest.mark.django_db(transaction=True)
def test_the_api_gives_the_console_the_same_order_and_reason(street) -> None:
    incident = create_incident(actor=street.alice, location=SCENE, location_source="pin", priority=2)
    client = Client()
    client.force_login(street.alice)
    body = client.get(f"/api/incidents/{incident.pk}/recommendation").json()
    assert [u["call_sign"] for u in body["units"][:2]] == ["T-ALS-2", "T-ALS-1"]
    assert {"zh": "车程相近，保持西区覆盖", "en": "similar ETA: keeps 西区 covered"} in body["units"][0][
        "reasons"
    ]


@pytest.mark.django_db(transaction=True)
def test_coverage_adds_no_query_to_the_recommendation(street) -> None:
    first_two(2)  # the demand and the units' rows built
    with CaptureQueriesContext(connection) as fastest_only:
        assert first_two(1) == ["T-ALS-1", "T-ALS-2"]
    with CaptureQueriesContext(connection) as coverage_aware:
        assert first_two(2) == ["T-ALS-2", "T-ALS-1"]
    # the covering units are the candidates already read, not a second query of the fleet
    assert len(coverage_aware) == len(fastest_only)


@pytest.mark.django_db(transaction=True)
def test_a_recommendation_never_waits_for_coverage_searches(street, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "SYNC_SEARCHES", 0)  # every search is "too many" to make in the request
    # nothing searched yet: the fastest goes first, without a coverage reason, at once ...
    result = recommend_units(SCENE, None, priority=2)
    assert [u.call_sign for u in result.units[:2]] == ["T-ALS-1", "T-ALS-2"]
    assert not any("covered" in r.en for u in result.units for r in u.reasons)
    # ... while the background search makes the rows the next recommendation uses
    assert live.wait_for_background()
    assert first_two(2) == ["T-ALS-2", "T-ALS-1"]


@pytest.mark.django_db(transaction=True)
def test_a_recommendation_during_a_background_search_goes_on_with_the_rows_it_has(street) -> None:
    assert first_two(2) == ["T-ALS-2", "T-ALS-1"]  # the covering units' rows
    # thousands of other positions along the street: a background search of about a second
    lon0, lon1 = LONS[0], LONS[-1]
    far = [(10_000 + i, lon0 + (lon1 - lon0) * i / 30_000, C[1]) for i in range(30_000)]
    assert live.snapshot_at(far, wait=False) is None
    assert first_two(2) == ["T-ALS-2", "T-ALS-1"]
    searching = [t for t in threading.enumerate() if t.name == "coverage-etas"]
    assert searching and searching[0].is_alive()  # it did not wait for the search to end
