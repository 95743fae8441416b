"""The centre's registry: its stations, units, hospitals, gazetteer places, districts and users.

Each `save_*` is an upsert on the record's stable key (a station's code, a unit's call sign, a
hospital's code, a district's code, a user's name, a place's reference or kind + name +
district): one transaction that checks every field, writes the record and one event (created or
updated). Saving what is already stored writes nothing and records nothing, so an import run
twice changes nothing the second time. Screens, the admin, the file importer and the demo city
all come through here (docs/decisions/0016-centre-import.md).

Refusals are `FieldError`s (an ActionError naming the field), in the user's language.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.contrib.auth import password_validation
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.search_keys import search_keys
from dispatch.models import District, Place, PlaceKind, Role, User
from fleet.models import KIND_CAPABILITIES, StandbyPoint, Station, Unit, UnitCapability, UnitKind
from hospitals.endpoints import https_only
from hospitals.models import Capability, Hospital

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

M = TypeVar("M", bound=models.Model)

PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Two positions closer than this (degrees, about 1 cm) are the same: a file holds 7 decimals.
SAME_POINT_DEG = 1e-7


# Inside `rehearsal()`: a dry run, rolled back at its end.
REHEARSING: ContextVar[bool] = ContextVar("registry_rehearsing", default=False)


@contextmanager
def rehearsal() -> Iterator[None]:
    """Saves made inside record no event and lock no row before they write it, for a dry run
    that is rolled back: an event would take the event log's counter (decision 4) and hold every
    other writer in the centre until the dry run ends."""
    token = REHEARSING.set(True)
    try:
        yield
    finally:
        REHEARSING.reset(token)


def announce(kind: str, **fields: Any) -> None:
    """The save's one event (none in a rehearsal)."""
    if not REHEARSING.get():
        record_event(kind, **fields)


class FieldError(ActionError):
    """A refused value, naming the field (the importer reports it as the file's column)."""

    def __init__(self, field: str, message: str, code: str = "invalid", status: int = 422) -> None:
        super().__init__(message, code, status)
        self.field = field


@dataclass
class Saved(Generic[M]):
    """What a save did: the record, whether it was created, updated or left as it was, and
    which fields changed."""

    obj: M
    outcome: str
    changed: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.outcome == CREATED

    def pair(self) -> tuple[M, bool]:
        return self.obj, self.created


# ---------------------------------------------------------------------------------------------
# Field checks


def text(value: object, name: str, label: str, max_length: int, *, required: bool = False) -> str:
    """A trimmed one-line text: no control characters, not too long, present when required."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, _("%(field)s must be text.") % {"field": label})
    value = unicodedata.normalize("NFC", value.strip())
    bad = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")), None)
    if bad is not None:
        raise FieldError(
            name,
            _("%(field)s contains a character that cannot be stored (U+%(code)04X).")
            % {"field": label, "code": ord(bad)},
        )
    if required and not value:
        raise FieldError(name, _("%(field)s is required.") % {"field": label})
    if len(value) > max_length:
        raise FieldError(
            name,
            _("%(field)s is too long: %(length)d characters, at most %(max)d.")
            % {"field": label, "length": len(value), "max": max_length},
        )
    return value


def key_text(value: object, name: str, label: str, max_length: int) -> str:
    """A record's key: required, and no spaces inside (a code, a call sign, a user name)."""
    value = text(value, name, label, max_length, required=True)
    if any(ch.isspace() for ch in value):
        raise FieldError(name, _("%(field)s must not contain spaces.") % {"field": label})
    return value


def phone_number(value: object, name: str, label: str) -> str:
    """Empty, or an E.164 number (+8659981234567)."""
    number = text(value, name, label, 20).replace(" ", "").replace("-", "")
    if number and not PHONE.match(number):
        raise FieldError(
            name,
            _("%(field)s must be an international number starting with + (E.164), e.g. +8659981234567.")
            % {"field": label},
        )
    return number


