"""Small hand-made road networks for tests: two-way residential streets between given points."""

import numpy as np

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
