"""Save road networks to PostGIS and read them back, both fast.

Writing uses COPY (Nanjing's 322k arcs in seconds, where ORM inserts take minutes), all in one
transaction that ends by swapping the active network: a failure anywhere rolls the new rows
back and leaves the network that routing uses untouched.

Reading back is for the router at process start. Network rows never change after import, so
the arrays are cached in var/cache/roads-<id>.npz; a stamp inside (database, id, import time,
counts) makes sure a file from another database or an older import with the same id is never
used.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from psycopg import Cursor

from fleet.models import RoadArc, RoadNetwork, RoadVertex
from fleet.roads.data import RoadData

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

CACHE_FORMAT = 1
NAME_MAX = RoadArc._meta.get_field("name").max_length
_ROWS_PER_REPORT = 20_000
# hex EWKB headers, little-endian, SRID 4326: a point, and a line string of two points
_POINT_HEADER = "0101000020e6100000"
_LINE_HEADER = "0102000020e610000002000000"


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, min(max(fraction, 0.0), 1.0))


def save_network(
    data: RoadData,
    name: str,
    source: str,
    is_demo: bool = False,
    activate: bool = True,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Write the network and (by default) make it the active one, atomically."""
    from fleet.roads.readers import validate

    validate(data)
    with transaction.atomic():
        network = RoadNetwork.objects.create(
            name=name,
            source=source[:300],
            is_demo=is_demo,
            is_active=False,
            vertex_count=data.vertex_count,
            arc_count=data.arc_count,
        )
        cursor = connection.cursor().cursor  # the psycopg cursor, for COPY
        _copy_vertices(cursor, network.pk, data, progress)
        _copy_arcs(cursor, network.pk, data, progress)
        if activate:
            _report(progress, "activating", 0.0)
            activate_network(network)
            _report(progress, "activating", 1.0)
    logger.info("saved road network %s: %s", network.pk, network)
    return network


def activate_network(network: RoadNetwork) -> None:
    """Make this network the active one (the old one stops being active in the same commit)."""
    with transaction.atomic():
        # lock the current active row so two imports finishing together queue up here
        list(RoadNetwork.objects.select_for_update().filter(is_active=True).values_list("pk"))
        RoadNetwork.objects.filter(is_active=True).exclude(pk=network.pk).update(is_active=False)
        RoadNetwork.objects.filter(pk=network.pk).update(is_active=True)
    network.is_active = True


def _hex_ewkb(header: str, coords: np.ndarray) -> list[str]:
    """One hex EWKB string per row of float64 coordinates (x, y[, x, y])."""
    width = coords.shape[1] * 16
    text = np.ascontiguousarray(coords, "<f8").tobytes().hex()
    return [header + text[i : i + width] for i in range(0, len(text), width)]


def _copy_vertices(cursor: Cursor, network_id: int, data: RoadData, progress: Progress | None) -> None:
    table = RoadVertex._meta.db_table
    points = _hex_ewkb(_POINT_HEADER, np.column_stack([data.lon, data.lat]))
    total = data.vertex_count
    with cursor.copy(f"COPY {table} (network_id, idx, point) FROM STDIN") as copy:
        for i, point in enumerate(points):
            copy.write_row((network_id, i, point))
            if i % _ROWS_PER_REPORT == 0:
                _report(progress, "writing vertices", i / total)
    _report(progress, "writing vertices", 1.0)


def _copy_arcs(cursor: Cursor, network_id: int, data: RoadData, progress: Progress | None) -> None:
    table = RoadArc._meta.db_table
    src, dst = data.src.astype(np.int64), data.dst.astype(np.int64)
    lines = _hex_ewkb(
        _LINE_HEADER, np.column_stack([data.lon[src], data.lat[src], data.lon[dst], data.lat[dst]])
    )
    names = [name[:NAME_MAX] for name in data.names] if data.names else None
    rows = zip(
        src.tolist(),
        dst.tolist(),
        data.length_m.tolist(),
        data.time_s.tolist(),
        data.road_class.astype(np.int64).tolist(),
        data.oneway.astype(bool).tolist(),
        lines,
        strict=True,
    )
    total = data.arc_count
    columns = "network_id, idx, source, target, length_m, time_s, road_class, oneway, geom, name"
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for i, (u, v, metres, seconds, road_class, oneway, geom) in enumerate(rows):
            name = names[i] if names is not None else ""
            copy.write_row((network_id, i, u, v, metres, seconds, road_class, oneway, geom, name))
            if i % _ROWS_PER_REPORT == 0:
                _report(progress, "writing arcs", i / total)
    _report(progress, "writing arcs", 1.0)


