"""The study's city from a road network and our router: demand, stations, units, standby points,
hospitals and the travel-time matrices (docs/coverage-study.md, "Method").

- Demand: a grid of CELL_M cells; a cell's weight is the number of vertices on local streets in
  it (residential, service, unclassified, tertiary: vertex density stands in for population, as
  in ops/bench/recommend); its demand node is the local-street vertex nearest the cell's centre
  of mass. Cells with fewer than MIN_CELL_VERTICES are dropped (empty land, sea).
- Travel: one router search per demand node over the reversed graph gives every node's time to
  it (one-to-many), so the node x node matrix costs one search per node.
- Stations: greedy maximal covering (Church and ReVelle 1974) over the demand nodes: each next
  station at the node that covers the most demand not yet covered within the coverage target;
  once no node adds any, greedy expected covering (MEXCLP, busy 0.5) for the rest.
- Units: POPULATION / PEOPLE_PER_UNIT (the national planning norm, docs/targets.md); one per
  station, the rest one at a time to the station where it removes the most expected uncovered
  demand (MEXCLP at the normal day's expected busy share), at most MAX_UNITS_PER_STATION.
- Standby points: the next STANDBY greedy MEXCLP picks (busy 0.5) after the stations.
- Hospitals: the data has none, so the HOSPITALS heaviest demand nodes at least
  HOSPITAL_SPACING_M apart (dense places are where the big hospitals are).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from study_sim import City, coverage_target_s, mean_turnout_s

from dispatch.coverage.policy import covers, point_gains

CELL_M = 1000.0
MIN_CELL_VERTICES = 3
LOCAL_STREET_KMH = 57.0  # road class from metres/seconds: tertiary (56 km/h) and slower
POPULATION = 2_873_358  # Haikou, 2020 census
PEOPLE_PER_UNIT = 30_000
# Beijing 2022: 920,000 dispatches a year for 21.84 million people (docs/targets.md)
INCIDENTS_PER_PERSON_DAY = 920_000 / 365 / 21_840_000
STATIONS = 40
MAX_UNITS_PER_STATION = 3
STANDBY = 15
HOSPITALS = 12
HOSPITAL_SPACING_M = 3000.0
MEAN_JOB_H = 1.1  # dispatch to free again, estimated: turnout, drive, scene, transport, handover
EARTH_RADIUS_M = 6_371_008.8


def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0 = float(np.mean(lat))
    k = math.pi / 180 * EARTH_RADIUS_M
    return (lon - float(np.mean(lon))) * k * math.cos(math.radians(lat0)), (lat - lat0) * k


def demand(data, cell_m: float = CELL_M) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Demand nodes (vertex ids) and their weights (summing to 1)."""
    kmh = data.length_m / np.maximum(data.time_s, 1e-9) * 3.6
    local = np.zeros(data.vertex_count, bool)
    slow = kmh <= LOCAL_STREET_KMH
    local[data.src[slow]] = True
    local[data.dst[slow]] = True
    x, y = project(np.asarray(data.lon), np.asarray(data.lat))
    v = np.flatnonzero(local)
    cx = np.floor(x[v] / cell_m).astype(np.int64)
    cy = np.floor(y[v] / cell_m).astype(np.int64)
    cell = (cx - cx.min()) * 100_000 + (cy - cy.min())
    order = np.argsort(cell, kind="stable")
    v, cell = v[order], cell[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    ends = np.r_[starts[1:], len(v)]
    nodes, weights = [], []
    for a, b in zip(starts, ends, strict=True):
        if b - a < MIN_CELL_VERTICES:
            continue
        members = v[a:b]
        mx, my = x[members].mean(), y[members].mean()
        nodes.append(int(members[np.argmin((x[members] - mx) ** 2 + (y[members] - my) ** 2)]))
        weights.append(float(b - a))
    w = np.array(weights)
    return np.array(nodes, np.int64), w / w.sum()


def node_matrix(router, data, nodes: np.ndarray, log=None) -> np.ndarray:  # noqa: ANN001
    """times[i, j]: road seconds from demand node i to demand node j, one search per column."""
    lon = np.asarray(data.lon, np.float64)[nodes]
    lat = np.asarray(data.lat, np.float64)[nodes]
    origins = router.snap_many(lon, lat)
    times = np.empty((len(nodes), len(nodes)))
    for j in range(len(nodes)):
        target = router.snap_many(lon[j : j + 1], lat[j : j + 1])
        times[:, j] = router.travel_times_between(origins, target).seconds
        if log and (j + 1) % 500 == 0:
            log(f"  travel times to {j + 1}/{len(nodes)} demand nodes")
    np.fill_diagonal(times, 0.0)
    return times


def greedy_sites(
    cover: np.ndarray, weights: np.ndarray, count: int, taken: list[int], units: dict[int, int]
) -> list[int]:
    """Greedy maximal covering, then expected covering (busy 0.5) once no site adds coverage.
    `taken` sites are kept and not picked again; `units` counts each taken site's units."""
    picks: list[int] = []
    chosen = list(taken)
    for _ in range(count):
        rows = np.repeat(np.array(chosen, np.int64), [units.get(s, 1) for s in chosen])
        k = cover[rows].sum(axis=0) if len(rows) else np.zeros(cover.shape[1], np.int64)
        gain = cover.astype(np.float64) @ (weights * (k == 0))
        if gain.max() <= 0:
            gain = point_gains(cover[rows], cover, weights, 0.5)
        gain[chosen] = -np.inf
        site = int(np.argmax(gain))
        picks.append(site)
        chosen.append(site)
    return picks


def build(data, router, name: str, population: float = POPULATION, cell_m: float = CELL_M, log=None) -> City:  # noqa: ANN001
    nodes, weights = demand(data, cell_m)
    if log:
        log(f"{name}: {len(nodes):,} demand nodes ({cell_m:.0f} m cells) from {data.vertex_count:,} vertices")
    times = node_matrix(router, data, nodes, log)
    cover = covers(times + mean_turnout_s(), coverage_target_s())
    stations = greedy_sites(cover, weights, STATIONS, [], {})
    n_units = max(len(stations), round(population / PEOPLE_PER_UNIT))
    calls_per_hour = population * INCIDENTS_PER_PERSON_DAY / 24
    busy = min(calls_per_hour * MEAN_JOB_H / n_units, 0.9)
    count = dict.fromkeys(stations, 1)
    for _ in range(n_units - len(stations)):
        rows = np.repeat(np.array(stations), [count[s] for s in stations])
        gain = point_gains(cover[rows], cover[stations], weights, busy)
        gain[[count[s] >= MAX_UNITS_PER_STATION for s in stations]] = -np.inf
        count[stations[int(np.argmax(gain))]] += 1
    standby = greedy_sites(cover, weights, STANDBY, stations, count)
    x, y = project(np.asarray(data.lon)[nodes], np.asarray(data.lat)[nodes])
    hospitals: list[int] = []
    for i in np.argsort(-weights, kind="stable"):
        if all(math.hypot(x[i] - x[h], y[i] - y[h]) >= HOSPITAL_SPACING_M for h in hospitals):
            hospitals.append(int(i))
        if len(hospitals) == HOSPITALS:
            break
    point_node = np.array(stations + standby + hospitals, np.int64)
    ns, nb = len(stations), len(standby)
    unit_home = np.repeat(np.arange(ns), [count[s] for s in stations])
    covered = float(weights[cover[stations].any(axis=0)].sum())
    if log:
        log(
            f"{name}: {n_units} units at {ns} stations ({covered:.1%} of demand within "
            f"{coverage_target_s() - mean_turnout_s():.0f} s of a station), {nb} standby points, "
            f"{len(hospitals)} hospitals, {calls_per_hour:.1f} calls an hour on a normal day"
        )
    return City(
        name=name,
        weights=weights,
        to_nodes=np.ascontiguousarray(times[point_node]),
        to_points=np.ascontiguousarray(times[:, point_node]),
        point_node=point_node,
        stations=np.arange(ns),
        standby=np.arange(ns, ns + nb),
        hospitals=np.arange(ns + nb, ns + nb + len(hospitals)),
        unit_home=unit_home,
        calls_per_hour=calls_per_hour,
    )


def load(roads: Path, city: str, cache: Path | None, log=None, cell_m: float = CELL_M):  # noqa: ANN001, ANN201
    """Read the city's files and build the router (its hierarchy cached like ops/bench/router)."""
    from fleet.roads.readers import read_city_files
    from fleet.roads.router import Router

    data = read_city_files(roads, city, progress=None)
    router = Router.from_data(data, hierarchy="sync", cache_path=cache)
    return build(data, router, city, cell_m=cell_m, log=log)
