"""The external geocoder over HTTP, for the console to ask when the gazetteer finds nothing.
It answers within GEOCODER_TIMEOUT_MS either way: a found point, nothing, or a 503 saying the
geocoder is down (the gazetteer and the map pin keep working)."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.errors import json_error
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.locate import geocoding

router = Router(tags=["locate"])


class GeocodeQuery(Schema):
    q: str = Field(..., min_length=2, max_length=120, description="an address, in Chinese or English")


class GeocodedOut(Schema):
    lon: float = Field(..., description="WGS-84, converted from the provider's datum")
    lat: float
    address: str
    provider: str
    raw_lon: float = Field(..., description="as the provider gave it (GCJ-02 for AMap, BD-09 for Baidu)")
    raw_lat: float


class GeocodeOut(Schema):
    result: GeocodedOut | None


@router.get(
    "/geocode",
    response={200: GeocodeOut, **errors(403, 404, 503)},
    summary="Ask the external geocoder (fallback to the gazetteer); 503 when it is down or slow",
    description="404 when this deployment has no external geocoder (GEOCODER is empty).",
)
def geocode(request: HttpRequest, q: Query[GeocodeQuery]) -> Status:
    require_role(request, *CONTROL_ROOM)
    try:
        found = geocoding.geocode(q.q)
    except geocoding.NoGeocoder as exc:
        return json_error(404, str(exc), "no_geocoder")
    except geocoding.GeocoderDown as exc:
        return json_error(503, str(exc), "geocoder_down")
    return Status(200, {"result": found.__dict__ if found else None})