# ---------------------------------------------------------------------------------------------
# reading back


def cache_dir() -> Path:
    return Path(getattr(settings, "ROAD_CACHE_DIR", Path(settings.BASE_DIR) / "var" / "cache"))


def hierarchy_cache_path(network_id: int) -> Path:
    """Where the router keeps the network's contraction hierarchy (checked by content)."""
    return cache_dir() / f"roads-{network_id}-hierarchy.npz"


def _stamp(network: RoadNetwork) -> str:
    database = connection.settings_dict.get("NAME", "")
    return (
        f"v{CACHE_FORMAT}|{database}|{network.pk}|{network.imported_at.isoformat()}|"
        f"{network.vertex_count}|{network.arc_count}"
    )


def load_network(network: RoadNetwork) -> RoadData:
    """The network's arrays, from the cache file when it is there and matches, else from the
    database (then cached)."""
    path = cache_dir() / f"roads-{network.pk}.npz"
    stamp = _stamp(network)
    data = _read_cache(path, stamp)
    if data is not None:
        return data
    data = _read_database(network)
    _write_cache(path, stamp, data)
    return data


def _read_cache(path: Path, stamp: str) -> RoadData | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["stamp"]) != stamp:
                return None
            names_unique, names_index = z["names_unique"], z["names_index"]
            names = names_unique[names_index].tolist() if len(names_index) else []
            return RoadData(
                lon=z["lon"],
                lat=z["lat"],
                src=z["src"],
                dst=z["dst"],
                length_m=z["length_m"],
                time_s=z["time_s"],
                road_class=z["road_class"],
                oneway=z["oneway"],
                names=names,
            )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("ignoring unreadable road cache %s: %s", path, exc)
        return None


def _write_cache(path: Path, stamp: str, data: RoadData) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if data.names:
            names_unique, names_index = np.unique(np.array(data.names, dtype=str), return_inverse=True)
        else:
            names_unique, names_index = np.array([], dtype=str), np.array([], np.int32)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                stamp=np.array(stamp),
                lon=data.lon,
                lat=data.lat,
                src=data.src,
                dst=data.dst,
                length_m=data.length_m,
                time_s=data.time_s,
                road_class=data.road_class,
                oneway=data.oneway,
                names_unique=names_unique,
                names_index=names_index.astype(np.int32),
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; app processes may run as another user
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("cannot write road cache %s: %s", path, exc)


def _copy_out(cursor: Cursor, query: str, network_id: int) -> list[str]:
    """Whitespace-separated tokens of a COPY ... TO STDOUT of numeric columns."""
    chunks = []
    with cursor.copy(f"COPY ({query}) TO STDOUT", (network_id,)) as copy:
        for block in copy:
            chunks.append(bytes(block))
    return b"".join(chunks).decode().split()


def _read_database(network: RoadNetwork) -> RoadData:
    vertex_table = RoadVertex._meta.db_table
    arc_table = RoadArc._meta.db_table
    with transaction.atomic():
        cursor = connection.cursor().cursor
        tokens = _copy_out(
            cursor,
            f"SELECT ST_X(point), ST_Y(point) FROM {vertex_table} WHERE network_id = %s ORDER BY idx",
            network.pk,
        )
        vertices = np.array(tokens, np.float64).reshape(-1, 2)
        tokens = _copy_out(
            cursor,
            f"SELECT source, target, length_m, time_s, road_class, oneway::int FROM {arc_table} "
            "WHERE network_id = %s ORDER BY idx",
            network.pk,
        )
        arcs = np.array(tokens, np.float64).reshape(-1, 6)
        names: list[str] = []
        named = f"SELECT EXISTS (SELECT 1 FROM {arc_table} WHERE network_id = %s AND name <> '')"
        cursor.execute(named, (network.pk,))
        if cursor.fetchone()[0]:
            query = f"SELECT name FROM {arc_table} WHERE network_id = %s ORDER BY idx"
            cursor.execute(query, (network.pk,))
            names = [row[0] for row in cursor.fetchall()]
    return RoadData(
        lon=np.ascontiguousarray(vertices[:, 0]),
        lat=np.ascontiguousarray(vertices[:, 1]),
        src=arcs[:, 0].astype(np.int32),
        dst=arcs[:, 1].astype(np.int32),
        length_m=np.ascontiguousarray(arcs[:, 2]),
        time_s=np.ascontiguousarray(arcs[:, 3]),
        road_class=arcs[:, 4].astype(np.int8),
        oneway=arcs[:, 5].astype(bool),
        names=names,
    )