def checked_location(value: object, name: str = "location") -> Point:
    """A WGS-84 point with possible coordinates (not 0,0: a broken GPS)."""
    if not isinstance(value, Point) or value.empty:
        raise FieldError(name, _("A location (longitude and latitude) is required."))
    if value.srid not in (None, 4326):
        raise FieldError(name, _("Coordinates must be WGS-84 longitude and latitude (EPSG:4326)."))
    lon, lat = value.x, value.y
    if not (-180 <= lon <= 180 and -90 < lat < 90):
        raise FieldError(
            name,
            _("Coordinates out of range: longitude %(lon)s, latitude %(lat)s.") % {"lon": lon, "lat": lat},
        )
    if lon == 0 and lat == 0:
        raise FieldError(name, _("Coordinates 0,0 are a GPS fault, not a place."))
    return Point(lon, lat, srid=4326)


def choices(values: Iterable[str] | None, allowed: list[str], name: str, label: str) -> list[str]:
    """A list of known values, each once, in the order given."""
    found: list[str] = []
    for value in values or []:
        value = str(value).strip()
        if value and value not in found:
            found.append(value)
    unknown = [v for v in found if v not in allowed]
    if unknown:
        raise FieldError(
            name,
            _("Unknown %(field)s: %(values)s (known: %(known)s).")
            % {"field": label, "values": ", ".join(unknown), "known": ", ".join(allowed)},
        )
    return found


def one_of(value: object, allowed: list[str], name: str, label: str) -> str:
    value = text(value, name, label, 40, required=True)
    if value not in allowed:
        raise FieldError(
            name,
            _("Unknown %(field)s %(value)s (known: %(known)s).")
            % {"field": label, "value": value, "known": ", ".join(allowed)},
        )
    return value


def https_url(value: object, name: str, label: str) -> str:
    url = text(value, name, label, 200)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
            https_only(url)  # http only to this machine's own loopback (a test or local engine)
        except ValidationError as exc:
            raise FieldError(name, _("%(field)s must be an https:// address.") % {"field": label}) from exc
    return url


def outline(value: object, name: str = "polygon") -> MultiPolygon:
    """A valid (multi)polygon in WGS-84, as a MultiPolygon."""
    if isinstance(value, Polygon):
        value = MultiPolygon(value, srid=value.srid)
    if not isinstance(value, MultiPolygon) or value.empty:
        raise FieldError(name, _("A district's outline must be a polygon or multipolygon."))
    if value.srid not in (None, 4326):
        raise FieldError(name, _("Coordinates must be WGS-84 longitude and latitude (EPSG:4326)."))
    value.srid = 4326
    x0, y0, x1, y1 = value.extent
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise FieldError(name, _("The outline's coordinates are out of range."))
    if not value.valid:
        raise FieldError(
            name, _("The outline is not a valid polygon: %(reason)s.") % {"reason": value.valid_reason}
        )
    return value


def same(current: Any, value: Any) -> bool:
    if isinstance(value, GEOSGeometry) or isinstance(current, GEOSGeometry):
        if current is None or value is None or current.geom_type != value.geom_type:
            return False
        return bool(current.equals_exact(value, SAME_POINT_DEG))
    if isinstance(value, list) and isinstance(current, list):
        return sorted(current) == sorted(value)
    return current == value


