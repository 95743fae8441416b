"""Live coverage on the hand-built street of tests/support/coverage_street.py (A..E about 202 s
apart, a 300 s target: a unit covers its own vertex and the next one each way; 西区 holds A, B
and C, 东区 D and E), with answers worked out by hand."""

from typing import Any

import numpy as np
import pytest
from django.contrib.gis.geos import Point

from dispatch.coverage import live
from dispatch.incidents.actions import create_incident
from fleet.models import Unit, UnitStatus
from fleet.roads.readers import haversine_m
from tests.support.coverage_street import LAT, LONS, STRETCH_S, A, B, C, D, E, lay_street, place


@pytest.fixture
def street(fresh_router: None, world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    lay_street(settings, monkeypatch)
    place(world.als1, B)
    place(world.als2, D)
    place(world.bls1, A, UnitStatus.OUT_OF_SERVICE)
    place(world.neg1, E, UnitStatus.EN_ROUTE)
    yield world
    live.refresh()


def node_of(d: live.Demand, lon: float) -> int:
    return int(np.argmin(np.abs(d.lon - lon)))


@pytest.mark.django_db(transaction=True)
def test_demand_nodes_are_the_street_vertices_weighted_by_road_density_without_history(street) -> None:
    d = live.demand()
    assert d.by_road and len(d) == 5 and d.incidents == 0
    assert sorted(np.round(d.lon, 6).tolist()) == LONS and np.allclose(d.lat, LAT)
    assert d.weight == pytest.approx(np.full(5, 0.2))
    assert [d.district[node_of(d, lon)] for lon in LONS] == ["西区", "西区", "西区", "东区", "东区"]
    west, south, east, north = d.bounds[node_of(d, LONS[0])]
    assert west <= LONS[0] <= east and south <= LAT <= north
    assert (east - west) * 100_873 == pytest.approx(1000, rel=0.02)  # a one-kilometre cell


@pytest.mark.django_db(transaction=True)
def test_incident_history_weighs_its_cell_and_the_floor_keeps_the_rest(street) -> None:
    for _ in range(3):
        create_incident(actor=street.alice, location=Point(*E, srid=4326), location_source="pin")
    live.refresh()
    d = live.demand()
    assert d.incidents == 3 and len(d) == 5
    # 80% from the history (all at E), 20% spread by road vertices (one per cell)
    assert d.weight[node_of(d, LONS[4])] == pytest.approx(0.8 + 0.2 / 5)
    assert d.weight[node_of(d, LONS[0])] == pytest.approx(0.2 / 5)
    assert d.weight.sum() == pytest.approx(1.0)


@pytest.mark.django_db(transaction=True)
def test_etas_from_a_point_are_road_times_to_every_node(street) -> None:
    d = live.demand()
    etas = live.etas_from([A, C])
    assert etas.shape == (2, 5)
    order = np.argsort(d.lon)
    assert etas[0, order] == pytest.approx(
        [0, STRETCH_S, 2 * STRETCH_S, 3 * STRETCH_S, 4 * STRETCH_S], abs=0.5
    )
    assert etas[1, order] == pytest.approx([2 * STRETCH_S, STRETCH_S, 0, STRETCH_S, 2 * STRETCH_S], abs=0.5)
    assert live.etas_from([]).shape == (0, 5)
    assert live.etas_from([C, C]) == pytest.approx(np.vstack([etas[1], etas[1]]))  # kept per position


@pytest.mark.django_db(transaction=True)
def test_covering_units_are_free_located_and_staffed(street) -> None:
    assert [u.call_sign for u in live.covering_units()] == ["T-ALS-1", "T-ALS-2"]
    Unit.objects.filter(pk=street.als2.pk).update(status=UnitStatus.RETURNING)
    Unit.objects.filter(pk=street.als1.pk).update(position=None)
    assert [u.call_sign for u in live.covering_units()] == ["T-ALS-2"]


@pytest.mark.django_db(transaction=True)
def test_a_unit_without_a_crew_on_shift_does_not_cover_unless_crews_are_not_required(
    street, settings
) -> None:
    from fleet.models import CrewShift

    CrewShift.objects.filter(unit=street.als1).delete()
    assert [u.call_sign for u in live.covering_units()] == ["T-ALS-2"]
    settings.REQUIRE_CREW_ON_SHIFT = False
    assert [u.call_sign for u in live.covering_units()] == ["T-ALS-1", "T-ALS-2"]


@pytest.mark.django_db(transaction=True)
def test_snapshot_counts_covering_units_per_node_by_hand(street) -> None:
    snap = live.snapshot()
    d = snap.demand
    order = np.argsort(d.lon)
    assert snap.by_road and snap.target_s == 300 and snap.busy == 0.2
    assert snap.unit_ids == (street.als1.pk, street.als2.pk)
    assert snap.counts[order].tolist() == [1, 1, 2, 1, 1]  # B covers A B C, D covers C D E
    assert snap.uncovered_share == 0.0
    # each node weighs 0.2: four covered once (0.2 * 0.2), C twice (0.2 * 0.04)
    assert snap.expected_uncovered == pytest.approx(4 * 0.2 * 0.2 + 0.2 * 0.04)
    assert snap.districts == {"东区": 0.0, "西区": 0.0}


@pytest.mark.django_db(transaction=True)
def test_snapshot_without_a_unit_shows_what_it_leaves_uncovered(street) -> None:
    snap = live.snapshot(exclude_unit_ids=[street.als1.pk])
    order = np.argsort(snap.demand.lon)
    assert snap.unit_ids == (street.als2.pk,)
    assert snap.counts[order].tolist() == [0, 0, 1, 1, 1]
    assert snap.uncovered[order].tolist() == [True, True, False, False, False]
    assert snap.uncovered_share == pytest.approx(0.4)
    assert snap.districts == {"东区": 0.0, "西区": pytest.approx(2 / 3)}
    whole = live.snapshot()
    assert whole.districts_losing(street.als1.pk) == ["西区"]  # only B reaches A and B
    assert whole.districts_losing(street.als2.pk) == ["东区"]
    loss = whole.uncovered_without([street.als1.pk, street.als2.pk, 999])
    assert loss == {
        street.als1.pk: pytest.approx(0.2 + 0.2 + 0.2 * 0.2 + 0.2 * 0.2 + 0.2 * 0.2),
        street.als2.pk: pytest.approx(0.2 * 0.2 + 0.2 * 0.2 + 0.2 * 0.2 + 0.2 + 0.2),
    }


@pytest.mark.django_db(transaction=True)
def test_a_unit_moving_or_going_busy_changes_the_next_snapshot(street) -> None:
    place(street.als1, A)
    snap = live.snapshot()
    assert snap.counts[np.argsort(snap.demand.lon)].tolist() == [1, 1, 1, 1, 1]  # A covers A B
    Unit.objects.filter(pk=street.als2.pk).update(status=UnitStatus.DISPATCHED)
    snap = live.snapshot()
    assert snap.counts[np.argsort(snap.demand.lon)].tolist() == [1, 1, 0, 0, 0]
    assert snap.districts == {"东区": 1.0, "西区": pytest.approx(1 / 3)}


@pytest.mark.django_db(transaction=True)
def test_without_a_road_network_straight_lines_are_used_and_said(fresh_router, world, settings) -> None:
    settings.COVERAGE_TARGET_S = 300
    live.refresh()
    assert len(live.demand()) == 0  # no roads, no history: no demand
    create_incident(actor=world.alice, location=Point(*C, srid=4326), location_source="pin")
    live.refresh()
    d = live.demand()
    assert not d.by_road and len(d) == 1 and d.weight.tolist() == [1.0]
    metres = haversine_m(np.array([A[0]]), np.array([LAT]), np.array([C[0]]), np.array([LAT]))[0]
    assert live.etas_from([A])[0, 0] == pytest.approx(metres / live.STRAIGHT_LINE_MPS, rel=1e-3)
    snap = live.snapshot()
    assert not snap.by_road
    live.refresh()
