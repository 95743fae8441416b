"""The board's ETA comes from the ambulance's last position and the road network, and moves
with the position; without a position or a network the board says why instead of guessing."""

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from fleet.models import Unit
from tests.support.er_helpers import GRID_SPEED_MPS, notified, staff_get

pytestmark = pytest.mark.django_db(transaction=True)


def move(unit, lon: float, lat: float) -> None:
    # Positions are state written by the tracker endpoint (record_position); the test sets it
    # as that endpoint leaves it, since the board only reads Unit.position.
    Unit.objects.filter(pk=unit.pk).update(position=Point(lon, lat, srid=4326), position_at=timezone.now())


def eta_of(world) -> dict:
    return staff_get(world.dave, "/api/er/board")[1]["notices"][0]["eta"]


def test_eta_is_the_road_time_from_the_last_position_and_follows_it(world, grid):
    notified(world, world.als1, world.city, world.carol)
    move(world.als1, 119.56, 24.85)  # far corner of the grid; the city hospital is near 119.61 24.93
    far = eta_of(world)
    assert far["seconds"] and far["reason"] == "" and far["transporting"] and not far["stale"]
    assert far["metres"] / far["seconds"] == pytest.approx(GRID_SPEED_MPS, rel=0.05)
    move(world.als1, 119.60, 24.91)
    near = eta_of(world)
    assert near["seconds"] < far["seconds"] / 2


def test_without_a_network_the_board_says_so(world, fresh_router):
    notified(world, world.als1, world.city, world.carol)
    eta = eta_of(world)
    assert eta["seconds"] is None and eta["reason"] == "no_network"
