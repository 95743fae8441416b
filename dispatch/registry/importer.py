"""Load a centre from its files: stations, hospitals, units, districts, places and address
points, users (docs/import-formats.md, docs/decisions/0016-centre-import.md).

Every row goes through the registry's save actions, so every change is an event and every check
is the one the screens get. The whole import runs in one transaction and every row is tried, so
every problem in every file is reported (file, line, column) in one go; if there is any, or on a
dry run, the transaction is rolled back: nothing is written, no screen is told. The demo city
loads through `import_rows` too, with rows it builds instead of files it reads.
"""

import json
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.db import transaction
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.models import District, Place, User
from dispatch.registry import formats
from dispatch.registry.actions import (
    CREATED,
    UNCHANGED,
    UPDATED,
    FieldError,
    Saved,
    put_district,
    put_hospital,
    put_place,
    put_standby_point,
    put_station,
    put_unit,
    put_user,
    rehearsal,
)
from dispatch.registry.formats import (
    ADDRESSES,
    DISTRICTS,
    FORMATS,
    HOSPITALS,
    PLACES,
    PLACES_GEOJSON,
    STANDBY_POINTS,
    STANDBY_POINTS_GEOJSON,
    STATIONS,
    UNITS,
    USERS,
    Cells,
    FileFormat,
    Problem,
    Table,
)
from fleet.models import StandbyPoint, Station, Unit
from hospitals.models import Hospital

# (file, rows done, rows in all): called as rows are saved, for a progress bar.
Progress = Callable[[str, int, int], None]

# The action's field -> the file's column(s), where they differ.
COLUMN_OF = {"location": "lon, lat", "point": "lon, lat", "polygon": "geometry", "home_station": "station"}


@dataclass
class Report:
    """What an import did (or, on a dry run or with problems, would have done)."""

    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())

    def summary(self) -> str:
        return counted({outcome: self.total(outcome) for outcome in (CREATED, UPDATED, UNCHANGED)})

    def file_summary(self, name: str) -> str:
        return counted(self.counts.get(name, {}))

    def lines(self) -> list[str]:
        """The report as a terminal or a page shows it."""
        out = [f"{name}: {self.file_summary(name)}" for name in self.counts]
        out += [str(p) for p in self.problems]
        if self.problems:
            out.append(
                _("Problems: %(n)d. Nothing was written: correct them and import again.")
                % {"n": len(self.problems)}
            )
        elif self.dry_run:
            out.append(
                _("Dry run: %(summary)s would be the result; nothing was written.")
                % {"summary": self.summary()}
            )
        else:
            out.append(_("Imported: %(summary)s.") % {"summary": self.summary()})
        return out


def counted(counts: dict[str, int]) -> str:
    return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
        outcome: counts.get(outcome, 0) for outcome in (CREATED, UPDATED, UNCHANGED)
    }


def read_files(files: Iterable[tuple[str, bytes]], problems: list[Problem]) -> list[Table]:
    """The centre's files (zips opened), read and in import order."""
    tables: dict[str, Table] = {}
    for name, data in formats.unpack(files, problems):
        table = formats.read_file(name, data, problems)
        if table is None:
            continue
        if table.format.name in tables:
            problems.append(Problem(name, 0, "", _("This file is given twice.")))
            continue
        tables[table.format.name] = table
    return [tables[f.name] for f in FORMATS if f.name in tables]


