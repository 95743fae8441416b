"""The report's by-area figures are per district (the centre's imported outlines), counted by
PostGIS point in polygon: incidents placed by hand in two neighbouring districts, one on their
shared border and one outside both; the figures recomputed here from the clocks."""

import math
from datetime import timedelta

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from dispatch.registry.actions import save_district
from dispatch.reports.intervals import targets
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

# Response (call to on scene) is 105 s plus the travel.
BEFORE_TRAVEL = 105


def square(west: float, south: float, east: float, north: float) -> MultiPolygon:
    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    return MultiPolygon(Polygon(ring), srid=4326)


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered)) - 1]


@pytest.fixture
def placed(world):
    """West (A1) and East (B2) share the meridian 119.60; 巷"口 is one incident on that border."""
    save_district("A1", name="西城区", name_en="West", polygon=square(119.50, 24.80, 119.60, 24.90))
    save_district("B2", name='东"港"区', name_en="East", polygon=square(119.60, 24.80, 119.70, 24.90))
    places = {
        "west": [(119.55, 24.85, 600), (119.501, 24.899, 800), (119.5999, 24.81, 1000)],
        "border": [(119.60, 24.85, 700)],  # on both outlines: the first by code (A1) counts it
        "east": [(119.65, 24.85, 300), (119.6001, 24.8999, 1200)],
        "outside": [(119.80, 24.95, 500)],
    }
    at = MARCH + timedelta(days=3, hours=9)
    for n, (lon, lat, travel) in enumerate(p for group in places.values() for p in group):
        make(
            world, Job(at + timedelta(minutes=7 * n), steady(travel=travel), point=Point(lon, lat, srid=4326))
        )
    return places


def response_values(*groups: list[tuple[float, float, float]]) -> list[float]:
    return [BEFORE_TRAVEL + travel for group in groups for _lon, _lat, travel in group]


def test_incidents_are_counted_in_the_district_they_lie_in(world, placed):
    body = signed_in(world.bob).get(f"/api/reports/areas?{MONTH_QUERY}&interval=response").json()
    by_name = {d["name"]: d for d in body["districts"]}
    assert list(by_name) == ["西城区", '东"港"区']  # by code
    goal = targets()["response"][0]
    for name, values in (
        ("西城区", response_values(placed["west"], placed["border"])),
        ('东"港"区', response_values(placed["east"])),
    ):
        district = by_name[name]
        assert district["incidents"] == district["count"] == len(values)
        assert district["median_s"] == nearest_rank(values, 0.5)
        assert district["p90_s"] == nearest_rank(values, 0.9)
        within = sum(v <= goal.within_s for v in values)
        assert (district["target"]["within"], district["target"]["of"]) == (within, len(values))
        assert district["target"]["met"] == (100 * within >= goal.goal_pct * len(values))
    assert body["outside"]["incidents"] == 1 and body["outside"]["median_s"] == BEFORE_TRAVEL + 500
    assert body["unlocated"] == 0
    west = by_name["西城区"]
    assert west["name_en"] == "West" and west["code"] == "A1"
    # A MultiPolygon's coordinates (polygons of rings of points), even for one square.
    corners = {tuple(point) for point in west["outline"][0][0]}
    assert corners == {(119.5, 24.8), (119.6, 24.8), (119.6, 24.9), (119.5, 24.9)}
    lon, lat = west["label_at"]
    assert 119.50 < lon < 119.60 and 24.80 < lat < 24.90
    assert body["district_box"] == pytest.approx([119.50, 24.80, 119.70, 24.90])


def test_a_filter_narrows_the_districts_counts_too(world, placed):
    body = signed_in(world.bob).get(f"/api/reports/areas?{MONTH_QUERY}&interval=response&priority=1").json()
    assert [d["incidents"] for d in body["districts"]] == [0, 0]
    assert body["districts"][0]["target"]["of"] == 0 and body["outside"]["incidents"] == 0


def test_without_districts_everything_is_outside(world):
    make(world, Job(MARCH + timedelta(days=1), steady(), point=Point(119.55, 24.85, srid=4326)))
    body = signed_in(world.bob).get(f"/api/reports/areas?{MONTH_QUERY}&interval=response").json()
    assert body["districts"] == [] and body["district_box"] is None and body["roads"] == []
    assert body["outside"]["incidents"] == 1
