"""Small hand-made road networks for tests: two-way residential streets between given points."""

import numpy as np
from django.contrib.gis.geos import Point

from fleet.models import RoadClass
from fleet.roads.data import RoadData
from fleet.roads.readers import haversine_m

Point2 = tuple[float, float]


def two_way_streets(points: list[Point2], pairs: list[tuple[Point2, Point2]], speed_mps: float) -> RoadData:
    """A network with an arc each way along every pair of points, driven at `speed_mps`."""
    index = {p: i for i, p in enumerate(points)}
    src = np.array([index[a] for a, b in pairs] + [index[b] for a, b in pairs], np.int32)
    dst = np.array([index[b] for a, b in pairs] + [index[a] for a, b in pairs], np.int32)
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    length = haversine_m(lon[src], lat[src], lon[dst], lat[dst])
    return RoadData(
        lon=lon,
        lat=lat,
        src=src,
        dst=dst,
        length_m=length,
        time_s=length / speed_mps,
        road_class=np.full(len(src), RoadClass.RESIDENTIAL, np.int8),
        oneway=np.zeros(len(src), bool),
        names=[],
    )


# The river city: two street grids, one per bank, joined by one bridge.
LONS = [119.55, 119.60, 119.65, 119.70]
NORTH_LATS = [24.905, 24.93, 24.95]
SOUTH_LATS = [24.85, 24.86, 24.875, 24.895]
BRIDGE = ((119.70, 24.895), (119.70, 24.905))
SPEED_MPS = 40 / 3.6


SCENE = Point(119.60, 24.905, srid=4326)  # north bank, just across the river from the south


def river_city() -> RoadData:
    """Two street grids, one per bank, joined by one bridge; every street two-way."""
    points: list[tuple[float, float]] = []
    for lats in (NORTH_LATS, SOUTH_LATS):
        points += [(lon, lat) for lat in lats for lon in LONS]
    pairs = [BRIDGE]
    for lats in (NORTH_LATS, SOUTH_LATS):
        pairs += [((a, lat), (b, lat)) for lat in lats for a, b in zip(LONS, LONS[1:], strict=False)]
        pairs += [((lon, a), (lon, b)) for lon in LONS for a, b in zip(lats, lats[1:], strict=False)]
    return two_way_streets(points, pairs, SPEED_MPS)
