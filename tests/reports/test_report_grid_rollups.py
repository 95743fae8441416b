"""The area grid of the response (dispatch.reports.figures.grid) is read for closed days from the
rollups' fine squares (rollups.GRID, GRID_BOX) and gives the figures counted from the rows: each
incident in the same cell on both paths, on a fine square's border and at negative coordinates
too, the drill-down of a cell listing exactly its incidents; a cell smaller than the fine square
is counted from the rows."""

import math
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point

from dispatch.reports import ReportFilter, areas, rollups
from dispatch.reports.incidents import Drill, incidents
from tests.support.report_world import MARCH, Job, make, steady
from tests.support.rollup_history import double_every_stored_count, make_history, ranges

MONTH = ReportFilter(MARCH, MARCH + timedelta(days=31))
# Points on borders of the fine squares (0.01 degrees) where floor(x / size) and
# floor(floor(x / 0.01) / m) disagree in float8 (0.15 / 0.05 is 2.9999..., 0.15 / 0.01 is
# 15.000...01), at negative and odd coordinates, and at 0; the extent is 1.4 degrees either way.
BORDERS = [
    (0.15, -0.15),
    (0.3, 0.3),
    (0.35, -0.35),
    (-0.3, -0.6),
    (-0.05, 0.05),
    (-0.15, 0.35),
    (0.6, -0.6),
    (-0.6, 0.6),
    (0.0, 0.0),
    (-0.0123456789, 0.0987654321),
    (0.29, -0.01),
    (-0.7, 0.7),
    (0.6999999999999999, -0.1),
]


def grid_of(figures: dict) -> dict:
    return {k: figures[k] for k in ("interval", "cell_deg", "box", "target_s", "cells")}


@pytest.fixture
def history(world):
    made = make_history(world)
    rollups.build_range(MARCH.date(), (MARCH + timedelta(days=30)).date())
    return made


def test_the_grid_is_read_from_the_rollups(world, history):
    """Doubling every stored count doubles every cell of the month: its days are read from the
    rollups; the rows' figures do not change, nor the box (each day's extent, exactly)."""
    f = ranges()[0]
    counted = grid_of(areas(f, "response", raw=True))
    rolled = grid_of(areas(f, "response"))
    assert rolled == counted
    assert counted["cell_deg"] == 0.02 and sum(c["incidents"] for c in counted["cells"]) == 39
    double_every_stored_count()
    doubled = grid_of(areas(f, "response"))
    assert doubled["box"] == counted["box"] and doubled["cell_deg"] == counted["cell_deg"]
    assert [(c["lon"], c["lat"]) for c in doubled["cells"]] == [
        (c["lon"], c["lat"]) for c in counted["cells"]
    ]
    assert [(c["incidents"], c["count"]) for c in doubled["cells"]] == [
        (2 * c["incidents"], 2 * c["count"]) for c in counted["cells"]
    ]
    assert grid_of(areas(f, "response", raw=True)) == counted


def test_every_range_gives_the_raw_grid(world, history):
    for f in ranges():
        assert grid_of(areas(f, "response")) == grid_of(areas(f, "response", raw=True)), f


def test_a_cell_smaller_than_the_fine_square_reads_the_rows(world, history):
    """One day's incidents all stand on one place: the cell is far below 0.01 degrees, so the
    served day is counted from the rows (doubling the stored counts changes nothing)."""
    f = ranges()[2]
    assert rollups.served_days(f, measure=rollups.GRID_MARKER) == [(MARCH + timedelta(days=4)).date()]
    before = grid_of(areas(f, "response"))
    assert before["cell_deg"] < rollups.GRID_SQUARE_DEG
    assert [c["incidents"] for c in before["cells"]] == [7]  # 8 that day, one with no location
    double_every_stored_count()
    assert grid_of(areas(f, "response")) == before == grid_of(areas(f, "response", raw=True))


@pytest.fixture
def borders(world):
    """One incident at each border point, over several closed days of March."""
    made = [
        make(
            world,
            Job(
                MARCH + timedelta(days=2 + n % 4, hours=n),
                steady(travel=300.0 + 61.0007 * n),
                point=Point(x, y),
            ),
        )
        for n, (x, y) in enumerate(BORDERS)
    ]
    rollups.build_range(MARCH.date(), (MARCH + timedelta(days=30)).date())
    return made


def cells_by_hand(size: float) -> Counter:
    """Each point's cell (lon, lat of its corner as the API gives it) computed here: a whole
    multiple m of the fine square is floor(floor(x / 0.01) / m), a smaller cell floor(x / size)."""
    m = round(size / rollups.GRID_SQUARE_DEG)
    if m >= 1 and math.isclose(m * rollups.GRID_SQUARE_DEG, size):

        def cell(v: float) -> int:
            return math.floor(math.floor(v / rollups.GRID_SQUARE_DEG) / m)
    else:

        def cell(v: float) -> int:
            return math.floor(v / size)

    return Counter((round(cell(x) * size, 6), round(cell(y) * size, 6)) for x, y in BORDERS)


@pytest.mark.parametrize(
    ("cells", "size", "served"),
    [
        (12, 0.2, True),
        (24, 0.1, True),
        (60, 0.05, True),
        (120, 0.02, True),
        (150, 0.01, True),
        (300, 0.005, False),
    ],
)
def test_border_points_land_in_the_same_cell_on_both_paths(world, borders, cells, size, served):
    assert len(rollups.served_days(MONTH, measure=rollups.GRID_MARKER)) == 31
    rolled = grid_of(areas(MONTH, "response", cells=cells))
    assert rolled == grid_of(areas(MONTH, "response", cells=cells, raw=True))
    assert rolled["cell_deg"] == size
    assert rolled["box"] == [-0.7, -0.6, 0.6999999999999999, 0.7]
    found = Counter({(c["lon"], c["lat"]): c["incidents"] for c in rolled["cells"]})
    assert found == cells_by_hand(size)
    for c in rolled["cells"]:
        listed = incidents(MONTH, Drill(area=(c["lon"], c["lat"], size)))
        assert listed["total"] == c["incidents"], c
    # Whether the month's cells were read from the rollups: doubled counts show in them.
    double_every_stored_count()
    doubled = grid_of(areas(MONTH, "response", cells=cells))
    assert sum(c["incidents"] for c in doubled["cells"]) == len(BORDERS) * (2 if served else 1)
