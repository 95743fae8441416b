"""The centre's files (docs/import-formats.md): which files, which columns, and how their cells
are read and written. Pure: no database here.

A file is a list of rows; a row is its line number and its cells (column name -> text), so the
demo city, a spreadsheet and the admin's upload all reach the importer in the same shape.
"""

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.utils.translation import gettext as _

CSV_FIELD_LIMIT = 10_000  # characters in one cell; the longest column holds 200
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class FileFormat:
    """One of the centre's files: its name, its columns (required ones first) and its key."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


# In the order they are imported: what a row refers to comes before it.
STATIONS = FileFormat(
    "stations.csv", ("code", "name", "lon", "lat"), ("name_en", "district", "address"), ("code",)
)
# Where move-ups may send a unit besides the stations (dispatch.coverage.moveup).
STANDBY_POINTS = FileFormat(
    "standby_points.csv",
    ("code", "name", "lon", "lat"),
    ("name_en", "district", "address", "capacity", "active"),
    ("code",),
)
STANDBY_POINTS_GEOJSON = FileFormat(
    "standby_points.geojson",
    ("code", "name", "geometry"),
    ("name_en", "district", "address", "capacity", "active"),
    ("code",),
)
HOSPITALS = FileFormat(
    "hospitals.csv",
    ("code", "name", "lon", "lat"),
    ("name_en", "short_name", "level", "address", "phone", "capabilities", "fhir_endpoint", "has_board")
    + ("sms_number",),
    ("code",),
)
UNITS = FileFormat(
    "units.csv",
    ("call_sign", "kind"),
    ("station", "capabilities", "phone", "plate", "tracker_id"),
    ("call_sign",),
)
DISTRICTS = FileFormat("districts.geojson", ("code", "name", "geometry"), ("name_en",), ("code",))
PLACES = FileFormat(
    "places.csv", ("name", "kind", "lon", "lat"), ("ref", "name_en", "address", "district"), ("ref",)
)
ADDRESSES = FileFormat("addresses.csv", ("ref", "name", "lon", "lat"), ("name_en", "district"), ("ref",))
PLACES_GEOJSON = FileFormat(
    "places.geojson", ("name", "kind", "geometry"), ("ref", "name_en", "address", "district"), ("ref",)
)
USERS = FileFormat(
    "users.csv",
    ("username", "role"),
    ("full_name", "station", "hospital", "phone", "active", "password"),
    ("username",),
)
FORMATS = (
    STATIONS,
    STANDBY_POINTS,
    STANDBY_POINTS_GEOJSON,
    HOSPITALS,
    UNITS,
    DISTRICTS,
    PLACES,
    ADDRESSES,
    PLACES_GEOJSON,
    USERS,
)
BY_NAME = {f.name: f for f in FORMATS}

LIST_SEPARATORS = re.compile(r"[;,|；，、\s]+")
TRUE = {"1", "yes", "y", "true", "是", "有"}
FALSE = {"0", "no", "n", "false", "否", "无"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is: file, line (1 is the header) and column."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class Table:
    """A file's rows: (line, cells)."""

    format: FileFormat
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class Cells:
    """Reads typed values out of a row, noting each problem instead of stopping at the first."""

    def __init__(self, file: str, line: int, cells: dict[str, Any], problems: list[Problem]) -> None:
        self.file, self.line, self.cells, self.problems = file, line, cells, problems
        self.ok = True

    def problem(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.file, self.line, column, message))

    def text(self, column: str) -> str:
        value = self.cells.get(column)
        return "" if value is None else str(value)

    def number(self, column: str) -> float:
        raw = self.text(column).strip()
        try:
            value = float(raw)
        except ValueError:
            self.problem(column, _("%(value)r is not a number.") % {"value": raw[:40]})
            return math.nan
        if not math.isfinite(value):
            self.problem(column, _("%(value)r is not a number.") % {"value": raw[:40]})
        return value

    def flag(self, column: str, default: bool) -> bool:
        raw = self.text(column).strip().lower()
        if not raw:
            return default
        if raw in TRUE | FALSE:
            return raw in TRUE
        self.problem(column, _("%(value)r is neither yes nor no.") % {"value": raw[:40]})
        return default

    def items(self, column: str) -> list[str] | None:
        """A list cell (als;defib): None when empty."""
        raw = self.text(column).strip()
        return [item for item in LIST_SEPARATORS.split(raw) if item] if raw else None


def decode(name: str, data: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 text, with or without the byte-order mark Excel writes; a clear problem otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                name,
                line,
                "",
                _(
                    'The file is not UTF-8 text (byte %(byte)d). Save it as "CSV UTF-8" '
                    "(Excel: Save as, CSV UTF-8 (comma delimited))."
                )
                % {"byte": exc.start + 1},
            )
        )
        return None


