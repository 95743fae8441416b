"""Read road networks from files into RoadData, and check them before anything is stored.

Two formats:

* the `.co` / `.road-d` / `.road-t` city files of the reference data (each may be a .tar.gz
  holding the one text file, or the plain file);
* an OpenStreetMap PBF extract, the format a 120 centre downloads for its own city.

A road network feeds every ETA the dispatcher sees, so a bad file must fail loudly with the file
and line at fault, never import half a city. Messages are written for the person running the
import.
"""

from __future__ import annotations

import math
import re
import tarfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fleet.models import RoadClass
from fleet.roads.data import RoadData, RoadDataError

Progress = Callable[[str, float], None]
Notice = Callable[[str], None]

EARTH_RADIUS_M = 6_371_008.8
# Free-flow travel is this share of the road's speed (the reference data's rule, used for OSM
# too so that both kinds of network give comparable ETAs).
FREE_FLOW_SHARE = 0.8
CLASS_SPEED_KMH = {
    RoadClass.MOTORWAY: 120.0,
    RoadClass.TRUNK: 120.0,
    RoadClass.PRIMARY: 100.0,
    RoadClass.SECONDARY: 100.0,
    RoadClass.TERTIARY: 70.0,
    RoadClass.LINK: 60.0,
    RoadClass.UNCLASSIFIED: 50.0,
    RoadClass.RESIDENTIAL: 30.0,
    RoadClass.SERVICE: 10.0,
    RoadClass.LIVING_STREET: 5.0,
}
# When speeds tie (motorway/trunk 120, primary/secondary 100) the city files cannot tell the
# classes apart; the first listed here wins.
_SPEED_CLASSES = [
    (120.0, RoadClass.TRUNK),
    (100.0, RoadClass.PRIMARY),
    (70.0, RoadClass.TERTIARY),
    (60.0, RoadClass.LINK),
    (50.0, RoadClass.UNCLASSIFIED),
    (30.0, RoadClass.RESIDENTIAL),
    (10.0, RoadClass.SERVICE),
    (5.0, RoadClass.LIVING_STREET),
]
COINCIDENT_M = 1.0  # a zero-length arc is accepted only between vertices this close
CITY_SUFFIXES = (".co", ".road-d", ".road-t")


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, min(max(fraction, 0.0), 1.0))


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def road_class_from_speed(speed_kmh: np.ndarray) -> np.ndarray:
    """The class whose nominal speed is nearest (on a log scale) to speed / FREE_FLOW_SHARE.

    Zero-length arcs (0 m in 0 s) have no speed and get UNCLASSIFIED.
    """
    speeds = np.array([s for s, _ in _SPEED_CLASSES])
    classes = np.array([int(c) for _, c in _SPEED_CLASSES], np.int8)
    nominal = np.asarray(speed_kmh, np.float64) / FREE_FLOW_SHARE
    out = np.full(len(nominal), int(RoadClass.UNCLASSIFIED), np.int8)
    ok = np.isfinite(nominal) & (nominal > 0)
    gap = np.abs(np.log(nominal[ok][:, None]) - np.log(speeds[None, :]))
    out[ok] = classes[np.argmin(gap, axis=1)]
    return out


# ---------------------------------------------------------------------------------------------
# .co / .road-d / .road-t


def city_files(prefix_or_dir: str | Path, city: str | None = None) -> dict[str, Path]:
    """The three files of a city, from a prefix (`.../Haikou`), one of its files, or a
    directory plus the city name (or the only city in it). Plain files win over .tar.gz."""
    path = Path(prefix_or_dir)
    if path.is_dir():
        prefix = path / (city or _only_city_in(path))
    else:
        name = path.name
        if name.endswith(".tar.gz"):
            name = name[: -len(".tar.gz")]
        for suffix in CITY_SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        prefix = path.with_name(name)
    files = {}
    for suffix in CITY_SUFFIXES:
        plain = prefix.with_name(prefix.name + suffix)
        packed = prefix.with_name(prefix.name + suffix + ".tar.gz")
        if plain.is_file():
            files[suffix] = plain
        elif packed.is_file():
            files[suffix] = packed
        else:
            raise RoadDataError(f"missing file: {plain} (or {packed.name})")
    return files


