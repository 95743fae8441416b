"""RoadData: a road network as plain arrays, the one shape every part speaks.

Readers (files), the demo-city generator and the PostGIS store produce it; the store saves it
and the router is built from it. Vertex i is at (lon[i], lat[i]); arc j runs src[j] -> dst[j].
A two-way street is two arcs. Arcs are straight segments between their vertices.
"""

from dataclasses import dataclass, field

import numpy as np


class RoadDataError(ValueError):
    """Bad road input: the message says what and where, for the person importing."""


@dataclass
class RoadData:
    lon: np.ndarray  # float64, one per vertex
    lat: np.ndarray  # float64
    src: np.ndarray  # int32, one per arc
    dst: np.ndarray  # int32
    length_m: np.ndarray  # float64
    time_s: np.ndarray  # float64, free-flow travel time
    road_class: np.ndarray  # int8, fleet.models.RoadClass values
    oneway: np.ndarray  # bool: True when the arc has no reverse arc by design
    names: list[str] = field(default_factory=list)  # one per arc, or empty when unknown

    @property
    def vertex_count(self) -> int:
        return len(self.lon)

    @property
    def arc_count(self) -> int:
        return len(self.src)
