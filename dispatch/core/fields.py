"""Field types the API's schemas share, so one rule holds everywhere it applies."""

from typing import Annotated

from ninja import Schema
from pydantic import Field

Longitude = Annotated[float, Field(ge=-180, le=180, description="degrees east, WGS-84")]
# The poles are refused: no unit is sent there, and the road network cannot be snapped to them.
Latitude = Annotated[float, Field(gt=-90, lt=90, description="degrees north, WGS-84")]


class LonLat(Schema):
    lon: Longitude
    lat: Latitude


class RoadPointOut(Schema):
    """The nearest point on the road network, and how far it is from the point asked about."""

    lon: float
    lat: float
    distance_m: float
