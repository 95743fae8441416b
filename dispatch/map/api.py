"""Map data: units, stations, hospitals, the road network, routes (each unit's on its job too) and
snapping."""

from django.contrib.gis.db.models import Extent
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from dispatch.core.fields import LonLat, RoadPointOut
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.map.reads import live_routes
from fleet.models import RoadNetwork, Station, road_geojson_by_class
from hospitals.models import Hospital

router = Router(tags=["map"])


class MapPointOut(Schema):
    id: int
    name: str
    name_en: str
    lon: float
    lat: float


class StationOut(MapPointOut):
    pass


class HospitalSummaryOut(MapPointOut):
    capabilities: list[str]
    diverting: list[str]
    has_board: bool


@router.get("/stations", response=list[StationOut], summary="Ambulance stations")
def stations(request: SignedInRequest) -> list[dict]:
    return [
        {"id": s.pk, "name": s.name, "name_en": s.name_en, "lon": s.location.x, "lat": s.location.y}
        for s in Station.objects.all()
    ]


@router.get(
    "/hospitals", response=list[HospitalSummaryOut], summary="Hospitals with capabilities and diversion"
)
def hospitals(request: SignedInRequest) -> list[dict]:
    return [
        {
            "id": h.pk,
            "name": h.name,
            "name_en": h.name_en,
            "lon": h.location.x,
            "lat": h.location.y,
            "capabilities": h.capabilities,
            "diverting": h.diverting,
            "has_board": h.has_board,
        }
        for h in Hospital.objects.all()
    ]


class BBox(Schema):
    west: float = Field(..., ge=-180, le=180)
    south: float = Field(..., ge=-90, le=90)
    east: float = Field(..., ge=-180, le=180)
    north: float = Field(..., ge=-90, le=90)
    zoom: int = Field(14, ge=0, le=22)


class NetworkOut(Schema):
    id: int
    name: str
    is_demo: bool
    vertex_count: int
    arc_count: int
    west: float | None
    south: float | None
    east: float | None
    north: float | None


@router.get(
    "/roads/network",
    response={200: NetworkOut, **errors(404)},
    summary="The active road network and its extent",
)
def network(request: SignedInRequest) -> dict:
    active = RoadNetwork.objects.active()
    if active is None:
        raise HttpError(404, _("No road network is loaded. Run make_demo_city or import_roads."))
    extent = active.vertices.aggregate(extent=Extent("point"))["extent"] or (None,) * 4
    return {
        "id": active.pk,
        "name": active.name,
        "is_demo": active.is_demo,
        "vertex_count": active.vertex_count,
        "arc_count": active.arc_count,
        "west": extent[0],
        "south": extent[1],
        "east": extent[2],
        "north": extent[3],
    }


# Fewer minor roads when zoomed out, so the browser draws what a person can see.
MAX_CLASS_BY_ZOOM = [(11, 3), (12, 5), (13, 7), (99, 10)]


ROADS_GEOJSON = {
    "responses": {
        200: {
            "description": "a GeoJSON FeatureCollection; each feature has properties.road_class",
            "content": {"application/json": {"schema": {"type": "object", "required": ["type", "features"]}}},
        }
    }
}


@router.get(
    "/roads",
    response={200: None, **errors(404)},
    summary="Roads in a box as GeoJSON, one feature per road class",
    openapi_extra=ROADS_GEOJSON,
)
def roads(request: SignedInRequest, box: Query[BBox]) -> HttpResponse:
    if box.west >= box.east or box.south >= box.north:
        raise HttpError(422, _("The box must have west < east and south < north."))
    active = RoadNetwork.objects.active()
    if active is None:
        raise HttpError(404, _("No road network is loaded."))
    max_class = next(limit for zoom, limit in MAX_CLASS_BY_ZOOM if box.zoom <= zoom)
    rows = road_geojson_by_class(active.pk, (box.west, box.south, box.east, box.north), max_class)
    features = ",".join(
        f'{{"type":"Feature","properties":{{"road_class":{r["road_class"]}}},"geometry":{r["geometry"]}}}'
        for r in rows
    )
    body = f'{{"type":"FeatureCollection","network":{active.pk},"features":[{features}]}}'
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "private, max-age=3600"  # a network never changes after import
    return response


def road_router():
    """The process's resident router, or 404 when no network is loaded."""
    from fleet.roads.router import get_router

    loaded = get_router()
    if loaded is None:
        raise HttpError(404, _("No road network is loaded."))
    return loaded


@router.get(
    "/roads/snap",
    response={200: RoadPointOut, **errors(404)},
    summary="The nearest point on the road network",
)
def snap(request: SignedInRequest, point: Query[LonLat]) -> dict:
    result = road_router().snap(point.lon, point.lat)
    return {"lon": result.lon, "lat": result.lat, "distance_m": result.distance_m}


class RouteOut(Schema):
    seconds: float
    metres: float
    coordinates: list[list[float]] = Field(description="[longitude, latitude] pairs along the route")


@router.get(
    "/roads/route", response={200: RouteOut, **errors(404)}, summary="Fastest road route between two points"
)
def route(
    request: SignedInRequest,
    from_lon: float = Query(..., ge=-180, le=180),
    from_lat: float = Query(..., gt=-90, lt=90),
    to_lon: float = Query(..., ge=-180, le=180),
    to_lat: float = Query(..., gt=-90, lt=90),
) -> dict:
    result = road_router().route((from_lon, from_lat), (to_lon, to_lat))
    if result is None or result.seconds == float("inf"):
        raise HttpError(422, _("No road route connects these points."))
    return {"seconds": result.seconds, "metres": result.metres, "coordinates": result.coordinates}


class UnitRouteOut(Schema):
    assignment: int
    unit: int
    call_sign: str
    incident: int
    to: str = Field(description="scene (on its way to the patient) or hospital (with the patient)")
    seconds: float = Field(description="road time from the unit's last position")
    metres: float
    coordinates: list[list[float]] = Field(description="[longitude, latitude] pairs along the route")


@router.get(
    "/roads/unit-routes",
    response={200: list[UnitRouteOut], **errors(403, 404)},
    summary="The road route of every unit on its way to a scene or a hospital (control room)",
)
def unit_routes(request: SignedInRequest) -> list[dict]:
    """For the city map: from each unit's last position to its incident while it is sent or en
    route, to its hospital while transporting. On scene or at the hospital it has none."""
    require_role(request, *CONTROL_ROOM)
    return live_routes(road_router())
