"""Live coverage: the city's demand nodes, the free units that cover them now, and what is left
uncovered within the target time (docs/coverage-study.md; the arithmetic is policy.py's).

- Demand (`demand()`): the incidents of the last COVERAGE_DEMAND_DAYS days counted on a grid
  of CELL_M cells, plus a floor (COVERAGE_DEMAND_FLOOR of the whole) spread by road vertex
  density, the study's population proxy, so that a part of the city without history still
  counts a little. A cell's node is the road vertex nearest its vertices' centre (the
  incidents' centre when it has no vertex); cells with fewer than MIN_CELL_VERTICES vertices
  and no incident are left out (empty land, sea). Weights sum to 1. Built once per process and
  again every COVERAGE_REFRESH_SECONDS, or when another road network becomes active.
- ETAs (`etas_from()`): one search of the router's one-to-many kind per point: from the point
  over the reversed graph, it gives every demand node's road time to the point, taken as the
  point's time to the node. That is exact on two-way streets and the way back on one-way ones
  (a block round at most, in a city); the exact direction would cost one search per demand
  node (700 in the demo city, some seconds) each time a unit moves, this one search per unit
  (a few milliseconds). Rows are kept per position, so a unit standing still is searched once.
  Without a road network: straight line at STRAIGHT_LINE_MPS, and every answer says
  `by_road = False`.
- Staleness (`unit_etas()`, docs/decisions/0024): with a big fleet nearly every unit has moved
  since the last snapshot (1,000 units reporting every 5 s), and searching them all again took
  a recommendation 0.3 to 1.9 s under load. So a snapshot searches at most SYNC_SEARCHES moved
  or new units itself; with more, each moved unit counts from the last position a snapshot saw
  it at, if that was at most STALE_ROWS_S ago, and one background thread (no database; one per
  process at a time) searches the new positions for the next snapshot. The units counted and
  whether they are free are always those of the moment; only their reach may lag their moves
  by up to STALE_ROWS_S. A unit with no such row is searched before answering, unless the
  caller cannot wait (the recommendation): then the snapshot is None, and the background search
  has it for the next call. The demand is rebuilt every COVERAGE_REFRESH_SECONDS in a thread of
  its own while the previous one serves; rebuilt with the same nodes it keeps every row.
- Covering units (`covering_units()`): free to take a job (Unit.objects.available()), located,
  and staffed as the recommendation decides (a crew on shift unless REQUIRE_CREW_ON_SHIFT is
  off). A unit covers a node when its road time there is within COVERAGE_TARGET_S.
- `snapshot()`: per-node covering counts, expected uncovered demand (MEXCLP with
  COVERAGE_BUSY_FRACTION), and the share of each district's demand that no free unit reaches in
  time.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connections
from django.db.models import Exists, FloatField, Func, OuterRef
from django.utils import timezone

from dispatch.coverage import policy
from dispatch.models import District, Incident
from fleet.models import CrewShift, Unit
from fleet.roads.readers import haversine_m
from fleet.roads.router import Positions, Router, get_router

CELL_M = 1000.0  # demand grid cell
MIN_CELL_VERTICES = 3  # a cell with fewer road vertices and no incident is not demand
STRAIGHT_LINE_MPS = 8.0  # no road network: straight line at ~40 km/h less a 1.4 detour
MAX_CACHED_ROWS = 5000  # ETA rows kept per position before the cache keeps only the units' last
# A snapshot searches at most this many moved or new units itself (a few ms each under load);
# with more, the moved ones count from where they were, searched again in the background.
SYNC_SEARCHES = 16
STALE_ROWS_S = 60.0  # ... from a position they held at most this long ago (module docstring)
EARTH_RADIUS_M = 6_371_008.8

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Demand:
    """Demand nodes: where calls are expected and how many (weights sum to 1)."""

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    district: list[str]  # the district each node lies in ("" when none contains it)
    # each node's cell as (west, south, east, north), for drawing
    bounds: np.ndarray = field(default_factory=lambda: np.empty((0, 4)))
    by_road: bool = False  # nodes from a road network (False: incidents only)
    network_id: int | None = None
    incidents: int = 0  # incidents counted
    cell_m: float = CELL_M

    def __len__(self) -> int:
        return len(self.weight)


@dataclass(frozen=True)
class Snapshot:
    """Coverage now: which demand the covering units reach within the target."""

    demand: Demand
    unit_ids: tuple[int, ...]  # the covering units counted, rows of `cover`
    cover: np.ndarray  # bool, units x nodes
    counts: np.ndarray  # covering units per node
    expected_uncovered: float  # sum_j w_j busy^k_j
    uncovered_share: float  # share of demand no free unit reaches in time
    busy: float
    target_s: float
    by_road: bool  # False: straight-line ETAs, no road network loaded
    districts: dict[str, float]  # district -> share of its demand not reached in time

    @property
    def uncovered(self) -> np.ndarray:
        """Nodes no covering unit reaches within the target."""
        return self.counts == 0

    def row(self, unit_id: int) -> int | None:
        try:
            return self.unit_ids.index(unit_id)
        except ValueError:
            return None

    def uncovered_without(self, unit_ids: Sequence[int]) -> dict[int, float]:
        """For each of these covering units, the expected uncovered demand once it has left
        (units not counted here are left out of the answer)."""
        rows = {u: r for u in unit_ids if (r := self.row(u)) is not None}
        if not rows:
            return {}
        loss = policy.uncovered_without(
            self.cover, self.demand.weight, self.busy, np.array(list(rows.values()), np.int64)
        )
        return dict(zip(rows, loss.tolist(), strict=True))

    def districts_losing(self, unit_id: int) -> list[str]:
        """The districts whose demand only this unit reaches in time, the most such demand
        first ("" for nodes in no district, last): what its departure leaves uncovered."""
        r = self.row(unit_id)
        if r is None:
            return []
        alone = self.cover[r] & (self.counts == 1)
        lost: dict[str, float] = {}
        for j in np.flatnonzero(alone).tolist():
            name = self.demand.district[j]
            lost[name] = lost.get(name, 0.0) + float(self.demand.weight[j])
        return sorted(lost, key=lambda d: (d == "", -lost[d], d))


class _Lonlat(Func):
    """ST_X or ST_Y of a geography point, as a float."""

    output_field = FloatField()
    template = "%(function)s(%(expressions)s::geometry)"


# --------------------------------------------------------------------------------------------
# the per-process caches


@dataclass(frozen=True)
class _Generation:
    """The demand and its snapped nodes; rows of ETAs belong to one generation (`number`), and
    a demand rebuilt with the same nodes keeps the generation and so its rows."""

    number: int
    demand: Demand
    targets: Positions | None  # demand nodes snapped, when by road


class _Cache:
    def __init__(self) -> None:
        self.generation: _Generation | None = None
        self.built_at = -math.inf
        self.rows: dict[tuple[float, float], np.ndarray] = {}  # position -> ETA row
        # unit -> (position with a row, monotonic time the unit was last seen there)
        self.seen: dict[int, tuple[tuple[float, float], float]] = {}
        # unit -> (position to search in the background, when it was seen there)
        self.pending: dict[int, tuple[tuple[float, float], float]] = {}
        self.refresher: threading.Thread | None = None


_cache = _Cache()
_numbers = itertools.count(1)
_lock = threading.Lock()  # guards _cache; never held over a query or a search
_building = threading.Lock()  # one demand build at a time


def refresh() -> None:
    """Forget the demand and the ETAs kept (tests; or after importing a history)."""
    with _lock:
        _cache.generation = None
        _cache.built_at = -math.inf
        _cache.rows, _cache.seen, _cache.pending = {}, {}, {}


def wait_for_background(timeout: float = 30.0) -> bool:
    """Wait until no demand build nor background search is running (tests, benches); False on
    timeout."""
    deadline = time.monotonic() + timeout
    if not _building.acquire(timeout=timeout):
        return False
    _building.release()
    while True:
        with _lock:
            thread = _cache.refresher
        if thread is None:
            return True
        thread.join(max(deadline - time.monotonic(), 0.0))
        if thread.is_alive():
            return False


def _generation(router: Router | None, *, wait: bool) -> _Generation | None:
    """The current generation. Its demand is built again every COVERAGE_REFRESH_SECONDS by a
    background thread, the previous one serving meanwhile; when there is none for this road
    network, the caller builds it, or, with `wait` False, gets None if another thread is
    building it already."""
    network_id = router.network_id if router is not None else None
    with _lock:
        g = _cache.generation
        usable = g is not None and g.demand.network_id == network_id
        if usable and time.monotonic() - _cache.built_at < settings.COVERAGE_REFRESH_SECONDS:
            return g
    if usable:
        if _building.acquire(blocking=False):
            threading.Thread(target=_rebuild, args=(router,), name="coverage-demand", daemon=True).start()
        return g
    if not _building.acquire(blocking=wait):
        return None
    try:
        with _lock:
            g = _cache.generation
            if g is not None and g.demand.network_id == network_id:
                return g  # built by another thread meanwhile
        return _build(router)
    finally:
        _building.release()


def warm_demand() -> None:
    """Build the demand before the first recommendation that weighs coverage needs it: a node's
    start (dispatch/asgi.py, in the thread that builds the router). Otherwise the first priority
    II or III call after a restart or failover builds it inside its recommendation (the incidents'
    query, the grid, the nodes snapped), whose whole budget is 50 ms. A failure is only logged:
    the first use builds it then."""
    try:
        _generation(get_router(), wait=True)
    except Exception:  # noqa: BLE001  (the database may not be up yet: built on first use)
        logger.warning("coverage demand not built ahead of the first request", exc_info=True)
    finally:
        connections.close_all()  # this thread's own connection


def _build(router: Router | None) -> _Generation:
    d = build_demand(router)
    targets = router.snap_many(d.lon, d.lat) if router is not None and len(d) else None
    with _lock:
        return _install(d, targets)


def _rebuild(router: Router | None) -> None:
    """The periodic rebuild, in a thread of its own (it holds _building, taken for it)."""
    try:
        _build(router)
    except Exception:  # a background thread must say why it stopped; the old demand serves on
        logger.exception("coverage: rebuilding the demand failed")
    finally:
        _building.release()
        connections.close_all()  # this thread's own connection


def _install(d: Demand, targets: Positions | None) -> _Generation:
    """Make this demand current (call with _lock held): the rows stay when the nodes did."""
    old = _cache.generation
    same_nodes = (
        old is not None
        and old.demand.network_id == d.network_id
        and np.array_equal(old.demand.lon, d.lon)
        and np.array_equal(old.demand.lat, d.lat)
    )
    if same_nodes and old is not None:
        g = _Generation(old.number, d, targets)
    else:
        g = _Generation(next(_numbers), d, targets)
        _cache.rows, _cache.seen, _cache.pending = {}, {}, {}
    _cache.generation, _cache.built_at = g, time.monotonic()
    return g


def demand() -> Demand:
    """The city's demand nodes (cached per process; module docstring)."""
    g = _generation(get_router(), wait=True)
    assert g is not None  # waited for it
    return g.demand