def files_in(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file given, and of the centre's files in each folder given."""
    found = []
    for path in paths:
        if path.is_dir():
            found += [
                (p.name, p.read_bytes()) for p in sorted(path.iterdir()) if p.name.lower() in formats.BY_NAME
            ]
        else:
            found.append((path.name, path.read_bytes()))
    return found


def import_files(
    files: Iterable[tuple[str, bytes]],
    *,
    dry_run: bool = False,
    actor: User | None = None,
    progress: Progress | None = None,
) -> Report:
    """Import the centre's files given as (name, bytes): zips, CSV, GeoJSON."""
    problems: list[Problem] = []
    tables = read_files(files, problems)
    return run(tables, problems, dry_run=dry_run, actor=actor, progress=progress)


def import_rows(
    rows: dict[str, list[dict[str, Any]]],
    *,
    dry_run: bool = False,
    actor: User | None = None,
    progress: Progress | None = None,
    source: str = "import",
) -> Report:
    """Import rows built in code, one list of cells per file name (stations.csv: [{"code": ...}]),
    through exactly the path files take. Line numbers count as in a file with its header."""
    tables = []
    for fmt in FORMATS:
        if fmt.name in rows:
            tables.append(Table(fmt, [(k + 2, cells) for k, cells in enumerate(rows[fmt.name])]))
    return run(tables, [], dry_run=dry_run, actor=actor, progress=progress, source=source)


def run(
    tables: list[Table],
    problems: list[Problem],
    *,
    dry_run: bool,
    actor: User | None,
    progress: Progress | None,
    source: str = "import",
) -> Report:
    report = Report(dry_run=dry_run, problems=problems)
    with transaction.atomic(), rehearsal() if dry_run else nullcontext():
        for table in tables:
            importer = Importer(table, report, actor, source)
            counts = report.counts.setdefault(table.format.name, Counter())
            for done, (line, cells) in enumerate(table.rows, start=1):
                outcome = importer.row(line, cells)
                if outcome:
                    counts[outcome] += 1
                if progress is not None:
                    progress(table.format.name, done, len(table.rows))
        if report.problems or dry_run:
            transaction.set_rollback(True)
    order = {t.format.name: k for k, t in enumerate(tables)}
    report.problems.sort(key=lambda p: order.get(PurePath(p.file).name.lower(), -1))
    return report


class Importer:
    """Saves one file's rows, noting every problem with its line and column."""

    def __init__(self, table: Table, report: Report, actor: User | None, source: str) -> None:
        self.fmt: FileFormat = table.format
        self.file = table.format.name
        self.report, self.actor, self.source = report, actor, source
        self.seen: dict[tuple[str, ...], int] = {}

    def row(self, line: int, raw: dict[str, Any]) -> str | None:
        cells = Cells(self.file, line, raw, self.report.problems)
        for column in self.fmt.required:
            if column not in ("lon", "lat", "geometry") and not cells.text(column).strip():
                cells.problem(column, _("This required cell is empty."))
        if not cells.ok:
            return None
        key = self.key(cells)
        if key in self.seen:
            cells.problem(
                "",
                _("The same record as line %(line)d (%(key)s).")
                % {"line": self.seen[key], "key": " / ".join(key)},
            )
            return None
        self.seen[key] = line
        try:
            saved = self.save(cells)
        except FieldError as exc:
            cells.problem(COLUMN_OF.get(exc.field, exc.field), exc.message)
            return None
        except ActionError as exc:
            cells.problem("", exc.message)
            return None
        return saved.outcome if saved is not None and cells.ok else None

    def key(self, cells: Cells) -> tuple[str, ...]:
        if self.fmt in (PLACES, PLACES_GEOJSON) and not cells.text("ref").strip():
            return tuple(cells.text(c).strip() for c in ("kind", "name", "district"))
        return tuple(cells.text(c).strip() for c in self.fmt.key)

    def point(self, cells: Cells) -> Point | None:
        if self.fmt.name.endswith(".geojson"):
            geometry = self.geometry(cells)
            if geometry is not None and not isinstance(geometry, Point):
                cells.problem("geometry", _("A place's geometry must be a Point."))
            return geometry if isinstance(geometry, Point) else None
        for column in ("lon", "lat"):
            if not cells.text(column).strip():
                cells.problem(column, _("This required cell is empty."))
        if not cells.ok:
            return None
        lon, lat = cells.number("lon"), cells.number("lat")
        return Point(lon, lat, srid=4326) if cells.ok else None

    def geometry(self, cells: Cells) -> GEOSGeometry | None:
        raw = cells.text("geometry")
        if not raw:
            cells.problem("geometry", _("The feature has no geometry."))
            return None
        try:
            json.loads(raw)
            geometry = GEOSGeometry(raw)
        except (ValueError, GEOSException, TypeError):
            cells.problem("geometry", _("The geometry cannot be read as GeoJSON."))
            return None
        geometry.srid = 4326
        return geometry

    def reference(self, cells: Cells, column: str, model: type[Station] | type[Hospital]) -> Any:
        code = cells.text(column).strip()
        if not code:
            return None
        found = model.objects.filter(code=code).first()
        if found is None:
            source = STATIONS.name if model is Station else HOSPITALS.name
            cells.problem(
                column,
                _("%(code)s is neither in %(file)s nor already in the system.")
                % {"code": code, "file": source},
            )
        return found

    def save_standby_point(self, cells: Cells) -> Saved[Any] | None:
        location = self.point(cells)
        capacity = standby_capacity(cells)
        active = cells.flag("active", True)
        if location is None or capacity is None or not cells.ok:
            return None
        t = cells.text
        return put_standby_point(
            t("code"),
            name=t("name"),
            location=location,
            name_en=t("name_en"),
            district=t("district"),
            address=t("address"),
            capacity=capacity,
            active=active,
            actor=self.actor,
        )

    def save(self, cells: Cells) -> Saved[Any] | None:
        t, actor = cells.text, self.actor
        if self.fmt is STATIONS:
            location = self.point(cells)
            if location is None:
                return None
            return put_station(
                t("code"),
                name=t("name"),
                location=location,
                name_en=t("name_en"),
                district=t("district"),
                address=t("address"),
                actor=actor,
            )
        if self.fmt in (STANDBY_POINTS, STANDBY_POINTS_GEOJSON):
            return self.save_standby_point(cells)
        if self.fmt is HOSPITALS:
            location = self.point(cells)
            has_board = cells.flag("has_board", True)
            if location is None or not cells.ok:
                return None
            return put_hospital(
                t("code"),
                name=t("name"),
                location=location,
                name_en=t("name_en"),
                short_name=t("short_name"),
                level=t("level"),
                address=t("address"),
                phone=t("phone"),
                capabilities=cells.items("capabilities") or [],
                fhir_endpoint=t("fhir_endpoint"),
                has_board=has_board,
                sms_number=t("sms_number"),
                actor=actor,
            )
        if self.fmt is UNITS:
            # A missing station is reported, and the row is still checked for its other problems.
            station = self.reference(cells, "station", Station)
            kind = t("kind").strip()
            # An empty cell means the kind's own list, for a new unit and an existing one alike.
            capabilities = cells.items("capabilities") or kind_default(kind)
            return put_unit(
                t("call_sign"),
                kind=kind,
                home_station=station,
                capabilities=capabilities,
                phone=t("phone"),
                plate=t("plate"),
                tracker_id=t("tracker_id"),
                actor=actor,
            )
        if self.fmt is DISTRICTS:
            polygon = self.geometry(cells)
            if polygon is None:
                return None
            return put_district(t("code"), name=t("name"), polygon=polygon, name_en=t("name_en"), actor=actor)
        if self.fmt in (PLACES, ADDRESSES, PLACES_GEOJSON):
            location = self.point(cells)
            if location is None:
                return None
            return put_place(
                t("name"),
                kind=t("kind").strip() if self.fmt is not ADDRESSES else "address",
                location=location,
                name_en=t("name_en"),
                address=t("address"),
                district=t("district"),
                ref=t("ref"),
                source=self.source,
                actor=actor,
            )
        if self.fmt is USERS:
            station = self.reference(cells, "station", Station)
            hospital = self.reference(cells, "hospital", Hospital)
            active = cells.flag("active", True)
            return put_user(
                t("username"),
                role=t("role").strip(),
                full_name=t("full_name"),
                station=station,
                hospital=hospital,
                phone=t("phone"),
                password=t("password") or None,
                is_active=active,
                actor=actor,
            )
        raise AssertionError(self.fmt)


def standby_capacity(cells: Cells) -> int | None:
    """A standby point's capacity cell: empty is 1; a whole number, else a problem."""
    raw = cells.text("capacity").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not raw.isascii():
        cells.problem("capacity", _("%(value)r is not a whole number.") % {"value": raw[:40]})
        return None
    return int(raw)


def kind_default(kind: str) -> list[str] | None:
    from fleet.models import KIND_CAPABILITIES

    return list(KIND_CAPABILITIES[kind]) if kind in KIND_CAPABILITIES else None


# ---------------------------------------------------------------------------------------------
# Export: the same files, so a centre can edit them and import them again


def export_files() -> dict[str, bytes]:
    """The centre as its files (name -> bytes); importing them again changes nothing."""
    c, f = formats.coordinate, formats.flag
    stations = [
        {
            "code": s.code,
            "name": s.name,
            "lon": c(s.location.x),
            "lat": c(s.location.y),
            "name_en": s.name_en,
            "district": s.district,
            "address": s.address,
        }
        for s in Station.objects.order_by("code")
    ]
    standby_points = [
        {
            "code": s.code,
            "name": s.name,
            "lon": c(s.location.x),
            "lat": c(s.location.y),
            "name_en": s.name_en,
            "district": s.district,
            "address": s.address,
            "capacity": str(s.capacity),
            "active": f(s.active),
        }
        for s in StandbyPoint.objects.order_by("code")
    ]
    hospitals = [
        {
            "code": h.code,
            "name": h.name,
            "lon": c(h.location.x),
            "lat": c(h.location.y),
            "name_en": h.name_en,
            "short_name": h.short_name,
            "level": h.level,
            "address": h.address,
            "phone": h.phone,
            "capabilities": formats.items(h.capabilities),
            "fhir_endpoint": h.fhir_endpoint,
            "has_board": f(h.has_board),
            "sms_number": h.sms_number,
        }
        for h in Hospital.objects.order_by("code")
    ]
    units = [
        {
            "call_sign": u.call_sign,
            "kind": u.kind,
            "station": u.home_station.code if u.home_station else "",
            "capabilities": formats.items(u.capabilities),
            "phone": u.phone,
            "plate": u.plate,
            "tracker_id": u.tracker_id or "",
        }
        for u in Unit.objects.select_related("home_station").order_by("call_sign")
    ]
    places = [
        {
            "ref": p.ref,
            "name": p.name,
            "kind": p.kind,
            "lon": c(p.point.x),
            "lat": c(p.point.y),
            "name_en": p.name_en,
            "address": p.address,
            "district": p.district,
        }
        for p in Place.objects.order_by("pk")
    ]
    users = [
        {
            "username": u.username,
            "role": u.role,
            "full_name": u.get_full_name().strip(),
            "station": u.station.code if u.station else "",
            "hospital": u.hospital.code if u.hospital else "",
            "phone": u.phone,
            "active": f(u.is_active),
        }
        for u in User.objects.select_related("station", "hospital").order_by("username")
    ]
    districts = [
        {
            "type": "Feature",
            "properties": {"code": d.code, "name": d.name, "name_en": d.name_en},
            "geometry": json.loads(d.polygon.json),
        }
        for d in District.objects.order_by("code")
    ]
    return {
        STATIONS.name: formats.csv_bytes(STATIONS, stations),
        STANDBY_POINTS.name: formats.csv_bytes(STANDBY_POINTS, standby_points),
        HOSPITALS.name: formats.csv_bytes(HOSPITALS, hospitals),
        UNITS.name: formats.csv_bytes(UNITS, units),
        DISTRICTS.name: formats.geojson_bytes(districts),
        PLACES.name: formats.csv_bytes(PLACES, places),
        USERS.name: formats.csv_bytes(USERS, users),
    }