def _only_city_in(directory: Path) -> str:
    cities = sorted(
        {p.name.split(".co")[0] for p in directory.iterdir() if re.search(r"\.co(\.tar\.gz)?$", p.name)}
    )
    if len(cities) == 1:
        return cities[0]
    if not cities:
        raise RoadDataError(f"no .co file in {directory}: name the city files' prefix")
    raise RoadDataError(f"{directory} holds several cities ({', '.join(cities)}): choose one with --city")


def read_text(path: Path) -> str:
    """The text of a plain file or of the single file inside a .tar.gz."""
    try:
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path, "r:gz") as archive:
                members = [m for m in archive.getmembers() if m.isfile()]
                if len(members) != 1:
                    raise RoadDataError(f"{path}: expected one file inside, found {len(members)}")
                content = archive.extractfile(members[0])
                assert content is not None, "a regular file's member has content"
                raw = content.read()
        else:
            raw = path.read_bytes()
    except RoadDataError:
        raise
    except FileNotFoundError:
        raise RoadDataError(f"missing file: {path}") from None
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise RoadDataError(f"{path}: cannot read it ({exc}); is the file complete?") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RoadDataError(f"{path}: not a text file ({exc})") from None


class _Table:
    """The data lines of one file: header lines (#) skipped, line numbers kept for messages."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        lines = text.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        first = 0
        while first < len(lines) and lines[first].startswith("#"):
            first += 1
        self.header = lines[:first]
        self.first_line = first + 1  # 1-based number of the first data line
        self.lines = lines[first:]

    def declared(self, word: str) -> int | None:
        """A count the header announces, e.g. "has 45948 vertices" -> 45948."""
        for line in self.header:
            found = re.search(r"(\d+)\s+" + word, line)
            if found:
                return int(found.group(1))
        return None

    def line_no(self, i: int) -> int:
        return self.first_line + i

    def columns(self, start: int, fields: Sequence[tuple[str, type]]) -> list[np.ndarray]:
        """Parse lines[start:] into one array per field, or say which line is wrong and why.

        One regular expression finds a line with the wrong number of fields and one split
        tokenises the rest: a Python loop per line would take seconds on Nanjing.
        """
        lines = self.lines[start:]
        want = len(fields)
        body = "\n".join(lines)
        gap = r"[^\S\n]"  # whitespace within a line
        wrong = re.search(rf"^(?!{gap}*\S+(?:{gap}+\S+){{{want - 1}}}{gap}*$)", body, flags=re.MULTILINE)
        if wrong and lines:
            i = body.count("\n", 0, wrong.start())
            found = lines[i].split()
            layout = " ".join(name for name, _ in fields)
            what = "an empty line" if not found else f"{len(found)} field(s)"
            raise RoadDataError(
                f"{self.name} line {self.line_no(start + i)}: expected {want} fields "
                f"'{layout}', found {what}: {lines[i].strip()!r} (truncated or malformed file?)"
            )
        tokens = body.split()
        out = []
        for k, (name, kind) in enumerate(fields):
            column = tokens[k::want]
            dtype = np.int64 if kind is int else np.float64
            try:
                out.append(np.array(column, dtype=dtype))
            except (ValueError, OverflowError):
                i = _first_bad(column, kind)
                raise RoadDataError(
                    f"{self.name} line {self.line_no(start + i)}: {name} {column[i]!r} is not "
                    f"{'a whole number' if kind is int else 'a number'}"
                ) from None
        return out


def _first_bad(column: Sequence[str], kind: type) -> int:
    for i, token in enumerate(column):
        try:
            kind(token)
        except (ValueError, OverflowError):
            return i
    return 0


def read_city_files(
    prefix_or_dir: str | Path, city: str | None = None, progress: Progress | None = None
) -> RoadData:
    """Read and validate a city's .co / .road-d / .road-t files."""
    files = city_files(prefix_or_dir, city)
    tables = {}
    for k, suffix in enumerate(CITY_SUFFIXES):
        path = files[suffix]
        _report(progress, f"reading {path.name}", k / 3)
        tables[suffix] = _Table(path.name.removesuffix(".tar.gz"), read_text(path))
    _report(progress, "parsing", 1.0)
    lat, lon = _parse_vertices(tables[".co"])
    src, dst, metres, first_d = _parse_arcs(tables[".road-d"], "metres")
    src_t, dst_t, seconds, first_t = _parse_arcs(tables[".road-t"], "seconds")
    _check_same_arcs(tables[".road-d"], tables[".road-t"], src, dst, src_t, dst_t)
    _check_arc_values(tables, lon, lat, src, dst, metres, seconds)
    speed = np.divide(metres * 3.6, seconds, out=np.zeros_like(metres), where=seconds > 0)
    data = RoadData(
        lon=lon,
        lat=lat,
        src=src.astype(np.int32),
        dst=dst.astype(np.int32),
        length_m=metres,
        time_s=seconds,
        road_class=road_class_from_speed(speed),
        oneway=~has_reverse(src, dst, len(lon)),
        names=[],
    )
    validate(data, progress=progress)
    return data


