"""Vehicle positions in: trackers speaking the OsmAnd protocol, and the crew tablet's browser.

OsmAnd is the protocol of the Traccar Client app and of many dedicated trackers (Traccar's
OsmAndProtocolDecoder is the reference): one fix per HTTP request, any method, the fields as query
parameters or as a form body; Traccar Client 9 and later send one JSON object instead (the
background-geolocation SDK's format). Fields: `id` (or `deviceid`), `lat`, `lon` (or
`location=lat,lon`), `timestamp` (unix seconds, unix milliseconds or ISO 8601), `speed` in KNOTS,
`bearing` (or `heading`) in degrees, `accuracy` in metres, `valid`; `altitude`, `batt` and any
other field are accepted and not stored.

A tracker proves which unit it is with the unit's tracker key (shown in the admin, with the two
ways to set it): as the device identifier (`id`), or as the last segment of the server URL,
`/api/osmand/<key>`, when the device identifier must stay the IMEI. The IMEI (Unit.tracker_id)
alone is accepted only from the networks in TRACKER_IMEI_NETWORKS. An unknown key, a wrong key
and an IMEI from elsewhere all get the same 404, which never repeats what was sent; they are
counted per reason and hour (RejectedFix), and after RATE_LIMITS_PER_MINUTE["tracker_unknown"] a
minute from one address they get 429. A known key is never limited.

Status codes are chosen for how the clients retry. Traccar Client buffers every fix and resends
the oldest until the server answers 2xx (the classic app every 30 s, treating any status of 400
or more as a failure; the SDK-based app keeps the record until 2xx), so a refused fix answered
with a 4xx would be resent forever and hold up every fix behind it. An impossible fix from a
known tracker is therefore answered 200 with `"stored": false` and the reason, and counted
(RejectedFix). An unknown tracker gets 404 (the Traccar server answers 400): its fixes stay on
the device and arrive once it is set up with its unit's key.

Under daphne the trackers' path is answered by TrackerFastPath (end of this module) before
Django's stack; the django-ninja route runs the same osmand_answer for the schema, WSGI and tests.
"""

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from dispatch.core.actions import ActionError
from dispatch.core.inputs import json_nul, nul_message, querydict_nul
from dispatch.core.openapi import ErrorOut, errors
from dispatch.core.ratelimit import WINDOW_SECONDS, client_address
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Role
from dispatch.positions.actions import (
    Fix,
    PositionResult,
    TrackerFix,
    record_position,
    store_tracker_fixes,
    tracker_credential,
)
from fleet.models import PositionSource, Unit

log = logging.getLogger(__name__)

router = Router(tags=["positions"])

KNOTS_TO_KMH = 1.852
MPS_TO_KMH = 3.6
# Traccar's rule: a numeric timestamp below 2^31 is in seconds, otherwise in milliseconds.
SECONDS_LIMIT = 2**31 - 1


class OsmAndOut(Schema):
    stored: bool
    moved: bool
    code: str = ""
    error: str = ""


def refused(exc: ActionError) -> dict:
    return {"stored": False, "moved": False, "code": exc.code, "error": exc.message}


OSMAND_FIELDS = [
    (
        "id",
        "the unit's tracker key, unless the URL carries it (or `deviceid`); "
        "the IMEI alone only from TRACKER_IMEI_NETWORKS",
    ),
    ("lat", "latitude, degrees WGS-84"),
    ("lon", "longitude, degrees WGS-84"),
    ("timestamp", "fix time: unix seconds, unix milliseconds or ISO 8601; none means now"),
    ("speed", "speed in knots"),
    ("bearing", "heading in degrees from north (or `heading`)"),
    ("accuracy", "accuracy radius in metres; 0 means not given"),
    ("valid", "false or 0: the device says the fix is not valid"),
    ("altitude", "metres; accepted, not stored"),
    ("batt", "battery %; accepted, not stored"),
]
# The fields come as query parameters, or (when the query is empty) as a form body, or as the
# JSON object of Traccar Client 9+: lat and lon are required in whichever form is used, and id
# unless the URL carries the key.
OSMAND_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
    for name, text in OSMAND_FIELDS
]
OSMAND_FORM = {
    "type": "object",
    "properties": {name: {"type": "string", "description": text} for name, text in OSMAND_FIELDS},
}
NUMBER = {"type": "number"}
TRACCAR_JSON = {
    "type": "object",
    "required": ["device_id", "location"],
    "properties": {
        "device_id": {"type": "string"},
        "location": {
            "type": "object",
            "required": ["coords"],
            "properties": {
                "timestamp": {"type": "string", "format": "date-time"},
                "coords": {
                    "type": "object",
                    "required": ["latitude", "longitude"],
                    "properties": {
                        "latitude": NUMBER,
                        "longitude": NUMBER,
                        "accuracy": {**NUMBER, "description": "metres"},
                        "speed": {**NUMBER, "description": "m/s; -1 unknown"},
                        "heading": {**NUMBER, "description": "degrees; -1 unknown"},
                        "altitude": NUMBER,
                    },
                },
            },
        },
    },
}
OSMAND_BODY = {
    "required": False,
    "content": {
        "application/x-www-form-urlencoded": {"schema": OSMAND_FORM},
        "application/json": {"schema": TRACCAR_JSON},
    },
}