# --------------------------------------------------------------------------------------------
# demand


def _project(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    k = math.pi / 180 * EARTH_RADIUS_M
    return (lon - lon0) * k * math.cos(math.radians(lat0)), (lat - lat0) * k


def _unproject(x: np.ndarray, y: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    k = math.pi / 180 * EARTH_RADIUS_M
    return x / (k * math.cos(math.radians(lat0))) + lon0, y / k + lat0


def recent_incident_points() -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of the located incidents of the last COVERAGE_DEMAND_DAYS."""
    since = timezone.now() - timedelta(days=settings.COVERAGE_DEMAND_DAYS)
    rows = list(
        Incident.objects.filter(created_at__gte=since, location__isnull=False)
        .order_by()
        .annotate(x=_Lonlat("location", function="ST_X"), y=_Lonlat("location", function="ST_Y"))
        .values_list("x", "y")
    )
    points = np.array(rows, np.float64).reshape(-1, 2)
    return points[:, 0], points[:, 1]


def build_demand(router: Router | None) -> Demand:
    """Demand nodes from the recent incidents and the road network's vertices (module
    docstring)."""
    inc_lon, inc_lat = recent_incident_points()
    v_lon = router.lon if router is not None else np.empty(0)
    v_lat = router.lat if router is not None else np.empty(0)
    network_id = router.network_id if router is not None else None
    lon, lat = np.concatenate([v_lon, inc_lon]), np.concatenate([v_lat, inc_lat])
    if len(lon) == 0:
        return Demand(
            np.empty(0), np.empty(0), np.empty(0), [], by_road=router is not None, network_id=network_id
        )
    lon0, lat0 = float(np.mean(lon)), float(np.mean(lat))
    x, y = _project(lon, lat, lon0, lat0)
    cells, inverse = np.unique(
        np.column_stack([np.floor(x / CELL_M), np.floor(y / CELL_M)]).astype(np.int64),
        axis=0,
        return_inverse=True,
    )
    inverse = inverse.reshape(-1)
    nv, n_cells = len(v_lon), len(cells)
    v_cell, i_cell = inverse[:nv], inverse[nv:]
    v_count = np.bincount(v_cell, minlength=n_cells).astype(np.float64)
    i_count = np.bincount(i_cell, minlength=n_cells).astype(np.float64)
    keep = (i_count > 0) | (v_count >= MIN_CELL_VERTICES)
    # node: the vertex nearest the centre of the cell's vertices; else the incidents' centre
    node_x = np.zeros(n_cells)
    node_y = np.zeros(n_cells)
    has_v = v_count > 0
    if nv:
        cx = np.bincount(v_cell, x[:nv], n_cells)[has_v] / v_count[has_v]
        cy = np.bincount(v_cell, y[:nv], n_cells)[has_v] / v_count[has_v]
        centre_x, centre_y = np.zeros(n_cells), np.zeros(n_cells)
        centre_x[has_v], centre_y[has_v] = cx, cy
        off = (x[:nv] - centre_x[v_cell]) ** 2 + (y[:nv] - centre_y[v_cell]) ** 2
        order = np.lexsort((off, v_cell))
        first = order[np.r_[True, v_cell[order][1:] != v_cell[order][:-1]]]
        node_x[v_cell[first]], node_y[v_cell[first]] = x[first], y[first]
    only_inc = ~has_v & (i_count > 0)
    if only_inc.any():
        ix = np.bincount(i_cell, x[nv:], n_cells)
        iy = np.bincount(i_cell, y[nv:], n_cells)
        node_x[only_inc] = ix[only_inc] / i_count[only_inc]
        node_y[only_inc] = iy[only_inc] / i_count[only_inc]
    weight = demand_weights(i_count[keep], v_count[keep], settings.COVERAGE_DEMAND_FLOOR)
    node_lon, node_lat = _unproject(node_x[keep], node_y[keep], lon0, lat0)
    west, south = _unproject(cells[keep, 0] * CELL_M, cells[keep, 1] * CELL_M, lon0, lat0)
    east, north = _unproject((cells[keep, 0] + 1) * CELL_M, (cells[keep, 1] + 1) * CELL_M, lon0, lat0)
    return Demand(
        lon=node_lon,
        lat=node_lat,
        weight=weight,
        district=districts_of(node_lon, node_lat),
        bounds=np.column_stack([west, south, east, north]),
        by_road=router is not None,
        network_id=network_id,
        incidents=len(inc_lon),
        cell_m=CELL_M,
    )


def demand_weights(incidents: np.ndarray, vertices: np.ndarray, floor: float) -> np.ndarray:
    """Each cell's share of the calls: its share of the incidents, with `floor` of the whole
    spread by road vertex density instead (all of it by vertices when there is no history, all
    by incidents when there is no road network)."""
    inc, ver = incidents.sum(), vertices.sum()
    if inc > 0 and ver > 0:
        return (1.0 - floor) * incidents / inc + floor * vertices / ver
    if inc > 0:
        return incidents / inc
    if ver > 0:
        return vertices / ver
    return np.zeros(len(incidents))


def districts_of(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """The name of the district each point lies in ("" when none). Only the points within a
    district's bounding box are tested against its outline, each point made once: a GEOS point
    per node and district cost most of the demand's build (tens of ms a request)."""
    names = [""] * len(lon)
    points: dict[int, Point] = {}
    for district in District.objects.all():
        outline = district.polygon.prepared
        west, south, east, north = district.polygon.extent
        unnamed = np.array([not n for n in names], bool)
        inside = unnamed & (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        for j in np.flatnonzero(inside).tolist():
            point = points.setdefault(j, Point(float(lon[j]), float(lat[j]), srid=4326))
            if outline.contains(point):
                names[j] = district.name
    return names


# --------------------------------------------------------------------------------------------
# travel times


def _key(lon: float, lat: float) -> tuple[float, float]:
    return (round(float(lon), 6), round(float(lat), 6))


def _search(router: Router | None, d: Demand, nodes: Positions | None, points: np.ndarray) -> np.ndarray:
    """ETA (s) from each point to each demand node: one router search per point, or a straight
    line (module docstring)."""
    n = len(d)
    if len(points) == 0 or n == 0:
        return np.empty((len(points), n))
    if router is None or nodes is None:
        k = len(points)
        metres = haversine_m(
            np.repeat(points[:, 0], n), np.repeat(points[:, 1], n), np.tile(d.lon, k), np.tile(d.lat, k)
        )
        return np.asarray(metres.reshape(k, n) / STRAIGHT_LINE_MPS)
    snapped = router.snap_many(points[:, 0], points[:, 1])
    out = np.empty((len(points), n))
    for i in range(len(points)):
        s = slice(i, i + 1)
        p = snapped
        out[i] = router.travel_times_between(
            nodes, Positions(p.edge[s], p.t[s], p.lon[s], p.lat[s], p.distance_m[s])
        ).seconds
    return out


def _search_keys(router: Router | None, g: _Generation, keys: Iterable[tuple[float, float]]) -> dict:
    """Search these positions and keep their rows (unless the generation changed meanwhile)."""
    todo = sorted(set(keys))
    if not todo:
        return {}
    found = dict(zip(todo, _search(router, g.demand, g.targets, np.array(todo, np.float64)), strict=True))
    with _lock:
        if _cache.generation is not None and _cache.generation.number == g.number:
            _keep_rows(found)
    return found


def _keep_rows(found: dict) -> None:
    """Add rows to the cache (call with _lock held). Past MAX_CACHED_ROWS only the rows of the
    units' last positions and of the positions waiting for a search stay."""
    if len(_cache.rows) + len(found) > MAX_CACHED_ROWS:
        wanted = {key for key, _at in _cache.seen.values()} | {key for key, _at in _cache.pending.values()}
        _cache.rows = {k: row for k, row in _cache.rows.items() if k in wanted}
    _cache.rows.update(found)


def etas_from(points: Iterable[tuple[float, float]]) -> np.ndarray:
    """Seconds from each (lon, lat) point to each demand node: len(points) x nodes, inf where
    the node cannot be reached. By road through the router; by straight line at
    STRAIGHT_LINE_MPS when no road network is loaded (`demand().by_road` is False then).
    Exact: every position without a row is searched now."""
    pts = np.asarray(list(points), np.float64).reshape(-1, 2)
    router = get_router()
    g = _generation(router, wait=True)
    assert g is not None  # waited for it
    keys = [_key(lon, lat) for lon, lat in pts]
    with _lock:
        rows = {k: _cache.rows[k] for k in keys if k in _cache.rows} if _current_number() == g.number else {}
    rows.update(_search_keys(router, g, (k for k in keys if k not in rows)))
    if not keys:
        return np.empty((0, len(g.demand)))
    return np.vstack([rows[k] for k in keys])


def _current_number() -> int | None:
    return _cache.generation.number if _cache.generation is not None else None


def unit_etas(units: Sequence[tuple[int, float, float]], *, wait: bool) -> tuple[Demand, np.ndarray] | None:
    """Each unit's (id, lon, lat) seconds to each demand node, len(units) x nodes, with the
    demand they are for. A unit's row is for its position now, or, when more than
    SYNC_SEARCHES units moved, for a position it held at most STALE_ROWS_S ago while the
    background search brings it up to date (module docstring). The units with neither are
    searched now when `wait`; without `wait`, more than SYNC_SEARCHES of them give None."""
    router = get_router()
    g = _generation(router, wait=wait)
    if g is None:
        return None
    keys = [_key(lon, lat) for _uid, lon, lat in units]
    now = time.monotonic()
    with _lock:
        chosen, missing = _rows_for(router, g, [uid for uid, _lon, _lat in units], keys, now)
    if len(missing) > SYNC_SEARCHES and not wait:
        return None
    found = _search_keys(router, g, (keys[i] for i in missing))
    with _lock:
        for i in missing:
            chosen[i] = found[keys[i]]
            _cache.pending.pop(units[i][0], None)
            if _current_number() == g.number:
                _cache.seen[units[i][0]] = (keys[i], now)
    if not units:
        return g.demand, np.empty((0, len(g.demand)))
    return g.demand, np.vstack(chosen)


def _rows_for(
    router: Router | None, g: _Generation, ids: list[int], keys: list[tuple[float, float]], now: float
) -> tuple[list, list[int]]:
    """The rows to use now and the indices of the units without one (call with _lock held)."""
    rows = _cache.rows if _current_number() == g.number else {}
    chosen: list = [rows.get(k) for k in keys]
    moved = [i for i, row in enumerate(chosen) if row is None]
    for i, row in enumerate(chosen):
        if row is not None:
            _cache.seen[ids[i]] = (keys[i], now)
    if len(moved) <= SYNC_SEARCHES:
        return chosen, moved
    for i in moved:
        _cache.pending[ids[i]] = (keys[i], now)
        last = _cache.seen.get(ids[i])
        if last is not None and now - last[1] <= STALE_ROWS_S:
            chosen[i] = rows.get(last[0])
    _start_background(router, g)
    return chosen, [i for i in moved if chosen[i] is None]


def _start_background(router: Router | None, g: _Generation) -> None:
    """Start the one background search unless it runs already (call with _lock held)."""
    if _cache.refresher is not None:
        return
    thread = threading.Thread(target=_background, args=(router, g), name="coverage-etas", daemon=True)
    _cache.refresher = thread
    thread.start()


def _background(router: Router | None, g: _Generation) -> None:
    """Search the positions waiting for it until none is left or the generation changed. No
    database here: the thread that started this one gave it the router."""
    try:
        while (batch := _next_batch(g)) is not None:
            found = _search_keys(router, g, {key for key, _at in batch.values() if key not in _cache.rows})
            with _lock:
                for uid, (key, at) in batch.items():
                    last = _cache.seen.get(uid)
                    if (key in found or key in _cache.rows) and (last is None or last[1] <= at):
                        _cache.seen[uid] = (key, at)
    except Exception:  # a background thread must say why it stopped
        logger.exception("coverage: the background ETA search failed")
        with _lock:
            if _cache.refresher is threading.current_thread():
                _cache.refresher = None


def _next_batch(g: _Generation) -> dict[int, tuple[tuple[float, float], float]] | None:
    """The positions waiting, taken; None (and the thread no longer counted as running) when
    there are none or the generation changed."""
    with _lock:
        if _current_number() == g.number and _cache.pending:
            batch, _cache.pending = _cache.pending, {}
            return batch
        if _cache.refresher is threading.current_thread():
            _cache.refresher = None
        return None


# --------------------------------------------------------------------------------------------
# units and the snapshot


def covering_units() -> list[Unit]:
    """Units that count as covering now: free to take a job, located, and staffed as the
    recommendation requires (a crew on shift unless REQUIRE_CREW_ON_SHIFT is off)."""
    units = Unit.objects.available().filter(position__isnull=False).order_by("pk")
    if settings.REQUIRE_CREW_ON_SHIFT:
        units = units.filter(Exists(CrewShift.objects.current().filter(unit=OuterRef("pk"))))
    return list(units)


def snapshot(exclude_unit_ids: Iterable[int] = ()) -> Snapshot:
    """Coverage now by the covering units, less `exclude_unit_ids` (what if they left)."""
    excluded = set(exclude_unit_ids)
    units = [u for u in covering_units() if u.pk not in excluded]
    return snapshot_of(units)


def snapshot_of(units: Sequence[Unit]) -> Snapshot:
    """Coverage by these units (located ones; their current positions)."""
    located = [(u.pk, u.position.x, u.position.y) for u in units if u.position is not None]
    snap = snapshot_at(located, wait=True)
    assert snap is not None  # waited for it
    return snap


def snapshot_at(units: Sequence[tuple[int, float, float]], *, wait: bool = True) -> Snapshot | None:
    """Coverage by these units, each (id, lon, lat), their rows as unit_etas gives them: None
    when `wait` is False and they are not known yet (a background search is on it)."""
    got = unit_etas(units, wait=wait)
    if got is None:
        return None
    d, etas = got
    target = float(settings.COVERAGE_TARGET_S)
    busy = float(settings.COVERAGE_BUSY_FRACTION)
    cover = policy.covers(etas, target).reshape(len(units), len(d))
    counts = policy.coverage_counts(cover) if len(units) else np.zeros(len(d), np.int64)
    uncovered = counts == 0
    total = float(d.weight.sum())
    return Snapshot(
        demand=d,
        unit_ids=tuple(uid for uid, _lon, _lat in units),
        cover=cover,
        counts=counts,
        expected_uncovered=policy.expected_uncovered(counts, d.weight, busy),
        uncovered_share=float(d.weight[uncovered].sum() / total) if total > 0 else 0.0,
        busy=busy,
        target_s=target,
        by_road=d.by_road,
        districts=district_shares(d, uncovered),
    )


def district_shares(d: Demand, uncovered: np.ndarray) -> dict[str, float]:
    """Each named district's share of its demand left uncovered."""
    total: dict[str, float] = {}
    left: dict[str, float] = {}
    for name, w, u in zip(d.district, d.weight.tolist(), uncovered.tolist(), strict=True):
        if name:
            total[name] = total.get(name, 0.0) + w
            left[name] = left.get(name, 0.0) + (w if u else 0.0)
    return {name: (left[name] / t if t > 0 else 0.0) for name, t in sorted(total.items())}
