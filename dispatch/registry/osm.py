"""An OpenStreetMap extract (.osm.pbf) into the registry: hospitals, the gazetteer's places, POIs
and address points, and administrative boundaries as districts.

Two steps. `read_extract` reads the file with osmium (nodes as they are, closed ways and
multipolygon or boundary relations assembled into areas by osmium's area handler, an area's
point its centroid, or a point on its surface when the centroid falls outside it) and returns
plain records; it touches no database. `load_extract` writes them through the registry's upsert
actions (save_hospital, save_place, save_district), one transaction and one event each, so every
screen sees them; each record is keyed by its OSM type and id (`osm:n123`, `osm:w45`, `osm:r6`),
so importing the file again updates the same rows and never duplicates them.

An extract cut from a larger map by a box holds only the pieces of a boundary inside the box: a
district needs its whole outline, so such a boundary is skipped and counted. Cut extracts with
`osmium extract --strategy smart -S types=multipolygon,boundary` to keep boundaries whole.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.models import District, PlaceKind, User
from dispatch.registry.actions import Saved, put_district, put_hospital, put_place
from hospitals.models import Hospital

# (stage, done, total): what the command prints as it goes; total None while it is unknown.
Progress = Callable[[str, int, int | None], None]

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Objects with these keys and a name are places a caller may name (a POI); roads are not: a
# street is many ways, and callers give a number on it (the address points).
POI_KEYS = (
    "amenity",
    "shop",
    "tourism",
    "leisure",
    "office",
    "craft",
    "healthcare",
    "historic",
    "public_transport",
    "railway",
    "aeroway",
    "man_made",
    "natural",
    "building",
    "landuse",
    "place",
    "emergency",
    "sport",
)
# Named highway *nodes* that callers use as landmarks.
HIGHWAY_POIS = {"bus_stop", "motorway_junction", "rest_area", "services"}
# A residential compound (小区): a named residential area or apartment block.
COMPOUND_TAGS = {("landuse", "residential"), ("building", "apartments"), ("building", "residential")}
# What a building is used for says more than that people live there (a church in a housing area).
SERVICE_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "healthcare", "craft")
# The same hospital mapped twice (a point and its grounds) lies within this of itself.
SAME_HOSPITAL_M = 1000.0
# Tags that say a hospital is no longer one.
GONE_KEYS = ("disused:amenity", "abandoned:amenity", "was:amenity", "demolished:amenity")
GONE_NAME = re.compile(r"\((historical|closed|former|disused)\)\s*$", re.IGNORECASE)

# What the places imported from a map say they came from (Place.source).
SOURCE = "osm"

NAME_MAX = 120
ADDRESS_MAX = 200
DISTRICT_NAME_MAX = 60
PHONE_MAX = 20


class ExtractError(Exception):
    """The file cannot be read as an OSM extract (the command says so and writes nothing)."""


@dataclass(frozen=True)
class Box:
    """A longitude/latitude box (WGS-84): only what lies in it is imported."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> "Box":
        """ "west,south,east,north" in degrees, as osmium extract --bbox takes it."""
        try:
            west, south, east, north = (float(part) for part in text.split(","))
        except ValueError:
            raise ValueError(_("A box is four numbers: west,south,east,north.")) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError(_("A box needs west < east within ±180 and south < north within ±90."))
        return cls(west, south, east, north)

    def holds(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


@dataclass
class OsmHospital:
    key: str
    name: str
    name_en: str
    lon: float
    lat: float
    emergency: bool
    phone: str = ""
    address: str = ""
    is_area: bool = False
    outline: Any = None  # the grounds (a shapely geometry), when mapped as an area


@dataclass
class OsmPlace:
    key: str
    name: str
    name_en: str
    kind: str  # a dispatch.models.PlaceKind value
    lon: float
    lat: float
    address: str = ""


@dataclass
class OsmDistrict:
    key: str
    name: str
    name_en: str
    admin_level: str
    outline: Any  # a shapely MultiPolygon, WGS-84


@dataclass
class Extract:
    """What a file holds for the registry, and what was left out and why (reason: count)."""

    hospitals: list[OsmHospital] = field(default_factory=list)
    places: list[OsmPlace] = field(default_factory=list)
    districts: list[OsmDistrict] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def osm_key(kind: str, ident: int) -> str:
    """`osm:n123` for a node, `osm:w45` for a way, `osm:r6` for a relation (fits a district's code)."""
    return f"osm:{kind}{ident}"


def clean(text: str | None, limit: int) -> str:
    """A tag's text as stored: NFC, single spaces, no control characters, cut to the column."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:limit]


def names(tags: dict[str, str], limit: int = NAME_MAX) -> tuple[str, str]:
    """(name, English name): Chinese first (name:zh, name:zh-Hans, else name); the English name
    is name:en, else the name itself when it is not Chinese and the Chinese name came from name:zh."""
    local = clean(tags.get("name"), limit)
    chinese = clean(tags.get("name:zh-Hans") or tags.get("name:zh"), limit)
    english = clean(tags.get("name:en"), limit)
    name = chinese or local
    if not english and local and local != name and not HAN.search(local):
        english = local
    return name, ("" if english == name else english)


def address(tags: dict[str, str]) -> str:
    """The house number on its street, as the place's people write it: 中山路12号, 601 North
    Caroline Street. Empty without both parts."""
    number = clean(tags.get("addr:housenumber"), 40)
    street = clean(tags.get("addr:street") or tags.get("addr:place"), ADDRESS_MAX)
    if not number or not street:
        return ""
    if HAN.search(street):
        return f"{street}{number}" if number.endswith("号") else f"{street}{number}号"
    return clean(f"{number} {street}", ADDRESS_MAX)


def place_kind(tags: dict[str, str]) -> PlaceKind | None:
    """Which kind of gazetteer place a named object is, or None when it is none."""
    if is_hospital(tags):
        return PlaceKind.HOSPITAL
    if tags.get("emergency") == "ambulance_station":
        return PlaceKind.STATION
    residential = any((k, tags.get(k)) in COMPOUND_TAGS for k in ("landuse", "building"))
    if residential and not any(k in tags for k in SERVICE_KEYS):
        return PlaceKind.COMPOUND
    if tags.get("highway") in HIGHWAY_POIS:
        return PlaceKind.LANDMARK
    if "highway" in tags or "boundary" in tags or "route" in tags or "waterway" in tags:
        return None  # roads, lines and boundaries: not a point a caller stands at
    if any(k in tags for k in POI_KEYS):
        return PlaceKind.LANDMARK
    return None


def is_hospital(tags: dict[str, str]) -> bool:
    if tags.get("amenity") != "hospital" and tags.get("healthcare") != "hospital":
        return False
    return not any(k in tags for k in GONE_KEYS) and not GONE_NAME.search(tags.get("name", ""))


def emergency_department(tags: dict[str, str]) -> bool:
    """Tagged as taking emergencies: emergency=yes (healthcare:speciality=emergency too)."""
    specialities = tags.get("healthcare:speciality", "").split(";")
    return tags.get("emergency") == "yes" or "emergency" in [s.strip() for s in specialities]


def phone(tags: dict[str, str]) -> str:
    """The first number of phone / contact:phone / emergency:phone, spaces and dashes removed."""
    for key in ("emergency:phone", "phone", "contact:phone"):
        first = (tags.get(key) or "").split(";")[0]
        number = re.sub(r"[\s\-().]", "", first)
        if re.fullmatch(r"\+?[0-9]{3,19}", number):
            return number[:PHONE_MAX]
    return ""


# --------------------------------------------------------------------------------------------
# reading


def read_extract(
    path: str | Path,
    *,
    box: Box | None = None,
    admin_levels: Iterable[str] = ("6",),
    progress: Progress | None = None,
) -> Extract:
    """Everything the registry takes from an OSM extract (no database is touched)."""
    import osmium  # only the importer needs it
    from shapely import wkb

    path = Path(path)
    if not path.is_file():
        raise ExtractError(_("No such file: %(path)s") % {"path": path})
    levels = {str(level) for level in admin_levels}
    extract = Extract()
    hospitals: list[OsmHospital] = []
    unnamed_hospitals: list[tuple[Any, bool]] = []  # (outline or point, emergency)
    boundaries: dict[int, dict[str, str]] = {}  # relation id -> tags, to tell which were assembled
    assembled: set[int] = set()
    factory = osmium.geom.WKBFactory()
    wanted = osmium.filter.KeyFilter(
        "name", "name:zh", "addr:housenumber", "amenity", "healthcare", "boundary"
    )
    try:
        processor = osmium.FileProcessor(str(path)).with_areas(wanted).with_filter(wanted)
        for count, obj in enumerate(processor, 1):
            if progress and count % 20_000 == 0:
                progress(_("reading %(file)s") % {"file": path.name}, count, None)
            tags = {tag.k: tag.v for tag in obj.tags}
            outline: Any = None
            if isinstance(obj, osmium.osm.Relation):
                if tags.get("boundary") == "administrative" and tags.get("admin_level") in levels:
                    boundaries[obj.id] = tags
                continue
            if isinstance(obj, osmium.osm.Node):
                if not obj.location.valid():
                    continue
                key, lon, lat = osm_key("n", obj.id), obj.location.lon, obj.location.lat
            elif isinstance(obj, osmium.osm.Area):  # from a closed way or a multipolygon/boundary
                key = osm_key("w" if obj.from_way() else "r", obj.orig_id())
                try:
                    outline = wkb.loads(factory.create_multipolygon(obj), hex=True)
                except RuntimeError:
                    extract.skipped[_("outline cannot be assembled")] += 1
                    continue
                if not obj.from_way():
                    assembled.add(obj.orig_id())
                if tags.get("boundary") == "administrative" and tags.get("admin_level") in levels:
                    district = read_district(key, tags, outline, box)
                    if district is not None:
                        extract.districts.append(district)
                    elif box is None or intersects(outline, box):
                        extract.skipped[_("boundary without a name")] += 1
                    continue
                lon, lat = point_of(outline)
            else:
                continue  # a way: closed ones come again as areas; open ones are no place
            if box is not None and not box.holds(lon, lat):
                continue
            read_feature(extract, hospitals, unnamed_hospitals, key, tags, lon, lat, outline)
    except RuntimeError as exc:
        raise ExtractError(
            _("%(path)s cannot be read as an OSM extract (%(error)s).") % {"path": path, "error": exc}
        ) from None
    incomplete = set(boundaries) - assembled
    if incomplete:
        extract.skipped[_("boundary cut by the extract's edge")] += len(incomplete)
    extract.hospitals = merged_hospitals(hospitals, unnamed_hospitals, extract.skipped)
    return extract


def read_feature(
    extract: Extract,
    hospitals: list[OsmHospital],
    unnamed_hospitals: list[tuple[Any, bool]],
    key: str,
    tags: dict[str, str],
    lon: float,
    lat: float,
    outline: Any,
) -> None:
    """One node or area: a hospital, a place, an address point, or nothing."""
    from shapely.geometry import Point as ShapelyPoint

    name, name_en = names(tags)
    where = address(tags)
    if is_hospital(tags):
        if not name:
            unnamed_hospitals.append((outline or ShapelyPoint(lon, lat), emergency_department(tags)))
            return
        hospitals.append(
            OsmHospital(
                key,
                name,
                name_en,
                lon,
                lat,
                emergency_department(tags),
                phone(tags),
                where,
                outline is not None,
                outline,
            )
        )
        return
    kind = place_kind(tags) if name else None
    if kind is not None:
        extract.places.append(OsmPlace(key, name, name_en, kind, lon, lat, where))
    if where:
        # A named place's address is a place of its own too: callers give either.
        address_key = f"{key}:addr" if kind is not None else key
        extract.places.append(OsmPlace(address_key, where[:NAME_MAX], "", PlaceKind.ADDRESS, lon, lat, where))
    elif name and kind is None and "boundary" not in tags and "highway" not in tags:
        extract.skipped[_("named, but no kind of place we keep")] += 1


def read_district(key: str, tags: dict[str, str], outline: Any, box: Box | None) -> OsmDistrict | None:
    """A boundary's district, or None when it has no name (or lies outside the box)."""
    from shapely.geometry import MultiPolygon

    if box is not None and not intersects(outline, box):
        return None
    name, name_en = names(tags, DISTRICT_NAME_MAX)
    if not name:
        return None
    multi = outline if isinstance(outline, MultiPolygon) else MultiPolygon([outline])
    return OsmDistrict(key, name, name_en, tags.get("admin_level", ""), multi)


def intersects(outline: Any, box: Box) -> bool:
    from shapely.geometry import box as shapely_box

    return bool(outline.intersects(shapely_box(box.west, box.south, box.east, box.north)))


def point_of(outline: Any) -> tuple[float, float]:
    """An area's point: its centroid, or a point inside it when the centroid falls outside (an
    L-shaped campus, a ring of buildings)."""
    centre = outline.centroid
    if not outline.contains(centre):
        centre = outline.representative_point()
    return round(centre.x, 7), round(centre.y, 7)


def merged_hospitals(
    hospitals: list[OsmHospital], unnamed: list[tuple[Any, bool]], skipped: Counter[str]
) -> list[OsmHospital]:
    """One record per hospital. A hospital mapped both as a point and as its grounds (same name,
    within SAME_HOSPITAL_M) is one: the grounds are kept, with the point's emergency department
    and phone. An unnamed hospital building inside named grounds adds its emergency department to
    them; any other unnamed one is skipped. Two far-apart hospitals of the same name keep both,
    the second named with its address (the name is unique)."""
    # Areas first, then by key: the kept record (and so its key) is the same on every import.
    ordered = sorted(hospitals, key=lambda h: (not h.is_area, h.key))
    kept: list[OsmHospital] = []
    for h in ordered:
        same = next(
            (
                k
                for k in kept
                if k.name == h.name and distance_m(k.lon, k.lat, h.lon, h.lat) <= SAME_HOSPITAL_M
            ),
            None,
        )
        if same is None:
            kept.append(h)
            continue
        same.emergency = same.emergency or h.emergency
        same.phone = same.phone or h.phone
        same.address = same.address or h.address
        same.name_en = same.name_en or h.name_en
        skipped[_("hospital mapped twice (kept once)")] += 1
    for shape, emergency in unnamed:
        grounds = next(
            (k for k in kept if k.outline is not None and k.outline.intersects(shape)),
            None,
        )
        if grounds is None:
            skipped[_("hospital without a name")] += 1
        elif emergency:
            grounds.emergency = True
    seen: Counter[str] = Counter()
    for h in kept:
        seen[h.name] += 1
        if seen[h.name] > 1:
            h.name = clean(f"{h.name} ({h.address or h.key})", NAME_MAX)
    return kept


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


# --------------------------------------------------------------------------------------------
# loading


@dataclass
class Summary:
    """What an import did (or, in a dry run, would do): per kind of record, how many were
    created, updated, left as they were and refused; the refusals with their reasons."""

    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def count(self, what: str, outcome: str) -> None:
        self.outcomes.setdefault(what, Counter())[outcome] += 1


# A hospital without an emergency department: a gazetteer place, not a destination.
NOT_A_DESTINATION = "place only"


class DryRun(Exception):
    """Raised inside a record's transaction in a dry run, so the action's writes roll back."""


# What an import may be limited to (`only`).
PARTS = ("districts", "hospitals", "places")


def load_extract(
    extract: Extract,
    *,
    actor: User | None = None,
    dry_run: bool = False,
    all_hospitals: bool = False,
    only: Iterable[str] = PARTS,
    progress: Progress | None = None,
) -> Summary:
    """Write an extract through the registry's actions, one record at a time (each its own
    transaction and event, so a long import never holds the event log for long). Districts
    first; places and hospitals are named with the district they lie in. A refused record is
    reported and the rest go on. A dry run runs every action and rolls each one back: the same
    checks and counts, nothing written, no event. `only` limits it to some of PARTS (a hospital's
    gazetteer entry comes with the hospitals).

    Only hospitals tagged with an emergency department become destinations the recommendation
    offers (an ambulance brings its patient to an emergency department; a map's "hospital" is
    also an outpatient centre or a rehabilitation institute); the others are gazetteer places,
    since callers name them. `all_hospitals` makes every one a destination, for maps that do not
    tag emergency departments."""
    summary = Summary()
    where = DistrictFinder(extract.districts)
    steps: list[tuple[str, str, Callable[[], Saved]]] = []
    if "districts" in only:
        steps += [(_("districts"), d.key, district_step(d, actor)) for d in extract.districts]
    if "hospitals" in only:
        for h in extract.hospitals:
            if h.emergency or all_hospitals:
                steps.append((_("hospitals"), h.key, hospital_step(h, actor)))
            else:
                summary.count(_("hospitals"), NOT_A_DESTINATION)
            steps.append((_("places"), h.key, place_step(hospital_place(h), where, actor)))
    if "places" in only:
        steps += [(_("places"), p.key, place_step(p, where, actor)) for p in extract.places]
    for done, (what, key, step) in enumerate(steps, 1):
        try:
            with transaction.atomic():
                saved = step()
                summary.count(what, saved.outcome)
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        except ActionError as exc:
            summary.count(what, "refused")
            summary.refused.append(f"{key}: {exc.message}")
        if progress and (done % 200 == 0 or done == len(steps)):
            progress(_("saving"), done, len(steps))
    return summary


def district_step(d: OsmDistrict, actor: User | None) -> Callable[[], Saved]:
    def step() -> Saved:
        polygon = GEOSGeometry(memoryview(d.outline.wkb), srid=4326)
        return put_district(d.key, name=d.name, name_en=d.name_en, polygon=polygon, actor=actor)

    return step


def hospital_step(h: OsmHospital, actor: User | None) -> Callable[[], Saved]:
    """The hospital as the map has it. What a map does not know (its specialty centres, grade,
    short name, FHIR endpoint, ER board) is kept as an administrator set it."""

    def step() -> Saved:
        stored = Hospital.objects.filter(code=h.key).first()
        kept = {
            "capabilities": stored.capabilities if stored else [],
            "short_name": stored.short_name if stored else "",
            "level": stored.level if stored else "",
            "fhir_endpoint": stored.fhir_endpoint if stored else "",
            "has_board": stored.has_board if stored else True,
            "sms_number": stored.sms_number if stored else "",
        }
        return put_hospital(
            h.key,
            name=h.name,
            name_en=h.name_en,
            location=Point(h.lon, h.lat, srid=4326),
            address=h.address,
            phone=e164(h.phone) or (stored.phone if stored else ""),
            actor=actor,
            **kept,
        )

    return step


def hospital_place(h: OsmHospital) -> OsmPlace:
    """The gazetteer's entry for a hospital: callers name hospitals as landmarks."""
    return OsmPlace(h.key, h.name, h.name_en, PlaceKind.HOSPITAL, h.lon, h.lat, h.address)


def place_step(p: OsmPlace, where: "DistrictFinder", actor: User | None) -> Callable[[], Saved]:
    def step() -> Saved:
        district = where.name_at(p.lon, p.lat)
        return put_place(
            p.name,
            kind=p.kind,
            location=Point(p.lon, p.lat, srid=4326),
            name_en=p.name_en,
            address=p.address,
            district=district,
            ref=p.key,
            source=SOURCE,
            actor=actor,
        )

    return step


def e164(number: str) -> str:
    """The number when it is international (+...), else empty: a local number means nothing to
    the SMS and call gateways, and the registry refuses it."""
    return number if number.startswith("+") and 8 <= len(number) <= 16 else ""


class DistrictFinder:
    """Which district a point lies in: the districts of this extract, then those stored."""

    def __init__(self, districts: list[OsmDistrict]) -> None:
        from shapely import wkb
        from shapely.strtree import STRtree

        shapes = {d.key: (d.outline, d.name) for d in districts}
        for code, name, polygon in District.objects.values_list("code", "name", "polygon"):
            shapes.setdefault(code, (wkb.loads(bytes(polygon.wkb)), name))
        self.names = [name for _outline, name in shapes.values()]
        self.outlines = [outline for outline, _name in shapes.values()]
        self.tree = STRtree(self.outlines) if self.outlines else None

    def name_at(self, lon: float, lat: float) -> str:
        from shapely.geometry import Point as ShapelyPoint

        if self.tree is None:
            return ""
        point = ShapelyPoint(lon, lat)
        for i in sorted(self.tree.query(point)):
            if self.outlines[i].covers(point):
                return self.names[i]
        return ""