class RouteOptions(TypedDict):
    """The keyword arguments of the OsmAnd route, the same for both methods."""

    auth: None
    response: dict[int, Any]
    summary: str
    description: str
    openapi_extra: dict[str, Any]


OSMAND: RouteOptions = {
    # Trackers carry no session: a device proves its unit by the unit's tracker key (see above).
    # With auth=None django-ninja does no CSRF check: devices have no CSRF token.
    "auth": None,
    "response": {200: OsmAndOut, **errors(400, 404, 422, 429)},
    "summary": "A position fix from a tracker (OsmAnd protocol, Traccar Client)",
    "description": __doc__.split("\n\n", 1)[1],
    "openapi_extra": {"parameters": OSMAND_PARAMETERS},
}
OSMAND_POST: RouteOptions = {
    **OSMAND,
    "openapi_extra": {"parameters": OSMAND_PARAMETERS, "requestBody": OSMAND_BODY},
}


# Both methods, as the protocol allows any (Traccar Client posts with the fields in the query).
# Under daphne, TrackerFastPath (fast_path.py) answers these paths before Django; these routes
# serve the same function for the schema, WSGI and the test client.
@router.get("/osmand", operation_id="osmand_get", **OSMAND)
@router.post("/osmand", operation_id="osmand_post", **OSMAND_POST)
def osmand(request: HttpRequest, response: HttpResponse) -> Status:
    return osmand_route(request, response, "")


@router.get("/osmand/{key}", operation_id="osmand_key_get", **OSMAND)
@router.post("/osmand/{key}", operation_id="osmand_key_post", **OSMAND_POST)
def osmand_with_key(request: HttpRequest, response: HttpResponse, key: str) -> Status:
    return osmand_route(request, response, key)


def osmand_route(request: HttpRequest, response: HttpResponse, key: str) -> Status:
    form = request.POST if request.content_type in FORM_TYPES else None
    body = b"" if form is not None else request.body  # a multipart body is read once, by POST
    # Django sets content_type on every request ("" without the header); the stubs allow None.
    status, answer = osmand_answer(
        request.GET, request.content_type or "", body, form, key=key, address=client_address(request)
    )
    for header, value in retry_after(status).items():
        response[header] = value
    return Status(status, answer)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def osmand_answer(
    query: QueryDict,
    content_type: str,
    body: bytes,
    form: QueryDict | None = None,
    *,
    key: str = "",
    address: str = "",
) -> tuple[int, dict]:
    """The whole OsmAnd exchange, whoever serves the HTTP: (status, JSON body). `key` is the
    server URL's last segment (/api/osmand/<key>), `address` the client's (ratelimit.client_address).
    The fix is stored as a batch of one; under daphne the fast path reads requests with
    osmand_read and stores them in batches (fast_path.py)."""
    read = osmand_read(query, content_type, body, form, key=key, address=address)
    if isinstance(read, tuple):
        return read
    (outcome,) = store_tracker_fixes([read])
    if isinstance(outcome, Exception) and not isinstance(outcome, ActionError):
        raise outcome
    return tracker_answer(outcome)


def osmand_read(
    query: QueryDict,
    content_type: str,
    body: bytes,
    form: QueryDict | None = None,
    *,
    key: str = "",
    address: str = "",
) -> TrackerFix | tuple[int, dict]:
    """A request read without the database: the fix to store (or why it could not be read, to be
    counted against its unit), or an answer at once."""
    received_at = timezone.now()
    field = osmand_nul(query, content_type, body, form)
    if field is not None:
        return 422, {"error": nul_message(field), "code": "nul_character"}
    device, read_fix = osmand_request(query, content_type, body, form)
    credential = tracker_credential(device, address, key)
    try:
        fix: Fix | ActionError = read_fix()
    except ActionError as exc:
        fix = exc  # an unknown tracker's garbage still gets the unknown tracker's 404
    return TrackerFix(credential, fix, received_at, address)


