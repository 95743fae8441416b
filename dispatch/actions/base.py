"""What every action shares: its error type and input checks."""

from django.contrib.gis.geos import Point


class ActionError(Exception):
    """A refused change: nothing was written. `status` is the HTTP status an API returns."""

    def __init__(self, message: str, code: str = "invalid", status: int = 400) -> None:
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
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ActionError(f"Coordinates out of range: longitude {lon}, latitude {lat}.", "bad_coordinates")
    if lon == 0 and lat == 0:
        raise ActionError("Coordinates 0,0 are a GPS fault, not a place.", "bad_coordinates")
    return Point(lon, lat, srid=4326)


def checked_text(value: str | None, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise ActionError(f"{field} is too long ({len(value)} > {max_length} characters).", "too_long")
    return value
