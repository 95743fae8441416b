"""Coverage does not hold up its callers (dispatch/coverage/live.py, "Staleness";
docs/decisions/0024): past SYNC_SEARCHES moved units a snapshot counts them from where it last
saw them, at most STALE_ROWS_S ago, while one background thread searches their new positions.

On the hand-built street of tests/support/coverage_street.py: A..E about 202 s apart, a 300 s
target, so a unit covers its own vertex and the next one each way.
"""

import threading
import time
from typing import Any

import numpy as np
import pytest
from django.contrib.gis.geos import Point

from dispatch.coverage import live
from dispatch.incidents.actions import create_incident
from fleet.models import Unit, UnitStatus
from tests.support.coverage_street import LAT, LONS, B, D, E, lay_street, place


@pytest.fixture
def street(fresh_router: None, world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    lay_street(settings, monkeypatch)
    place(world.als1, B)
    place(world.als2, D)
    place(world.bls1, B, UnitStatus.OUT_OF_SERVICE)
    place(world.neg1, E, UnitStatus.EN_ROUTE)
    monkeypatch.setattr(live, "SYNC_SEARCHES", 1)  # two units moving are "many"
    yield world
    assert live.wait_for_background()
    live.refresh()


def counts(snap: live.Snapshot | None) -> list[int]:
    """Covering units per node, A to E."""
    assert snap is not None
    return snap.counts[np.argsort(snap.demand.lon)].tolist()


def units_at(
    street: Any, als1: tuple[float, float], als2: tuple[float, float]
) -> list[tuple[int, float, float]]:
    return [(street.als1.pk, *als1), (street.als2.pk, *als2)]


@pytest.mark.django_db(transaction=True)
def test_many_units_moved_count_from_where_they_were_until_the_background_search_lands(street) -> None:
    assert counts(live.snapshot()) == [1, 1, 2, 1, 1]  # B covers A B C, D covers C D E
    place(street.als1, E)
    place(street.als2, E)
    # Both moved (more than SYNC_SEARCHES): the snapshot answers from B and D, not searching E
    assert counts(live.snapshot()) == [1, 1, 2, 1, 1]
    assert live.wait_for_background()
    assert counts(live.snapshot()) == [0, 0, 0, 2, 2]  # from E now
    # who covers is always of the moment: a unit gone busy stops counting at once
    Unit.objects.filter(pk=street.als2.pk).update(status=UnitStatus.DISPATCHED)
    snap = live.snapshot()
    assert snap.unit_ids == (street.als1.pk,)
    assert counts(snap) == [0, 0, 0, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_few_units_moved_are_searched_at_once(street) -> None:
    live.snapshot()
    place(street.als1, E)  # one unit: within SYNC_SEARCHES
    assert counts(live.snapshot()) == [0, 0, 1, 2, 2]


@pytest.mark.django_db(transaction=True)
def test_rows_older_than_the_bound_are_not_used(street, monkeypatch: pytest.MonkeyPatch) -> None:
    live.snapshot()
    monkeypatch.setattr(live, "STALE_ROWS_S", 0.0)
    time.sleep(0.01)
    # a caller that cannot wait gets nothing rather than figures older than the bound ...
    assert live.snapshot_at(units_at(street, E, E), wait=False) is None
    # ... one that can (the coverage layer) has them searched now
    place(street.als1, E)
    place(street.als2, E)
    assert counts(live.snapshot()) == [0, 0, 0, 2, 2]


@pytest.mark.django_db(transaction=True)
def test_without_rows_a_caller_that_cannot_wait_gets_none_and_the_next_call_has_them(street) -> None:
    assert live.snapshot_at(units_at(street, B, D), wait=False) is None  # nothing searched yet
    assert live.wait_for_background()
    assert counts(live.snapshot_at(units_at(street, B, D), wait=False)) == [1, 1, 2, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_does_not_wait_for_a_background_search_in_progress(street) -> None:
    live.snapshot()  # the two units' rows at B and D
    # thousands of other positions along the street: a background search of about a second
    far = [(10_000 + i, LONS[0] + (LONS[-1] - LONS[0]) * i / 30_000, LAT) for i in range(30_000)]
    assert live.snapshot_at(far, wait=False) is None
    started = time.monotonic()
    snap = live.snapshot_at(units_at(street, B, D), wait=False)
    took = time.monotonic() - started
    running = [t for t in threading.enumerate() if t.name == "coverage-etas"]
    assert counts(snap) == [1, 1, 2, 1, 1]
    assert running and running[0].is_alive(), f"the background search ended first ({took:.3f} s)"
    assert live.wait_for_background(60)
    assert live.snapshot_at(far[:3], wait=False) is not None  # its rows landed


@pytest.mark.django_db(transaction=True)
def test_a_stale_demand_is_rebuilt_in_the_background_keeping_the_rows(street, settings: Any) -> None:
    before = live.snapshot()
    for _ in range(3):
        create_incident(actor=street.alice, location=Point(*E, srid=4326), location_source="pin")
    settings.COVERAGE_REFRESH_SECONDS = 0  # due at every call from now on
    assert live.demand() is before.demand  # the old one serves while a thread builds the new one
    assert live.wait_for_background()
    settings.COVERAGE_REFRESH_SECONDS = 300
    d = live.demand()
    assert d is not before.demand and d.incidents == 3
    assert d.weight[np.argmax(d.lon)] == pytest.approx(0.8 + 0.2 / 5)  # E's cell weighs the history
    # the same nodes: the rows stay, so moved units still count from where they were
    place(street.als1, E)
    place(street.als2, E)
    assert counts(live.snapshot()) == [1, 1, 2, 1, 1]