def upsert(
    model: type[M], key: dict[str, Any], values: dict[str, Any], *, create: dict[str, Any] | None = None
) -> Saved[M]:
    """Create the row, or update the fields that differ, under a row lock; no event yet."""
    rows = model._default_manager.all() if REHEARSING.get() else model._default_manager.select_for_update()
    obj = rows.filter(**key).first()
    if obj is None:
        obj = model(**key, **values, **(create or {}))
        obj.save()
        return Saved(obj, CREATED, sorted(values))
    changed = [name for name, value in values.items() if not same(getattr(obj, name), value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
        return Saved(obj, UPDATED, changed)
    return Saved(obj, UNCHANGED)


def refuse_if_exists(model: type[models.Model], label: str, **key: str) -> None:
    if model._default_manager.filter(**key).exists():
        raise ActionError(
            _("%(what)s %(key)s already exists.") % {"what": label, "key": next(iter(key.values()))},
            "exists",
            409,
        )


# ---------------------------------------------------------------------------------------------
# Stations


def station_values(
    *, name: str, location: Point, name_en: str = "", district: str = "", address: str = ""
) -> dict[str, Any]:
    return {
        "name": text(name, "name", _("Name"), 120, required=True),
        "name_en": text(name_en, "name_en", _("English name"), 120),
        "district": text(district, "district", _("District"), 60),
        "address": text(address, "address", _("Address"), 200),
        "location": checked_location(location),
    }


@transaction.atomic
def put_station(
    code: str,
    *,
    name: str,
    location: Point,
    name_en: str = "",
    district: str = "",
    address: str = "",
    actor: User | None = None,
) -> Saved[Station]:
    code = key_text(code, "code", _("Station code"), 20)
    values = station_values(name=name, location=location, name_en=name_en, district=district, address=address)
    saved = upsert(Station, {"code": code}, values)
    if saved.outcome != UNCHANGED:
        kind = EventKind.STATION_CREATED if saved.created else EventKind.STATION_UPDATED
        data = {"id": saved.obj.pk, "code": code, "name": saved.obj.name, "changed": saved.changed}
        announce(kind, actor=actor, data=data)
    return saved


def save_station(
    code: str,
    *,
    name: str,
    location: Point,
    name_en: str = "",
    district: str = "",
    address: str = "",
    actor: User | None = None,
) -> tuple[Station, bool]:
    """Create or update the station with this code; (station, created)."""
    return put_station(
        code, name=name, location=location, name_en=name_en, district=district, address=address, actor=actor
    ).pair()


@transaction.atomic
def create_station(
    code: str, name: str, location: Point, *, name_en: str = "", district: str = "", address: str = ""
) -> Station:
    """A new station (refused when the code is taken)."""
    refuse_if_exists(Station, _("Station"), code=(code or "").strip())
    station, _created = save_station(
        code, name=name, location=location, name_en=name_en, district=district, address=address
    )
    return station


MAX_STANDBY_CAPACITY = 20


@transaction.atomic
def put_standby_point(
    code: str,
    *,
    name: str,
    location: Point,
    name_en: str = "",
    district: str = "",
    address: str = "",
    capacity: int = 1,
    active: bool = True,
    actor: User | None = None,
) -> Saved[StandbyPoint]:
    """Create or update the standby point with this code (move-ups send units to it)."""
    code = key_text(code, "code", _("Standby point code"), 20)
    values = station_values(name=name, location=location, name_en=name_en, district=district, address=address)
    if type(capacity) is not int or not 1 <= capacity <= MAX_STANDBY_CAPACITY:
        message = _("Capacity is a whole number of units from 1 to %(max)d.") % {"max": MAX_STANDBY_CAPACITY}
        raise FieldError("capacity", message)
    saved = upsert(StandbyPoint, {"code": code}, {**values, "capacity": capacity, "active": bool(active)})
    if saved.outcome != UNCHANGED:
        data = {"id": saved.obj.pk, "code": code, "name": saved.obj.name, "changed": saved.changed}
        announce(EventKind.STANDBY_POINT_SAVED, actor=actor, data=data)
    return saved


# ---------------------------------------------------------------------------------------------
# Units


def unit_values(
    *,
    kind: str,
    capabilities: Iterable[str] | None,
    phone: str = "",
    plate: str = "",
    tracker_id: str | None = None,
) -> dict[str, Any]:
    kind = one_of(kind, list(UnitKind.values), "kind", _("unit kind"))
    caps = (
        list(KIND_CAPABILITIES[kind])
        if capabilities is None
        else choices(capabilities, list(UnitCapability.values), "capabilities", _("capabilities"))
    )
    tracker = text(tracker_id, "tracker_id", _("Tracker device id"), 64) or None
    if tracker and any(ch.isspace() for ch in tracker):
        raise FieldError(
            "tracker_id", _("%(field)s must not contain spaces.") % {"field": _("Tracker device id")}
        )
    return {
        "kind": kind,
        "capabilities": caps,
        "phone": phone_number(phone, "phone", _("Phone")),
        "plate": text(plate, "plate", _("Licence plate"), 20),
        "tracker_id": tracker,
    }


@transaction.atomic
def put_unit(
    call_sign: str,
    *,
    kind: str,
    home_station: Station | None = None,
    capabilities: Iterable[str] | None = None,
    phone: str = "",
    plate: str = "",
    tracker_id: str | None = None,
    position: Point | None = None,
    actor: User | None = None,
) -> Saved[Unit]:
    call_sign = key_text(call_sign, "call_sign", _("Call sign"), 20)
    values = unit_values(
        kind=kind, capabilities=capabilities, phone=phone, plate=plate, tracker_id=tracker_id
    )
    values["home_station_id"] = home_station.pk if home_station is not None else None
    tracker = values["tracker_id"]
    if tracker and (other := Unit.objects.filter(tracker_id=tracker).exclude(call_sign=call_sign).first()):
        raise FieldError(
            "tracker_id",
            _("Tracker %(tracker)s is already bound to unit %(unit)s.") % {"tracker": tracker, "unit": other},
            "tracker_taken",
            409,
        )
    existing = Unit.objects.filter(call_sign=call_sign).first()
    if existing is not None and capabilities is None and existing.kind == values["kind"]:
        values.pop("capabilities")  # no list given and the same kind: keep the unit's own
    start = position or (home_station.location if home_station is not None else None)
    create = {"position": checked_location(start, "position"), "position_at": timezone.now()} if start else {}
    saved = upsert(Unit, {"call_sign": call_sign}, values, create=create)
    if saved.outcome != UNCHANGED:
        kind_ = EventKind.UNIT_CREATED if saved.created else EventKind.UNIT_UPDATED
        data = {"call_sign": call_sign, "kind": saved.obj.kind, "changed": saved.changed}
        if "capabilities" in saved.changed:
            data["capabilities"] = list(saved.obj.capabilities)
        announce(kind_, actor=actor, unit=saved.obj, data=data)
    return saved


def save_unit(
    call_sign: str,
    *,
    kind: str,
    home_station: Station | None = None,
    capabilities: Iterable[str] | None = None,
    phone: str = "",
    plate: str = "",
    tracker_id: str | None = None,
    position: Point | None = None,
    actor: User | None = None,
) -> tuple[Unit, bool]:
    """Create or update the unit with this call sign; (unit, created). Capabilities None: the
    kind's own (kept as they are when the unit exists and its kind does not change). A changed
    capability list counts in the next recommendation: it reads the unit's row."""
    return put_unit(
        call_sign,
        kind=kind,
        home_station=home_station,
        capabilities=capabilities,
        phone=phone,
        plate=plate,
        tracker_id=tracker_id,
        position=position,
        actor=actor,
    ).pair()


@transaction.atomic
def create_unit(
    call_sign: str,
    kind: str,
    *,
    home_station: Station | None = None,
    capabilities: list[str] | None = None,
    position: Point | None = None,
    plate: str = "",
    tracker_id: str | None = None,
) -> Unit:
    """A new unit (refused when the call sign is taken), at its station or `position`."""
    refuse_if_exists(Unit, _("Unit"), call_sign=(call_sign or "").strip())
    unit, _created = save_unit(
        call_sign,
        kind=kind,
        home_station=home_station,
        capabilities=capabilities,
        position=position,
        plate=plate,
        tracker_id=tracker_id,
    )
    return unit


# ---------------------------------------------------------------------------------------------
# Hospitals


def hospital_values(
    *,
    name: str,
    location: Point,
    name_en: str = "",
    short_name: str = "",
    level: str = "",
    address: str = "",
    phone: str = "",
    capabilities: Iterable[str] | None = None,
    fhir_endpoint: str = "",
    has_board: bool = True,
    sms_number: str = "",
) -> dict[str, Any]:
    return {
        "name": text(name, "name", _("Name"), 120, required=True),
        "name_en": text(name_en, "name_en", _("English name"), 120),
        "short_name": text(short_name, "short_name", _("Short name"), 30),
        "level": text(level, "level", _("Grade"), 20),
        "location": checked_location(location),
        "address": text(address, "address", _("Address"), 200),
        "phone": phone_number(phone, "phone", _("Phone")),
        "capabilities": choices(capabilities, list(Capability.values), "capabilities", _("capabilities")),
        "fhir_endpoint": https_url(fhir_endpoint, "fhir_endpoint", _("FHIR endpoint")),
        "has_board": bool(has_board),
        "sms_number": phone_number(sms_number, "sms_number", _("SMS number")),
    }


@transaction.atomic
def put_hospital(code: str, *, actor: User | None = None, **fields: Any) -> Saved[Hospital]:
    code = key_text(code, "code", _("Hospital code"), 120)
    values = hospital_values(**fields)
    if other := Hospital.objects.filter(name=values["name"]).exclude(code=code).first():
        raise FieldError(
            "name",
            _("Another hospital (code %(code)s) already has the name %(name)s.")
            % {"code": other.code, "name": other.name},
            "name_taken",
            409,
        )
    saved = upsert(Hospital, {"code": code}, values)
    if saved.outcome != UNCHANGED:
        kind = EventKind.HOSPITAL_CREATED if saved.created else EventKind.HOSPITAL_UPDATED
        data = {"id": saved.obj.pk, "code": code, "name": saved.obj.name, "changed": saved.changed}
        announce(kind, actor=actor, hospital=saved.obj, data=data)
    return saved


def save_hospital(
    code: str,
    *,
    name: str,
    location: Point,
    name_en: str = "",
    short_name: str = "",
    level: str = "",
    address: str = "",
    phone: str = "",
    capabilities: Iterable[str] | None = None,
    fhir_endpoint: str = "",
    has_board: bool = True,
    sms_number: str = "",
    actor: User | None = None,
) -> tuple[Hospital, bool]:
    """Create or update the hospital with this code (its stable key; the name may change);
    (hospital, created). Capabilities include the specialty centres (chest_pain, stroke...)."""
    return put_hospital(
        code,
        name=name,
        location=location,
        name_en=name_en,
        short_name=short_name,
        level=level,
        address=address,
        phone=phone,
        capabilities=capabilities,
        fhir_endpoint=fhir_endpoint,
        has_board=has_board,
        sms_number=sms_number,
        actor=actor,
    ).pair()


@transaction.atomic
def create_hospital(
    name: str, location: Point, *, capabilities: list[str] | None = None, **fields: Any
) -> Hospital:
    """A new hospital (refused when its code, by default its name, is taken)."""
    code = fields.pop("code", None) or (name or "").strip()
    refuse_if_exists(Hospital, _("Hospital"), code=code)
    hospital, _created = save_hospital(
        code, name=name, location=location, capabilities=capabilities, **fields
    )
    return hospital


# ---------------------------------------------------------------------------------------------
# Gazetteer places


@transaction.atomic
def put_place(
    name: str,
    *,
    kind: str,
    location: Point,
    name_en: str = "",
    address: str = "",
    district: str = "",
    ref: str = "",
    source: str = "import",
    actor: User | None = None,
) -> Saved[Place]:
    name = text(name, "name", _("Name"), 120, required=True)
    values: dict[str, Any] = {
        "name": name,
        "kind": one_of(kind, list(PlaceKind.values), "kind", _("place kind")),
        "point": checked_location(location),
        "name_en": text(name_en, "name_en", _("English name"), 120),
        "address": text(address, "address", _("Address"), 200),
        "district": text(district, "district", _("District"), 60),
    }
    pinyin, initials = search_keys(name)
    values |= {"pinyin": pinyin[:400], "initials": initials[:120]}
    ref = text(ref, "ref", _("Reference"), 60)
    key: dict[str, Any] = {"ref": ref}
    if not ref:  # found by kind, name and district: the first such row, if any
        natural = {column: values.pop(column) for column in ("kind", "name", "district")}
        found = Place.objects.filter(**natural).order_by("pk").values_list("pk", flat=True).first()
        key = {"pk": found} if found is not None else natural
        if found is not None:
            values |= natural
    # Where the place first came from (demo, import, osm): a later import does not change it.
    saved = upsert(Place, key, values, create={"source": text(source, "source", _("Source"), 40) or "import"})
    if saved.outcome != UNCHANGED:
        data = {
            "id": saved.obj.pk,
            "name": saved.obj.name,
            "created": saved.created,
            "changed": saved.changed,
        }
        announce(EventKind.PLACE_SAVED, actor=actor, data=data)
    return saved


def save_place(
    name: str,
    *,
    kind: str,
    location: Point,
    name_en: str = "",
    address: str = "",
    district: str = "",
    ref: str = "",
    source: str = "import",
    actor: User | None = None,
) -> tuple[Place, bool]:
    """Create or update a gazetteer place, its pinyin and initials made from the name;
    (place, created). The key is `ref` when given (an address point's id, "osm:node/123"),
    else its kind, name and district."""
    return put_place(
        name,
        kind=kind,
        location=location,
        name_en=name_en,
        address=address,
        district=district,
        ref=ref,
        source=source,
        actor=actor,
    ).pair()


# ---------------------------------------------------------------------------------------------
# Districts


@transaction.atomic
def put_district(
    code: str, *, name: str, polygon: GEOSGeometry, name_en: str = "", actor: User | None = None
) -> Saved[District]:
    code = key_text(code, "code", _("District code"), 20)
    values = {
        "name": text(name, "name", _("Name"), 60, required=True),
        "name_en": text(name_en, "name_en", _("English name"), 120),
        "polygon": outline(polygon),
    }
    saved = upsert(District, {"code": code}, values)
    if saved.outcome != UNCHANGED:
        data = {"id": saved.obj.pk, "code": code, "name": saved.obj.name, "created": saved.created}
        data["changed"] = saved.changed
        announce(EventKind.DISTRICT_SAVED, actor=actor, data=data)
    return saved


def save_district(
    code: str, *, name: str, polygon: GEOSGeometry, name_en: str = "", actor: User | None = None
) -> tuple[District, bool]:
    """Create or update the district with this code and its outline (a polygon or
    multipolygon in WGS-84); (district, created)."""
    return put_district(code, name=name, polygon=polygon, name_en=name_en, actor=actor).pair()


# ---------------------------------------------------------------------------------------------
# Users


def full_name_of(user: User) -> str:
    return user.get_full_name().strip()


@transaction.atomic
def put_user(
    username: str,
    *,
    role: str,
    full_name: str = "",
    station: Station | None = None,
    hospital: Hospital | None = None,
    phone: str = "",
    password: str | None = None,
    is_active: bool = True,
    actor: User | None = None,
) -> Saved[User]:
    username = key_text(username, "username", _("User name"), 150)
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise FieldError("username", _("A user name may hold letters, digits and @ . + - _ only.")) from exc
    role = one_of(role, list(Role.values), "role", _("role"))
    if role == Role.HOSPITAL and hospital is None:
        raise FieldError("hospital", _("Hospital staff need their hospital."))
    if role != Role.HOSPITAL and hospital is not None:
        raise FieldError("hospital", _("Only hospital staff belong to a hospital."))
    if role == "station" and station is None:  # a station screen (/station/) shows one station's jobs
        raise FieldError("station", _("A station screen needs its station."))
    name = text(full_name, "full_name", _("Full name"), 150)
    values: dict[str, Any] = {
        "role": role,
        "station_id": station.pk if station is not None else None,
        "hospital_id": hospital.pk if hospital is not None else None,
        "phone": phone_number(phone, "phone", _("Phone")),
        "is_active": bool(is_active),
    }
    users = User.objects.all() if REHEARSING.get() else User.objects.select_for_update()
    user = users.filter(username=username).first()
    if user is None or full_name_of(user) != name:
        values |= {"first_name": name, "last_name": ""}
    if user is None or user.role != role:
        values |= {"is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN}
    if password:
        try:
            password_validation.validate_password(password, user or User(username=username))
        except ValidationError as exc:
            raise FieldError("password", " ".join(exc.messages)) from exc
    saved = upsert(User, {"username": username}, values)
    if password and (saved.created or not saved.obj.check_password(password)):
        saved.obj.set_password(password)
        saved.obj.save(update_fields=["password"])
        saved.changed.append("password")
        saved.outcome = saved.outcome if saved.created else UPDATED
    elif saved.created:
        saved.obj.set_unusable_password()
        saved.obj.save(update_fields=["password"])
    if saved.outcome != UNCHANGED:
        data = {"id": saved.obj.pk, "username": username, "role": role, "created": saved.created}
        data["changed"] = [name for name in saved.changed if name != "password"] + (
            ["password"] if "password" in saved.changed else []
        )
        announce(EventKind.USER_SAVED, actor=actor, data=data)
    return saved


def save_user(
    username: str,
    *,
    role: str,
    full_name: str = "",
    station: Station | None = None,
    hospital: Hospital | None = None,
    phone: str = "",
    password: str | None = None,
    is_active: bool = True,
    actor: User | None = None,
) -> tuple[User, bool]:
    """Create or update the account with this user name; (user, created). Hospital staff need
    their hospital. Without a password a new account cannot sign in until an admin sets one; a
    password is checked against the site's password rules. Administrators get the admin site."""
    return put_user(
        username,
        role=role,
        full_name=full_name,
        station=station,
        hospital=hospital,
        phone=phone,
        password=password,
        is_active=is_active,
        actor=actor,
    ).pair()