def tracker_answer(outcome: PositionResult | ActionError) -> tuple[int, dict]:
    """What a tracker hears: an impossible fix 200 (or the device resends it forever), no such
    tracker 4xx."""
    if isinstance(outcome, PositionResult):
        return 200, {"stored": True, "moved": outcome.moved, "code": "", "error": ""}
    return (200, refused(outcome)) if outcome.status == 422 else (outcome.status, json_body(outcome))


def retry_after(status: int) -> dict[str, str]:
    """The Retry-After header of a 429 (ratelimit's windows are whole minutes), else none."""
    if status != 429:
        return {}
    return {"Retry-After": str(max(1, WINDOW_SECONDS - int(timezone.now().timestamp()) % WINDOW_SECONDS))}


def json_body(exc: ActionError) -> dict:
    """The body of json_error (dispatch.core.errors), for answers built outside Django's handlers."""
    return {"error": exc.message, "code": exc.code}


def osmand_nul(query: QueryDict, content_type: str, body: bytes, form: QueryDict | None) -> str | None:
    """The field holding a NUL, wherever this protocol may carry it (under daphne this path
    skips Django's middleware, dispatch.core.inputs, so it checks for itself)."""
    if found := querydict_nul(query):
        return found
    if content_type == "application/json":
        return json_nul(body)
    return querydict_nul(form if form is not None else QueryDict(body, encoding="utf-8"))


def osmand_request(
    query: QueryDict, content_type: str, body: bytes, form: QueryDict | None
) -> tuple[str, Callable[[], Fix]]:
    """The device id, and how to read the fix: query parameters first, else the body (a form,
    or the JSON object of Traccar Client 9+)."""
    if query:
        params = query
    elif content_type == "application/json":
        return json_request(body)
    elif form is not None:
        params = form
    else:
        # A query string in the body under any other Content-Type (trackers are careless with it).
        params = QueryDict(body, encoding="utf-8")
    device = params.get("id") or params.get("deviceid") or ""
    return device, lambda: osmand_fix(params)


def bad_input(message: str) -> ActionError:
    return ActionError(message, "bad_input", 422)


# A refused value is quoted in the answer at most this long: a JSON integer may have hundreds
# of digits, a text thousands of characters.
QUOTED_CHARS = 20


def quoted(value: object) -> object:
    """The value as a refusal quotes it, cut to QUOTED_CHARS characters."""
    text = str(value)
    return value if len(text) <= QUOTED_CHARS else f"{text[:QUOTED_CHARS]}…"


def number(params: Mapping[str, Any], name: str, scale: float = 1.0) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value) * scale
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: a JSON integer past a float
        message = _("%(name)s is not a number: %(value)r.") % {"name": name, "value": quoted(value)}
        raise bad_input(message) from exc


def osmand_fix(params: QueryDict) -> Fix:
    if params.get("valid", "true").lower() in ("false", "0"):
        raise ActionError(_("The device marked this fix as not valid."), "invalid_fix", 422)
    lat, lon = number(params, "lat"), number(params, "lon")
    location = params.get("location")
    if (lat is None or lon is None) and location:
        lat_text, _comma, lon_text = location.partition(",")
        lat, lon = number({"lat": lat_text}, "lat"), number({"lon": lon_text}, "lon")
    if lat is None or lon is None:
        raise bad_input(_("lat and lon are required."))
    accuracy = number(params, "accuracy")
    return Fix(
        lon=lon,
        lat=lat,
        at=parse_timestamp(params.get("timestamp")),
        speed_kmh=number(params, "speed", KNOTS_TO_KMH),
        heading=number(params, "bearing") if params.get("bearing") else number(params, "heading"),
        # Traccar Client sends accuracy 0 for a satellite fix (it reports the radius only for
        # network fixes): 0 means "not given", not "perfect".
        accuracy_m=accuracy or None,
    )


