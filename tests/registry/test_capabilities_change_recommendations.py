"""A unit's capability list changed by an import is what the very next recommendation uses."""

from typing import Any

import pytest

from dispatch.recommend.reads import recommend_units
from dispatch.registry.importer import import_files
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, river_city

pytestmark = pytest.mark.usefixtures("in_english")

UNITS = "call_sign,kind,station,capabilities,tracker_id\r\nT-ALS-1,als,N1,{caps},dev-als1\r\n"


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/registry/test_capabilities_change_recommendations.py")
    return world


def ventilated(result) -> list[str]:
    """The units the recommendation says carry the ventilator."""
    return [u.call_sign for u in result.units if u.has_capability]


@pytest.mark.django_db(transaction=True)
def test_an_imported_capability_list_counts_at_once(city) -> None:
    assert "T-ALS-1" in ventilated(recommend_units(SCENE, "ventilator", priority=2))
    report = import_files([("units.csv", UNITS.format(caps="als;bls;defib").encode())])
    assert report.summary() == "0 created, 1 updated, 0 unchanged"
    assert "T-ALS-1" not in ventilated(recommend_units(SCENE, "ventilator", priority=2))
    report = import_files([("units.csv", UNITS.format(caps="").encode())])  # empty: the kind's own
    assert report.summary() == "0 created, 1 updated, 0 unchanged"
    assert "T-ALS-1" in ventilated(recommend_units(SCENE, "ventilator", priority=2))