def read_csv(fmt: FileFormat, name: str, data: bytes, problems: list[Problem]) -> Table:
    """A CSV file's rows: header checked (unknown and missing columns), each row's cells."""
    table = Table(fmt)
    content = decode(name, data, problems)
    if content is None:
        return table
    first = content.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel writes ";" where "," is the decimal mark
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        header = [column.strip().lower() for column in next(reader, [])]
    except csv.Error as exc:
        problems.append(Problem(name, 1, "", _("The header cannot be read: %(error)s.") % {"error": exc}))
        return table
    if not any(header):
        problems.append(Problem(name, 1, "", _("The file is empty: the first line must name the columns.")))
        return table
    before = len(problems)
    for column in header:
        if column not in fmt.columns:
            problems.append(
                Problem(
                    name,
                    1,
                    column,
                    _("Unknown column (this file's columns: %(columns)s).")
                    % {"columns": ", ".join(fmt.columns)},
                )
            )
    for column in fmt.required:
        if column not in header:
            problems.append(Problem(name, 1, column, _("This required column is missing.")))
    if len(header) != len(set(header)):
        problems.append(Problem(name, 1, "", _("A column is named twice.")))
    if len(problems) > before:
        return table
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(
                Problem(name, reader.line_num, "", _("This line cannot be read: %(error)s.") % {"error": exc})
            )
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (Excel leaves some at the end)
        if len(cells) > len(header):
            problems.append(
                Problem(
                    name,
                    reader.line_num,
                    "",
                    _("%(found)d cells, but the header names %(columns)d columns.")
                    % {"found": len(cells), "columns": len(header)},
                )
            )
            continue
        table.rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
    return table


def read_geojson(fmt: FileFormat, name: str, data: bytes, problems: list[Problem]) -> Table:
    """A FeatureCollection's features as rows: their properties and their geometry (as GeoJSON
    text); the line is the feature's number (1 the first), GeoJSON having no useful lines."""
    table = Table(fmt)
    content = decode(name, data, problems)
    if content is None:
        return table
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        problems.append(Problem(name, exc.lineno, "", _("Not valid JSON: %(error)s.") % {"error": exc.msg}))
        return table
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        problems.append(Problem(name, 0, "", _("Expected a GeoJSON FeatureCollection with a features list.")))
        return table
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            problems.append(Problem(name, number, "", _("Feature %(n)d has no properties.") % {"n": number}))
            continue
        cells = {str(k).lower(): v for k, v in feature["properties"].items()}
        unknown = [k for k in cells if k not in fmt.columns]
        for column in unknown:
            problems.append(Problem(name, number, column, _("Unknown property.")))
        cells["geometry"] = json.dumps(feature.get("geometry")) if feature.get("geometry") else ""
        if not unknown:
            table.rows.append((number, cells))
    return table


def read_file(name: str, data: bytes, problems: list[Problem]) -> Table | None:
    """One of the centre's files, by its name; None (with a problem) for any other file."""
    base = PurePath(name).name.lower()
    fmt = BY_NAME.get(base)
    if fmt is None:
        problems.append(
            Problem(name, 0, "", _("Unknown file (expected: %(names)s).") % {"names": ", ".join(BY_NAME)})
        )
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            Problem(name, 0, "", _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES >> 20})
        )
        return None
    reader = read_geojson if base.endswith(".geojson") else read_csv
    return reader(fmt, name, data, problems)


def unpack(files: Iterable[tuple[str, bytes]], problems: list[Problem]) -> Iterator[tuple[str, bytes]]:
    """The files themselves, a zip's members in their place (folders inside ignored)."""
    for name, data in files:
        if not name.lower().endswith(".zip"):
            yield name, data
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            for info in archive.infolist():
                member = PurePath(info.filename).name
                if info.is_dir() or member.startswith(".") or "__MACOSX" in info.filename:
                    continue
                if info.file_size > MAX_FILE_BYTES:
                    problems.append(
                        Problem(
                            member,
                            0,
                            "",
                            _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES >> 20},
                        )
                    )
                    continue
                yield member, archive.read(info)
        except zipfile.BadZipFile:
            problems.append(Problem(name, 0, "", _("Not a zip archive.")))


# ---------------------------------------------------------------------------------------------
# Writing


def csv_bytes(fmt: FileFormat, rows: Iterable[dict[str, str]]) -> bytes:
    """A CSV file as Excel opens it without asking: UTF-8 with the byte-order mark, CRLF."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(
        out, fieldnames=[c for c in fmt.columns if c != "password"], lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def geojson_bytes(features: Iterable[dict[str, Any]]) -> bytes:
    document = {"type": "FeatureCollection", "features": list(features)}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def coordinate(value: float) -> str:
    """Seven decimals: a centimetre, and the importer's sameness tolerance."""
    return f"{value:.7f}"


def items(values: Iterable[str]) -> str:
    return ";".join(values)


def flag(value: bool) -> str:
    return "yes" if value else "no"
