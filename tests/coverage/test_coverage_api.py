"""GET /api/coverage: the uncovered cells for the console's map, to dispatchers and supervisors
only; on the hand-built street of tests/support/coverage_street.py with one free unit at B
(which reaches A, B and C within the target, not D and E)."""

from typing import Any

import pytest
from django.test import Client

from dispatch.coverage import live
from fleet.models import UnitStatus
from tests.support.coverage_street import B, D, E, lay_street, place


@pytest.fixture
def street(fresh_router: None, world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    lay_street(settings, monkeypatch)
    place(world.als1, B)
    for unit in (world.als2, world.bls1, world.neg1):
        place(unit, E, UnitStatus.OUT_OF_SERVICE)
    yield world
    live.refresh()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_only_dispatchers_and_supervisors_read_the_coverage_layer(street) -> None:
    assert Client().get("/api/coverage").status_code == 401
    for user in (street.carol, street.dave, street.frank, street.erin):
        refused = signed_in(user).get("/api/coverage")
        assert refused.status_code == 403, user.username
        assert "uncovered" not in refused.json()
    for user in (street.alice, street.bob):
        assert signed_in(user).get("/api/coverage").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_payload_lists_the_cells_no_free_unit_reaches_in_time(street) -> None:
    body = signed_in(street.alice).get("/api/coverage").json()
    assert body["by_road"] is True and body["target_s"] == 300 and body["cell_m"] == 1000
    assert (body["units"], body["cells"], body["incidents"]) == (1, 5, 0)
    assert body["covered_share"] == pytest.approx(0.6)
    assert body["districts"] == [
        {"name": "东区", "uncovered_share": 1.0},
        {"name": "西区", "uncovered_share": 0.0},
    ]
    cells = sorted(body["uncovered"], key=lambda c: c["lon"])
    assert [(c["lon"], c["lat"], c["district"]) for c in cells] == [
        (D[0], D[1], "东区"),
        (E[0], E[1], "东区"),
    ]
    for c in cells:
        west, south, east, north = c["bounds"]
        assert west <= c["lon"] <= east and south <= c["lat"] <= north
        assert c["weight"] == pytest.approx(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_unit_freed_near_the_hole_closes_it_on_the_next_read(street) -> None:
    client = signed_in(street.bob)
    assert len(client.get("/api/coverage").json()["uncovered"]) == 2
    place(street.als2, E)
    body = client.get("/api/coverage").json()
    assert body["uncovered"] == [] and body["covered_share"] == 1.0 and body["units"] == 2