def _parse_vertices(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    """`latitude longitude` per line, after an optional line holding the vertex count."""
    start = 0
    declared = table.declared("vertices")
    if table.lines and len(table.lines[0].split()) == 1:
        token = table.lines[0].split()[0]
        if not token.isdigit():
            raise RoadDataError(
                f"{table.name} line {table.first_line}: expected the vertex count or "
                f"'latitude longitude', found {token!r}"
            )
        declared, start = int(token), 1
    lat, lon = table.columns(start, [("latitude", float), ("longitude", float)])
    if declared is not None and declared != len(lat):
        raise RoadDataError(
            f"{table.name}: declares {declared:,} vertices but holds {len(lat):,} (truncated file?)"
        )
    if len(lat) == 0:
        raise RoadDataError(f"{table.name}: no vertices")
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RoadDataError(
            f"{table.name} line {table.line_no(start + i)}: coordinates out of range "
            f"(latitude {lat[i]}, longitude {lon[i]}); expected 'latitude longitude' in degrees"
        )
    return lat, lon


def _parse_arcs(table: _Table, unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    u, v, value = table.columns(0, [("u", int), ("v", int), (unit, float)])
    declared = table.declared("edges")
    if declared is not None and declared != len(u):
        raise RoadDataError(
            f"{table.name}: declares {declared:,} arcs but holds {len(u):,} (truncated file?)"
        )
    if len(u) == 0:
        raise RoadDataError(f"{table.name}: no arcs")
    return u, v, value, table.first_line


def _check_same_arcs(
    d: _Table, t: _Table, src: np.ndarray, dst: np.ndarray, src_t: np.ndarray, dst_t: np.ndarray
) -> None:
    """road-t must list the arcs of road-d in the same order."""
    if len(src) != len(src_t):
        raise RoadDataError(
            f"{d.name} has {len(src):,} arcs but {t.name} has {len(src_t):,}: "
            "they must list the same arcs in the same order"
        )
    differ = np.flatnonzero((src != src_t) | (dst != dst_t))
    if len(differ):
        i = int(differ[0])
        raise RoadDataError(
            f"{d.name} line {d.line_no(i)} is arc {src[i]} -> {dst[i]} but {t.name} line "
            f"{t.line_no(i)} is {src_t[i]} -> {dst_t[i]}: the files must list the same arcs "
            "in the same order"
        )


def _check_arc_values(
    tables: dict[str, _Table],
    lon: np.ndarray,
    lat: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    metres: np.ndarray,
    seconds: np.ndarray,
) -> None:
    """Line-numbered checks of the arcs: known vertices, sensible lengths and times."""
    d, t, co = tables[".road-d"], tables[".road-t"], tables[".co"]
    n = len(lon)
    unknown = np.flatnonzero((src < 0) | (src >= n) | (dst < 0) | (dst >= n))
    if len(unknown):
        i = int(unknown[0])
        raise RoadDataError(
            f"{d.name} line {d.line_no(i)}: arc {src[i]} -> {dst[i]} names an unknown vertex; "
            f"{co.name} has {n:,} vertices (0 to {n - 1:,})"
        )
    for table, values, unit in ((d, metres, "length"), (t, seconds, "travel time")):
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad):
            i = int(bad[0])
            raise RoadDataError(
                f"{table.name} line {table.line_no(i)}: {unit} {values[i]} of arc "
                f"{src[i]} -> {dst[i]} must be a positive number"
            )
    message = _zero_arc_problem(lon, lat, src, dst, metres, seconds)
    if message is not None:
        i, text = message
        raise RoadDataError(f"{d.name} line {d.line_no(i)} / {t.name} line {t.line_no(i)}: {text}")


def _zero_arc_problem(
    lon: np.ndarray,
    lat: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    metres: np.ndarray,
    seconds: np.ndarray,
) -> tuple[int, str] | None:
    """Zero length or time is only sound between coincident vertices (real data has such
    duplicate nodes: 18 arcs in Nanjing); anywhere else it would be a teleport."""
    zero = np.flatnonzero((metres == 0) | (seconds == 0))
    if not len(zero):
        return None
    gap = haversine_m(lon[src[zero]], lat[src[zero]], lon[dst[zero]], lat[dst[zero]])
    wrong = (gap > COINCIDENT_M) | ((metres[zero] == 0) != (seconds[zero] == 0))
    if not wrong.any():
        return None
    k = int(np.flatnonzero(wrong)[0])
    i = int(zero[k])
    return i, (
        f"arc {src[i]} -> {dst[i]} has length {metres[i]} m and time {seconds[i]} s, but its "
        f"ends are {gap[k]:.1f} m apart; lengths and times must be positive"
    )


def has_reverse(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Per arc: does an arc run the other way between the same two vertices?"""
    key = src.astype(np.int64) * n + dst
    reverse = dst.astype(np.int64) * n + src
    return np.isin(reverse, key)


# ---------------------------------------------------------------------------------------------
# validation


def validate(data: RoadData, progress: Progress | None = None) -> None:
    """Raise RoadDataError unless the network is usable for routing: consistent arrays, known
    vertices, coordinates in range, positive finite lengths and times, strongly connected."""
    _report(progress, "validating", 0.0)
    _check_shapes(data)
    n = data.vertex_count
    if n == 0 or data.arc_count == 0:
        raise RoadDataError("the road network is empty")
    bad = ~(np.isfinite(data.lat) & np.isfinite(data.lon))
    bad |= (np.abs(data.lat) > 90) | (np.abs(data.lon) > 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RoadDataError(f"vertex {i}: coordinates out of range (lon {data.lon[i]}, lat {data.lat[i]})")
    src, dst = data.src.astype(np.int64), data.dst.astype(np.int64)
    unknown = np.flatnonzero((src < 0) | (src >= n) | (dst < 0) | (dst >= n))
    if len(unknown):
        i = int(unknown[0])
        raise RoadDataError(f"arc {i} ({src[i]} -> {dst[i]}) names an unknown vertex (0 to {n - 1})")
    for values, unit in ((data.length_m, "length"), (data.time_s, "travel time")):
        bad_values = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad_values):
            i = int(bad_values[0])
            raise RoadDataError(f"arc {i} ({src[i]} -> {dst[i]}): {unit} {values[i]} must be positive")
    problem = _zero_arc_problem(data.lon, data.lat, src, dst, data.length_m, data.time_s)
    if problem is not None:
        raise RoadDataError(f"arc {problem[0]}: {problem[1]}")
    classes = {int(c) for c in RoadClass}
    unknown_class = np.flatnonzero(~np.isin(data.road_class, list(classes)))
    if len(unknown_class):
        i = int(unknown_class[0])
        raise RoadDataError(f"arc {i}: unknown road class {data.road_class[i]}")
    _report(progress, "validating", 0.5)
    labels, count = strong_components(data)
    if count > 1:
        sizes = np.bincount(labels)
        outside = n - int(sizes.max())
        example = int(np.flatnonzero(labels != np.argmax(sizes))[0])
        raise RoadDataError(
            f"the road graph is not strongly connected: {count:,} components, and "
            f"{outside:,} of {n:,} vertices ({outside / n:.1%}) lie outside the largest, "
            f"e.g. vertex {example} at ({data.lon[example]:.6f}, {data.lat[example]:.6f}); "
            "from there some places cannot be reached (or left) by road"
        )
    _report(progress, "validating", 1.0)


def _check_shapes(data: RoadData) -> None:
    if len(data.lon) != len(data.lat):
        raise RoadDataError(f"{len(data.lon)} longitudes but {len(data.lat)} latitudes")
    m = len(data.src)
    for name in ("dst", "length_m", "time_s", "road_class", "oneway"):
        if len(getattr(data, name)) != m:
            raise RoadDataError(f"{m} arcs but {len(getattr(data, name))} values of {name}")
    if data.names and len(data.names) != m:
        raise RoadDataError(f"{m} arcs but {len(data.names)} names")


def strong_components(data: RoadData) -> tuple[np.ndarray, int]:
    """Strongly connected component label of each vertex, and how many there are."""
    n = data.vertex_count
    graph = coo_matrix(
        (np.ones(data.arc_count, np.int8), (data.src.astype(np.int64), data.dst.astype(np.int64))),
        shape=(n, n),
    ).tocsr()
    count, labels = connected_components(graph, directed=True, connection="strong")
    return labels, int(count)


def keep_largest_component(data: RoadData) -> tuple[RoadData, int]:
    """The largest strongly connected part (vertices renumbered), and how many were dropped."""
    labels, count = strong_components(data)
    if count <= 1:
        return data, 0
    keep = labels == np.argmax(np.bincount(labels))
    new_id = np.cumsum(keep) - 1
    arcs = keep[data.src] & keep[data.dst]
    return (
        RoadData(
            lon=data.lon[keep],
            lat=data.lat[keep],
            src=new_id[data.src[arcs]].astype(np.int32),
            dst=new_id[data.dst[arcs]].astype(np.int32),
            length_m=data.length_m[arcs],
            time_s=data.time_s[arcs],
            road_class=data.road_class[arcs],
            oneway=data.oneway[arcs],
            names=[name for name, k in zip(data.names, arcs, strict=True) if k] if data.names else [],
        ),
        int((~keep).sum()),
    )


# ---------------------------------------------------------------------------------------------
# OpenStreetMap PBF

_HIGHWAY_CLASS = {
    "motorway": RoadClass.MOTORWAY,
    "trunk": RoadClass.TRUNK,
    "primary": RoadClass.PRIMARY,
    "secondary": RoadClass.SECONDARY,
    "tertiary": RoadClass.TERTIARY,
    "motorway_link": RoadClass.LINK,
    "trunk_link": RoadClass.LINK,
    "primary_link": RoadClass.LINK,
    "secondary_link": RoadClass.LINK,
    "tertiary_link": RoadClass.LINK,
    "unclassified": RoadClass.UNCLASSIFIED,
    "road": RoadClass.UNCLASSIFIED,
    "residential": RoadClass.RESIDENTIAL,
    "service": RoadClass.SERVICE,
    "living_street": RoadClass.LIVING_STREET,
}
# Service roads an ambulance has no business on (emergency_access ones it may use).
_EXCLUDED_SERVICE = {"parking", "parking_aisle"}
_IMPLIED_ONEWAY = {"motorway", "motorway_link"}
_MPH = 1.609344


def osm_road_class(tags: dict[str, str]) -> RoadClass | None:
    """The class of a way a car (an ambulance) may drive on, or None."""
    road_class = _HIGHWAY_CLASS.get(tags.get("highway", ""))
    if road_class is None or tags.get("area") == "yes":
        return None
    closed = "no" in (tags.get("access"), tags.get("motor_vehicle"), tags.get("motorcar"))
    if closed and tags.get("emergency") != "yes":
        return None
    if tags.get("service") in _EXCLUDED_SERVICE:
        return None
    return road_class


def osm_direction(tags: dict[str, str]) -> int:
    """+1: only along the way's node order, -1: only against it, 0: both ways."""
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in ("yes", "1", "true"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular"):
        return 1
    if tags.get("highway") in _IMPLIED_ONEWAY:
        return 1
    return 0


def osm_speed_kmh(tags: dict[str, str], road_class: RoadClass) -> float:
    """maxspeed in km/h ("50", "30 mph", "50;30" takes the first), else the class speed."""
    found = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", tags.get("maxspeed", ""))
    if found:
        speed = float(found.group(1)) * (_MPH if found.group(2) == "mph" else 1.0)
        if speed > 0:
            return speed
    return CLASS_SPEED_KMH[road_class]


class _OsmCollector:
    """Accumulates the segments of drivable ways: every way node becomes a vertex and each
    consecutive pair a straight segment, so geometry is exact and no node is lost."""

    def __init__(self) -> None:
        self.vertex_of: dict[int, int] = {}
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.seg_a: list[int] = []
        self.seg_b: list[int] = []
        self.seg_way: list[int] = []
        self.way_direction: list[int] = []
        self.way_class: list[int] = []
        self.way_speed: list[float] = []
        self.way_name: list[str] = []

    def vertex(self, ref: int, lon: float, lat: float) -> int:
        v = self.vertex_of.get(ref)
        if v is None:
            v = self.vertex_of[ref] = len(self.lon)
            self.lon.append(lon)
            self.lat.append(lat)
        return v

    def add_way(self, tags: dict[str, str], nodes: list[tuple[int | None, float, float]]) -> None:
        road_class = osm_road_class(tags)
        if road_class is None:
            return
        way = len(self.way_class)
        self.way_class.append(int(road_class))
        self.way_direction.append(osm_direction(tags))
        self.way_speed.append(osm_speed_kmh(tags, road_class))
        self.way_name.append(tags.get("name") or tags.get("ref") or "")
        previous = None
        for ref, lon, lat in nodes:
            if ref is None:  # a node outside the extract: the way is cut there
                previous = None
                continue
            v = self.vertex(ref, lon, lat)
            if previous is not None and previous != v:
                self.seg_a.append(previous)
                self.seg_b.append(v)
                self.seg_way.append(way)
            previous = v

    def road_data(self) -> RoadData:
        lon, lat = np.array(self.lon, np.float64), np.array(self.lat, np.float64)
        a, b = np.array(self.seg_a, np.int64), np.array(self.seg_b, np.int64)
        way = np.array(self.seg_way, np.int64)
        direction = np.array(self.way_direction, np.int64)[way]
        forward, backward = direction >= 0, direction <= 0
        src = np.concatenate([a[forward], b[backward]])
        dst = np.concatenate([b[forward], a[backward]])
        arc_way = np.concatenate([way[forward], way[backward]])
        metres = haversine_m(lon[src], lat[src], lon[dst], lat[dst])
        speed_ms = np.array(self.way_speed)[arc_way] * FREE_FLOW_SHARE / 3.6
        return RoadData(
            lon=lon,
            lat=lat,
            src=src.astype(np.int32),
            dst=dst.astype(np.int32),
            length_m=metres,
            time_s=metres / speed_ms,
            road_class=np.array(self.way_class, np.int8)[arc_way],
            oneway=np.array(self.way_direction, np.int64)[arc_way] != 0,
            names=[self.way_name[w] for w in arc_way],
        )


def read_osm_pbf(
    path: str | Path, progress: Progress | None = None, notice: Notice | None = None
) -> RoadData:
    """Drivable roads of an OSM PBF extract, as the largest strongly connected network.

    Real extracts are cut at their border and hold small unreachable pieces (a car park, the
    stub of a road leaving the box); those are dropped, and `notice` says how many vertices.
    """
    import osmium  # imported here: only the importer needs it

    path = Path(path)
    if not path.is_file():
        raise RoadDataError(f"missing file: {path}")
    collector = _OsmCollector()
    _report(progress, f"reading {path.name}", 0.0)
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for count, way in enumerate(processor):
            assert isinstance(way, osmium.osm.Way), "the entity filter passes ways only"
            tags = {tag.k: tag.v for tag in way.tags}
            # A node outside the extract has no location: None cuts the way there (add_way).
            nodes: list[tuple[int | None, float, float]] = [
                (n.ref, n.lon, n.lat) if n.location.valid() else (None, 0.0, 0.0) for n in way.nodes
            ]
            collector.add_way(tags, nodes)
            if count % 5000 == 0:
                _report(progress, f"reading {path.name}", 0.5 * (1 - math.exp(-count / 50_000)))
    except RuntimeError as exc:
        raise RoadDataError(f"{path}: cannot read it as OSM PBF ({exc})") from None
    _report(progress, f"reading {path.name}", 1.0)
    data = collector.road_data()
    if data.arc_count == 0:
        raise RoadDataError(f"{path}: no drivable roads (highway=*) found")
    data, dropped = keep_largest_component(data)
    if dropped and notice is not None:
        total = dropped + data.vertex_count
        notice(
            f"kept the largest strongly connected part of the road graph: dropped {dropped:,} "
            f"of {total:,} vertices ({dropped / total:.1%}) that cannot reach it or be reached"
        )
    validate(data, progress=progress)
    return data
