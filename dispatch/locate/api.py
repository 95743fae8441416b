"""Locating the incident: gazetteer search, what is at a point, and calls that may be duplicates."""

from dataclasses import asdict
from datetime import datetime

from django.contrib.gis.geos import Point
from django.http import JsonResponse
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.actions import ActionError, checked_point
from dispatch.core.errors import json_error
from dispatch.core.fields import Latitude, Longitude, LonLat, RoadPointOut
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.locate import geocoding
from dispatch.locate.reads import Duplicate, SearchText, places, possible_duplicates, whereabouts
from dispatch.models import Place

router = Router(tags=["locate"])


class PlaceOut(Schema):
    id: int
    name: str
    name_en: str
    kind: str
    lon: float
    lat: float
    address: str
    district: str
    match: str | None = Field(None, description="name, pinyin, initials or fuzzy (search only)")
    distance_m: float | None = Field(None, description="from the point given, in metres")


class ReverseOut(Schema):
    place: PlaceOut | None = Field(None, description="the nearest named place within 5 km")
    snap: RoadPointOut | None = Field(None, description="the nearest road point; absent with no road network")


class DuplicateOut(Schema):
    id: int
    number: str
    reason: str = Field(..., description="same_caller or nearby: the strongest of `reasons`")
    reasons: list[str]
    distance_m: float | None
    created_at: datetime
    status: str
    caller_number: str
    address: str
    chief_complaint: str
    lon: float | None
    lat: float | None


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=60, description="Chinese, pinyin, initials or English")
    lon: Longitude | None = Field(None, description="rank nearer places first among equals")
    lat: Latitude | None = None
    limit: int = Field(10, ge=1, le=50)


class DuplicatesQuery(Schema):
    lon: Longitude | None = None
    lat: Latitude | None = None
    caller_number: str = Field("", max_length=32)
    exclude: int | None = Field(None, description="an incident to leave out: the one being taken")


def optional_point(lon: float | None, lat: float | None) -> Point | None:
    if (lon is None) != (lat is None):
        raise ActionError("Give both longitude and latitude, or neither.", "bad_coordinates")
    return None if lon is None or lat is None else checked_point(lon, lat)


def place_out(place: Place) -> dict:
    return {
        "id": place.pk,
        "name": place.name,
        "name_en": place.name_en,
        "kind": place.kind,
        "lon": place.point.x,
        "lat": place.point.y,
        "address": place.address,
        "district": place.district,
        "match": getattr(place, "match", None),
        "distance_m": getattr(place, "distance_m", None),
    }


def duplicate_out(found: Duplicate) -> dict:
    incident = found.incident
    return {
        "id": incident.pk,
        "number": incident.number,
        "reason": found.reason,
        "reasons": list(found.reasons),
        "distance_m": found.distance_m,
        "created_at": incident.created_at,
        "status": incident.status,
        "caller_number": incident.caller_number,
        "address": incident.address,
        "chief_complaint": incident.chief_complaint,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
    }


@router.get(
    "/places/search",
    response={200: list[PlaceOut], **errors(403)},
    exclude_none=True,
    summary="Find places by Chinese name, pinyin, initials or English, typos forgiven",
)
def search_places(request: SignedInRequest, query: Query[SearchQuery]) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    near = optional_point(query.lon, query.lat)
    if SearchText.parse(query.q).empty:
        raise ActionError("Type a name, its pinyin or its initials.", "empty_query")
    return [place_out(p) for p in places().search(query.q, near=near, limit=query.limit)]


@router.get(
    "/places/reverse",
    response={200: ReverseOut, **errors(403)},
    exclude_none=True,
    summary="The nearest named place to a point, and the nearest road",
)
def reverse(request: SignedInRequest, at: Query[LonLat]) -> dict:
    require_role(request, *CONTROL_ROOM)
    found = whereabouts(checked_point(at.lon, at.lat))
    return {
        "place": place_out(found.place) if found.place else None,
        "snap": asdict(found.snap) if found.snap else None,
    }


@router.get(
    "/incidents/duplicates",
    response={200: list[DuplicateOut], **errors(403)},
    summary="Open incidents nearby and recent incidents from the same number",
)
def duplicates(request: SignedInRequest, query: Query[DuplicatesQuery]) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    point = optional_point(query.lon, query.lat)
    if point is None and not query.caller_number.strip():
        raise ActionError("Give a location, a caller number or both.", "nothing_to_match")
    found = possible_duplicates(point, query.caller_number, exclude=query.exclude)
    return [duplicate_out(d) for d in found]


# --- the external geocoder, behind the gazetteer -----------------------------------------------
# It answers within GEOCODER_TIMEOUT_MS either way: a found point, nothing, or a 503 saying the
# geocoder is down (the gazetteer and the map pin keep working).


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
def geocode(request: SignedInRequest, q: Query[GeocodeQuery]) -> Status | JsonResponse:
    require_role(request, *CONTROL_ROOM)
    try:
        found = geocoding.geocode(q.q)
    except geocoding.NoGeocoder as exc:
        return json_error(404, str(exc), "no_geocoder")
    except geocoding.GeocoderDown as exc:
        return json_error(503, str(exc), "geocoder_down")
    return Status(200, {"result": found.__dict__ if found else None})
