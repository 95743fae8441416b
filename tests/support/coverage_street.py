"""A hand-built street for coverage tests: five vertices A..E on one street 0.02 degrees (about
2 km) apart, driven at 10 m/s (about 202 s a stretch), a 300 s coverage target and one-kilometre
cells, so each vertex is its own demand node and a unit covers its own vertex and the next one
each way. Districts: 西区 holds A, B and C, 东区 holds D and E."""

from typing import Any

import numpy as np
import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from dispatch.coverage import live
from dispatch.models import District
from fleet.models import Unit, UnitStatus
from fleet.roads.readers import haversine_m
from fleet.roads.store import save_network
from tests.support.road_grids import two_way_streets

LAT = 24.90
LONS = [119.60, 119.62, 119.64, 119.66, 119.68]  # A B C D E
SPEED = 10.0
A, B, C, D, E = ((lon, LAT) for lon in LONS)
TARGET_S = 300


def road_s(lon_a: float, lon_b: float) -> float:
    """Road time between two points of the street."""
    metres = haversine_m(np.array([lon_a]), np.array([LAT]), np.array([lon_b]), np.array([LAT]))
    return float(metres[0]) / SPEED


STRETCH_S = road_s(LONS[0], LONS[1])
DISTRICTS = {"西区": (119.59, 24.85, 119.65, 24.95), "东区": (119.65, 24.85, 119.69, 24.95)}


def place(unit: Unit, at: tuple[float, float], status: str = UnitStatus.AVAILABLE) -> None:
    """Put a unit somewhere on the street, in a status (test set-up, not an action)."""
    Unit.objects.filter(pk=unit.pk).update(position=Point(*at, srid=4326), status=status)


def lay_street(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The street as the active network, its districts, and coverage settings to match."""
    points = [A, B, C, D, E]
    streets = two_way_streets(points, list(zip(points, points[1:], strict=False)), SPEED)
    save_network(streets, "street", "tests/support/coverage_street.py")
    monkeypatch.setattr(live, "CELL_M", 1000.0)
    monkeypatch.setattr(live, "MIN_CELL_VERTICES", 1)
    settings.COVERAGE_TARGET_S = TARGET_S
    settings.COVERAGE_BUSY_FRACTION = 0.2
    settings.COVERAGE_DEMAND_FLOOR = 0.2
    for code, (name, bbox) in enumerate(DISTRICTS.items()):
        District.objects.create(code=f"D{code}", name=name, polygon=MultiPolygon(Polygon.from_bbox(bbox)))
    live.refresh()