def parse_timestamp(value: object) -> datetime:
    """Unix seconds, unix milliseconds or ISO 8601 (naive means UTC); none means now. A JSON
    fix may carry anything here: a list, an object or true is refused, not tried as a number."""
    if value is None or value == "":
        return timezone.now()
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_input(_("timestamp must be unix time or ISO 8601 text."))
    try:
        numeric = float(value)
    except OverflowError as exc:  # a JSON integer past a float's range
        raise bad_input(_("timestamp %(value)r is out of range.") % {"value": quoted(value)}) from exc
    except ValueError:
        pass
    else:
        seconds = numeric if abs(numeric) < SECONDS_LIMIT else numeric / 1000
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise bad_input(_("timestamp %(value)r is out of range.") % {"value": quoted(value)}) from exc
    try:
        at = datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        message = _("timestamp %(value)r is not unix time or ISO 8601.") % {"value": quoted(value)}
        raise bad_input(message) from exc
    return at if timezone.is_aware(at) else at.replace(tzinfo=UTC)


def json_request(body: bytes) -> tuple[str, Callable[[], Fix]]:
    """Traccar Client 9+: {"device_id": ..., "location": {"timestamp": ISO, "coords": {...}}},
    speed in m/s (not knots) in this format."""
    try:
        data = json.loads(body or b"{}")
        location = data.get("location") or {}
        device = str(data.get("device_id") or "")
    except (ValueError, AttributeError):
        location, device = {}, ""  # no device id: a 400 before the fix is read

    def read() -> Fix:
        coords = (location.get("coords") or {}) if isinstance(location, dict) else None
        if not isinstance(coords, dict):
            raise bad_input(_("location.coords must be an object."))
        lat, lon = number(coords, "latitude"), number(coords, "longitude")
        if lat is None or lon is None:
            raise bad_input(_("location.coords.latitude and longitude are required."))
        speed = number(coords, "speed", MPS_TO_KMH)
        heading = number(coords, "heading")
        return Fix(
            lon=lon,
            lat=lat,
            at=parse_timestamp(location.get("timestamp")),
            # The SDK reports -1 for "unknown" speed and heading.
            speed_kmh=None if speed is not None and speed < 0 else speed,
            heading=None if heading is not None and heading < 0 else heading,
            accuracy_m=number(coords, "accuracy"),
        )

    return device, read


# -- the crew tablet ------------------------------------------------------------------------


class CrewFixIn(Schema):
    """What the browser's watchPosition gives (GeolocationCoordinates), as it gives it."""

    lon: float
    lat: float
    accuracy: float | None = None  # metres
    speed: float | None = None  # m/s; null when the browser does not know
    heading: float | None = None  # degrees from north; null when standing
    at: datetime | None = None  # Position.timestamp (ISO 8601 or epoch ms); none means now


class CrewFixOut(Schema):
    unit: int
    call_sign: str
    moved: bool
    lon: float | None
    lat: float | None
    position_at: datetime | None
    position_stale: bool
    speed_kmh: float | None
    heading: float | None


def shift_unit(request: SignedInRequest) -> Unit:
    """The unit of the signed-in crew member's current shift, or 403."""
    user = request.user
    shift = user.shifts.current().select_related("unit").first() if user.role == Role.CREW else None
    if shift is None:
        raise HttpError(403, _("Only a crew member on shift reports the unit's position."))
    return shift.unit


@router.post(
    "/crew/position",
    response={200: CrewFixOut, 403: ErrorOut, 422: ErrorOut},
    summary="The crew tablet reports its unit's position",
)
def crew_position(request: SignedInRequest, payload: CrewFixIn) -> dict:
    received_at = timezone.now()
    unit = shift_unit(request)
    fix = Fix(
        lon=payload.lon,
        lat=payload.lat,
        at=payload.at or received_at,
        speed_kmh=payload.speed * MPS_TO_KMH if payload.speed is not None else None,
        heading=payload.heading,
        accuracy_m=payload.accuracy,
    )
    result = record_position(unit, fix, source=PositionSource.TABLET, received_at=received_at)
    unit.refresh_from_db(fields=["position", "position_at", "speed_kmh", "heading"])
    return {
        "unit": unit.pk,
        "call_sign": unit.call_sign,
        "moved": result.moved,
        "lon": unit.position.x if unit.position else None,
        "lat": unit.position.y if unit.position else None,
        "position_at": unit.position_at,
        "position_stale": unit.is_position_stale(),
        "speed_kmh": unit.speed_kmh,
        "heading": unit.heading,
    }
