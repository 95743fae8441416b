"""What every action shares: its error type and input checks."""

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _


class ActionError(Exception):
    """A refused change: nothing was written. `status` is the HTTP status an API returns."""

    def __init__(self, message: str, code: str = "invalid", status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def checked_point(lon: float, lat: float) -> Point:
    """A WGS-84 point, refusing impossible coordinates (and the 0,0 of a broken GPS)."""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise ActionError("Coordinates must be numbers.", "bad_coordinates") from exc
    # The poles are refused too: no ambulance goes there, and no map projection of ours holds them.
    if not (-180 <= lon <= 180 and -90 < lat < 90):
        raise ActionError(
            f"Coordinates out of range: longitude {lon}, latitude {lat}.", "bad_coordinates", 422
        )
    if lon == 0 and lat == 0:
        raise ActionError("Coordinates 0,0 are a GPS fault, not a place.", "bad_coordinates", 422)
    return Point(lon, lat, srid=4326)


def reachable_scene(point: Point) -> Point:
    """A place a unit can be sent to: within SCENE_MAX_OFF_ROAD_M of the active road network
    (any place, when no network is loaded). A pin dropped in the sea, in another province or at
    a pole is refused where the location is set, not later by every recommendation."""
    from fleet.roads.router import get_router  # the router module pulls in numba: load it late

    router = get_router()
    if router is None:
        return point
    off_road_m = router.snap(point.x, point.y).distance_m
    if off_road_m > settings.SCENE_MAX_OFF_ROAD_M:
        message = _("No road within %(km).1f km of this point (the nearest is %(off).1f km away).")
        numbers = {"km": settings.SCENE_MAX_OFF_ROAD_M / 1000, "off": off_road_m / 1000}
        raise ActionError(message % numbers + " " + _("Check the location."), "no_road_near", 422)
    return point


def checked_text(value: str | None, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise ActionError(f"{field} is too long ({len(value)} > {max_length} characters).", "too_long")
    return value
