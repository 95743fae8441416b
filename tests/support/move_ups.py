"""A hand-checked network for move-up tests (tests/coverage/test_moveup*.py, tests/crew/
test_relocating*.py), on the named world's two stations:

    N1 北站 (119.600, 24.95)      E1 东待命点 (119.630, 24.95)      node C (119.660, 24.95)
    S1 南站 (119.600, 24.85)

Straight lines at 8 m/s (the coverage layer's speed without roads), target 480 s (3.84 km).
Demand: A at N1 (0.4, 北区), B at S1 (0.4, 南区), C 6.05 km east of N1 (0.2, 东区): only a unit
at E1 (3.03 km from both A and C) covers C. T-ALS-1 waits 100 m east of N1, T-BLS-1 at N1,
T-ALS-2 and T-NEG-1 at S1 (11 km from E1: too far to move there within 600 s).
"""

import numpy as np
from django.contrib.gis.geos import Point
from django.utils import timezone

from dispatch.coverage.live import STRAIGHT_LINE_MPS
from dispatch.coverage.moveup import Network
from fleet.models import StandbyPoint, Unit
from fleet.roads.readers import haversine_m

NODES = [(119.60, 24.95), (119.60, 24.85), (119.66, 24.95)]
WEIGHTS = [0.4, 0.4, 0.2]
DISTRICTS = ["北区", "南区", "东区"]
E1 = (119.63, 24.95)


class HandNetwork(Network):
    def etas_from(self, points: list[tuple[float, float]]) -> np.ndarray:
        nodes = np.array(NODES)
        rows = []
        for lon, lat in points:
            metres = haversine_m(np.full(len(nodes), lon), np.full(len(nodes), lat), nodes[:, 0], nodes[:, 1])
            rows.append(metres / STRAIGHT_LINE_MPS)
        return np.array(rows).reshape(len(points), len(nodes))


def hand_network(busy: float = 0.0) -> HandNetwork:
    return HandNetwork(np.array(WEIGHTS), list(DISTRICTS), 480.0, busy)


def place(unit: Unit, lon: float, lat: float) -> None:
    unit.position, unit.position_at = Point(lon, lat, srid=4326), timezone.now()
    Unit.objects.filter(pk=unit.pk).update(position=unit.position, position_at=unit.position_at)


def hand_city(world, monkeypatch, capacity: int = 1) -> StandbyPoint:
    """The network above on the world: units placed, the standby point added, the live inputs
    replaced by the hand-checked ones."""
    from dispatch.coverage import moveup

    place(world.als1, 119.601, 24.95)
    place(world.bls1, 119.60, 24.95)
    place(world.als2, 119.60, 24.85)
    place(world.neg1, 119.60, 24.85)
    monkeypatch.setattr(moveup, "network", lambda: hand_network())
    return StandbyPoint.objects.create(
        code="E1",
        name="东待命点",
        name_en="East standby",
        district="东区",
        location=Point(*E1, srid=4326),
        capacity=capacity,
    )
