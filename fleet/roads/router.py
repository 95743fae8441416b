"""The road router resident in the app process (decision 6, docs/decisions/).

Recommendation ranks units by road travel time to the incident, so one query must give every
unit's ETA fast. The graph lives in memory, built once per process from the active
RoadNetwork, and one search from the incident over the reversed graph gives all units' times.

Why it is fast (Nanjing, 500 units: about 3 ms where scipy's full Dijkstra takes 55), and
still exact:

* Chains. Most vertices of an OSM-segment graph have undirected degree 2 (80% on Nanjing).
  The graph is cut into chains, maximal paths whose inner vertices have degree 2, between
  "core" vertices. A chain passable end to end in a direction becomes one core arc that way;
  positions inside chains join their chain's two ends through prefix sums of arc times. A
  shortest path entering a chain either meets its target inside it or leaves by an end
  (turning round inside a chain never helps), so searching the core graph (Nanjing: 29k
  vertices, 86k arcs) is exact.
* Contraction hierarchy + PHAST. The core graph is contracted once (seconds; cached in a file;
  built in a background thread inside the app), then each query is a small search down into
  the incident plus one linear sweep over all core vertices (PHAST, Delling et al. 2011).
  Until the hierarchy exists, queries run an exact Dijkstra on the core graph instead, stopped
  as soon as every unit's chain ends are settled.
* The kernels are compiled by numba with nogil, so request threads search in parallel; they
  carry the metres of the fastest path beside its time.

Positions (units, incidents) are snapped to the nearest road segment (a grid index, exact for
long segments too). A point on a two-way street can be left or reached in either direction
(an ambulance may turn round); on a one-way street only along its direction. A position at
the very end of a segment is that vertex.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from fleet.roads.data import RoadData

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
DEG = math.pi / 180.0
GRID_CELL_M = 150.0  # snapping grid cell
ROUTER_CHECK_SECONDS = 5.0  # default; settings.ROAD_ROUTER_CHECK_SECONDS overrides
HIERARCHY_FORMAT = 1  # bump when the contraction or its parameters change (invalidates caches)
CH_SIM_LIMIT = 20  # vertices a witness search settles when estimating a vertex's priority
CH_LIMIT = 100  # ... when contracting (a missed witness only adds a harmless shortcut)


@dataclass(frozen=True)
class Snap:
    """A point snapped to the road: `fraction` of the way along `arc` (src -> dst)."""

    arc: int
    fraction: float
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True)
class TravelTimes:
    """Per origin: fastest road time to the target and the road metres of that path (inf when
    the target cannot be reached)."""

    seconds: np.ndarray
    metres: np.ndarray


@dataclass(frozen=True)
class Route:
    seconds: float
    metres: float
    coordinates: list[tuple[float, float]]  # (lon, lat), from the snapped start to the snapped end


@dataclass(frozen=True)
class Positions:
    """Snapped points, vectorised: edge (undirected segment) and t along it from lo to hi."""

    edge: np.ndarray  # int64
    t: np.ndarray  # float64 in [0, 1]
    lon: np.ndarray
    lat: np.ndarray
    distance_m: np.ndarray


# --------------------------------------------------------------------------------------------
# numba kernels


@njit(cache=True, nogil=True)
def _heap_push(hk: np.ndarray, hv: np.ndarray, size: int, key: float, val: int) -> int:
    """Push onto a 4-ary min-heap held in (hk, hv); returns the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if hk[parent] <= key:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(hk: np.ndarray, hv: np.ndarray, size: int) -> int:
    """Remove the root of a 4-ary min-heap of `size` entries; returns the new size."""
    size -= 1
    if size == 0:
        return 0
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best = first
        best_key = hk[first]
        for c in range(first + 1, min(first + 4, size)):
            if hk[c] < best_key:
                best_key = hk[c]
                best = c
        if best_key >= key:
            break
        hk[i] = best_key
        hv[i] = hv[best]
        i = best
    hk[i] = key
    hv[i] = val
    return size


@njit(cache=True, nogil=True)
def _dijkstra(
    indptr: np.ndarray,
    head: np.ndarray,
    w_t: np.ndarray,
    w_m: np.ndarray,
    seed_v: np.ndarray,
    seed_t: np.ndarray,
    seed_m: np.ndarray,
    targets: np.ndarray,
    want_pred: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-source Dijkstra on a CSR graph (4-ary heap with lazy deletion: fewer moves than
    decrease-key on road graphs).

    Returns time, metres (of the fastest path) and the CSR slot of each vertex's last arc (-1
    for seeds; only filled when want_pred). Stops once every vertex in `targets` is settled
    (a full search when targets is empty).
    """
    n = indptr.shape[0] - 1
    dist_t = np.full(n, np.inf)
    dist_m = np.full(n, np.inf)
    pred = np.full(n if want_pred else 0, -1, np.int64)
    state = np.zeros(n, np.uint8)  # bit 1: settled, bit 2: target
    remaining = 0
    for k in range(targets.shape[0]):
        if state[targets[k]] == 0:
            state[targets[k]] = 2
            remaining += 1
    stop_early = remaining > 0
    hk = np.empty(head.shape[0] + seed_v.shape[0] + 1, np.float64)
    hv = np.empty(head.shape[0] + seed_v.shape[0] + 1, np.int32)
    size = 0
    for k in range(seed_v.shape[0]):
        v = seed_v[k]
        if seed_t[k] < dist_t[v]:
            dist_t[v] = seed_t[k]
            dist_m[v] = seed_m[k]
            size = _heap_push(hk, hv, size, seed_t[k], v)
    while size > 0:
        d = hk[0]
        v = hv[0]
        size = _heap_pop(hk, hv, size)
        if state[v] & 1:
            continue
        if d > dist_t[v]:
            continue
        state[v] |= 1
        if stop_early and state[v] & 2:
            remaining -= 1
            if remaining == 0:
                break
        mv = dist_m[v]
        for j in range(indptr[v], indptr[v + 1]):
            u = head[j]
            nd = d + w_t[j]
            if nd < dist_t[u]:
                dist_t[u] = nd
                dist_m[u] = mv + w_m[j]
                if want_pred:
                    pred[u] = j
                size = _heap_push(hk, hv, size, nd, u)
    return dist_t, dist_m, pred


@njit(cache=True, nogil=True)
def _build_chains(
    n: int, e_lo: np.ndarray, e_hi: np.ndarray, v_ptr: np.ndarray, v_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the undirected edge set into chains between core vertices (degree other than 2).

    Returns is_core per vertex; per chain its first edge slot (chain_ptr, C + 1 entries), start
    and end vertex; the edges in chain order (order); and per edge its chain and whether the
    chain runs lo -> hi along it (forward). A ring of degree-2 vertices gets one core vertex.
    """
    n_edges = e_lo.shape[0]
    is_core = np.empty(n, np.bool_)
    for v in range(n):
        is_core[v] = (v_ptr[v + 1] - v_ptr[v]) != 2
    visited = np.zeros(n_edges, np.bool_)
    order = np.empty(n_edges, np.int64)
    chain_of = np.empty(n_edges, np.int64)
    forward = np.empty(n_edges, np.bool_)
    chain_ptr = np.empty(n_edges + 1, np.int64)
    chain_start = np.empty(n_edges, np.int64)
    chain_end = np.empty(n_edges, np.int64)
    count = 0
    chains = 0
    for sweep in range(2):
        for v in range(n):
            if sweep == 0 and not is_core[v]:
                continue
            if sweep == 1:
                if is_core[v]:
                    continue
                fresh = False
                for k in range(v_ptr[v], v_ptr[v + 1]):
                    if not visited[v_edges[k]]:
                        fresh = True
                if not fresh:
                    continue
                is_core[v] = True  # a ring with no core vertex: cut it here
            for k in range(v_ptr[v], v_ptr[v + 1]):
                e = v_edges[k]
                if visited[e]:
                    continue
                chain_ptr[chains] = count
                chain_start[chains] = v
                cur = v
                while True:
                    visited[e] = True
                    order[count] = e
                    chain_of[e] = chains
                    forward[e] = e_lo[e] == cur
                    count += 1
                    nxt = e_hi[e] if e_lo[e] == cur else e_lo[e]
                    if is_core[nxt]:
                        break
                    a = v_edges[v_ptr[nxt]]
                    e = v_edges[v_ptr[nxt] + 1] if a == e else a
                    cur = nxt
                chain_end[chains] = nxt
                chains += 1
    chain_ptr[chains] = count
    return (
        is_core,
        chain_ptr[: chains + 1].copy(),
        chain_start[:chains].copy(),
        chain_end[:chains].copy(),
        order,
        chain_of,
        forward,
    )


@njit(cache=True, nogil=True)
def _snap_points(
    qx: np.ndarray,
    qy: np.ndarray,
    scale: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    cell_ptr: np.ndarray,
    cell_edges: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest segment to each point by rings of grid cells around it.

    Distances are measured in a frame local to the point (the east-west axis scaled by
    `scale`), so they are metres on the ground. After ring r every segment not yet seen lies
    at least r cells away, which bounds the search.
    """
    n = qx.shape[0]
    best_e = np.zeros(n, np.int64)
    best_t = np.zeros(n)
    best_d = np.full(n, np.inf)
    for i in range(n):
        px = qx[i]
        py = qy[i]
        s = scale[i]
        cx = int(math.floor((px - x0) / cell))
        cy = int(math.floor((py - y0) / cell))
        ring_gap = cell * min(s, 1.0)
        r_max = max(abs(cx), abs(cx - nx + 1), abs(cy), abs(cy - ny + 1))
        for r in range(r_max + 1):
            for yy in range(max(cy - r, 0), min(cy + r, ny - 1) + 1):
                edge_row = yy == cy - r or yy == cy + r
                xx = max(cx - r, 0) if edge_row else cx - r
                x_last = min(cx + r, nx - 1) if edge_row else cx + r
                step = 1 if edge_row else max(2 * r, 1)
                while xx <= x_last:
                    if 0 <= xx < nx:
                        c = yy * nx + xx
                        for k in range(cell_ptr[c], cell_ptr[c + 1]):
                            e = cell_edges[k]
                            ux = (ax[e] - px) * s
                            uy = ay[e] - py
                            dx = (bx[e] - ax[e]) * s
                            dy = by[e] - ay[e]
                            len2 = dx * dx + dy * dy
                            t = 0.0
                            if len2 > 0:
                                t = min(max(-(ux * dx + uy * dy) / len2, 0.0), 1.0)
                            d = math.hypot(ux + t * dx, uy + t * dy)
                            if d < best_d[i] or (d == best_d[i] and e < best_e[i]):
                                best_d[i] = d
                                best_e[i] = e
                                best_t[i] = t
                    xx += step
            if best_d[i] <= r * ring_gap:
                break
    return best_e, best_t, best_d


@njit(cache=True, nogil=True)
def _chain_cumsum(values: np.ndarray, chain_ptr: np.ndarray) -> np.ndarray:
    """Running sums restarted at each chain, each chain's row led by a zero (summing within
    the chain only keeps the rounding error to the chain's own length)."""
    chains = chain_ptr.shape[0] - 1
    out = np.empty(values.shape[0] + chains)
    for c in range(chains):
        row = chain_ptr[c] + c
        total = 0.0
        out[row] = 0.0
        for j in range(chain_ptr[c], chain_ptr[c + 1]):
            total += values[j]
            row += 1
            out[row] = total
    return out


# --------------------------------------------------------------------------------------------
# positions on chains


# Chain tables, packed so that one position touches few cache lines:
#   edge_info (edges x 8): chain, position in chain (1-based), chain runs lo -> hi (1/0),
#       forward arc seconds, metres, backward arc seconds, metres, flags (1: forward arc
#       exists, 2: backward arc exists); "forward" is the chain's direction
#   prefix (edges + chains, 6): per chain with a leading zero row, running sums of forward
#       seconds, metres, missing arcs, then the same backward
#   chain_info (chains x 4): first prefix row, edge count, start and end as core ids
_F_TIME, _F_METRES, _F_MISSING, _B_TIME, _B_METRES, _B_MISSING = range(6)


@njit(cache=True, nogil=True)
def _place(e: int, t: float, chains: tuple) -> tuple:
    """Where position (edge e, t from lo to hi) sits on its chain: chain, 1-based edge i,
    phi along the chain's direction, prefix base, chain length k, and the edge's arcs each
    way as (exists, seconds, metres)."""
    info, _, chain_info = chains
    c = int(info[e, 0])
    phi = t if info[e, 2] != 0.0 else 1.0 - t
    flags = int(info[e, 7])
    return (
        c,
        int(info[e, 1]),
        phi,
        chain_info[c, 0],
        chain_info[c, 1],
        (flags & 1) != 0,
        info[e, 3],
        info[e, 4],
        (flags & 2) != 0,
        info[e, 5],
        info[e, 6],
    )


@njit(cache=True, nogil=True)
def _reach(e: int, t: float, chains: tuple) -> tuple:
    """Cost to reach a position from its chain's start (moving forward) and from its end
    (moving backward): (t_start, m_start, t_end, m_end), inf where the way is closed."""
    pre = chains[1]
    c, i, phi, base, k, has_f, tf, mf, has_b, tb, mb = _place(e, t, chains)
    ts = ms = te = me = np.inf
    if pre[base + i - 1, _F_MISSING] == 0.0 and (has_f or phi == 0.0):
        ts = pre[base + i - 1, _F_TIME] + phi * tf
        ms = pre[base + i - 1, _F_METRES] + phi * mf
    if pre[base + k, _B_MISSING] - pre[base + i, _B_MISSING] == 0.0 and (has_b or phi == 1.0):
        te = pre[base + k, _B_TIME] - pre[base + i, _B_TIME] + (1.0 - phi) * tb
        me = pre[base + k, _B_METRES] - pre[base + i, _B_METRES] + (1.0 - phi) * mb
    return ts, ms, te, me


@njit(cache=True, nogil=True)
def _leave(e: int, t: float, chains: tuple) -> tuple:
    """Cost from a position to its chain's start (moving backward) and end (moving forward):
    (t_start, m_start, t_end, m_end), inf where the way is closed."""
    pre = chains[1]
    c, i, phi, base, k, has_f, tf, mf, has_b, tb, mb = _place(e, t, chains)
    ts = ms = te = me = np.inf
    if pre[base + i - 1, _B_MISSING] == 0.0 and (has_b or phi == 0.0):
        ts = pre[base + i - 1, _B_TIME] + phi * tb
        ms = pre[base + i - 1, _B_METRES] + phi * mb
    if pre[base + k, _F_MISSING] - pre[base + i, _F_MISSING] == 0.0 and (has_f or phi == 1.0):
        te = pre[base + k, _F_TIME] - pre[base + i, _F_TIME] + (1.0 - phi) * tf
        me = pre[base + k, _F_METRES] - pre[base + i, _F_METRES] + (1.0 - phi) * mf
    return ts, ms, te, me


@njit(cache=True, nogil=True)
def _within(eq: int, tq: float, ep: int, tp: float, chains: tuple) -> tuple:
    """Cost from position q to position p without leaving their chain (inf when they are on
    different chains or the way along it is closed)."""
    pre = chains[1]
    cq, iq, fq, base, _, has_fq, tfq, mfq, has_bq, tbq, mbq = _place(eq, tq, chains)
    cp, ip, fp, _, _, has_fp, tfp, mfp, has_bp, tbp, mbp = _place(ep, tp, chains)
    if cq != cp:
        return np.inf, np.inf
    if iq < ip or (iq == ip and fq <= fp):  # forward along the chain
        if iq == ip:
            if has_fq or fq == fp:
                return (fp - fq) * tfq, (fp - fq) * mfq
            return np.inf, np.inf
        a, b = base + iq, base + ip - 1
        if pre[b, _F_MISSING] - pre[a, _F_MISSING] == 0.0 and (has_fq or fq == 1.0) and (has_fp or fp == 0.0):
            t = (1.0 - fq) * tfq + pre[b, _F_TIME] - pre[a, _F_TIME] + fp * tfp
            m = (1.0 - fq) * mfq + pre[b, _F_METRES] - pre[a, _F_METRES] + fp * mfp
            return t, m
        return np.inf, np.inf
    if iq == ip:  # backward along the chain (here fq > fp)
        if has_bq:
            return (fq - fp) * tbq, (fq - fp) * mbq
        return np.inf, np.inf
    a, b = base + ip, base + iq - 1
    if pre[b, _B_MISSING] - pre[a, _B_MISSING] == 0.0 and (has_bq or fq == 0.0) and (has_bp or fp == 1.0):
        t = fq * tbq + pre[b, _B_TIME] - pre[a, _B_TIME] + (1.0 - fp) * tbp
        m = fq * mbq + pre[b, _B_METRES] - pre[a, _B_METRES] + (1.0 - fp) * mbp
        return t, m
    return np.inf, np.inf


@njit(cache=True, nogil=True)
def _exits(edges: np.ndarray, ts: np.ndarray, chains: tuple, vertex_index: np.ndarray) -> tuple:
    """Per origin: the search-graph index of its chain's start and end, and the cost to
    leave through each (inf when closed)."""
    info, _, chain_info = chains
    n = edges.shape[0]
    out_t = np.empty((n, 2))
    out_m = np.empty((n, 2))
    at = np.empty((n, 2), np.int64)
    for k in range(n):
        c = int(info[edges[k], 0])
        out_t[k, 0], out_m[k, 0], out_t[k, 1], out_m[k, 1] = _leave(edges[k], ts[k], chains)
        at[k, 0] = vertex_index[chain_info[c, 2]]
        at[k, 1] = vertex_index[chain_info[c, 3]]
    return at, out_t, out_m


@njit(cache=True, nogil=True)
def _combine(
    edges: np.ndarray,
    ts: np.ndarray,
    target_edge: int,
    target_t: float,
    at: np.ndarray,
    out_t: np.ndarray,
    out_m: np.ndarray,
    dist_t: np.ndarray,
    dist_m: np.ndarray,
    chains: tuple,
) -> tuple:
    """Each origin's best of: leave by its chain's start, by its end, or stay on the chain."""
    n = edges.shape[0]
    seconds = np.full(n, np.inf)
    metres = np.full(n, np.inf)
    for k in range(n):
        direct_t, direct_m = _within(edges[k], ts[k], target_edge, target_t, chains)
        via_s = out_t[k, 0] + dist_t[at[k, 0]]
        via_e = out_t[k, 1] + dist_t[at[k, 1]]
        if direct_t <= via_s and direct_t <= via_e:
            seconds[k], metres[k] = direct_t, direct_m
        elif via_s <= via_e:
            seconds[k], metres[k] = via_s, out_m[k, 0] + dist_m[at[k, 0]]
        else:
            seconds[k], metres[k] = via_e, out_m[k, 1] + dist_m[at[k, 1]]
        if seconds[k] == np.inf:
            metres[k] = np.inf
    return seconds, metres


# --------------------------------------------------------------------------------------------
# contraction hierarchy of the core graph


@njit(cache=True, nogil=True)
def _ch_add(
    u: int,
    w: int,
    t: float,
    m: float,
    ne: int,
    et: np.ndarray,
    eh: np.ndarray,
    ewt: np.ndarray,
    ewm: np.ndarray,
    ofirst: np.ndarray,
    onext: np.ndarray,
    ifirst: np.ndarray,
    inext: np.ndarray,
) -> int:
    """Add arc u -> w, or lower the existing one; returns the new arc count (-1 if full)."""
    e = ofirst[u]
    while e != -1:
        if eh[e] == w:
            if t < ewt[e]:
                ewt[e] = t
                ewm[e] = m
            return ne
        e = onext[e]
    if ne == et.shape[0]:
        return -1
    et[ne] = u
    eh[ne] = w
    ewt[ne] = t
    ewm[ne] = m
    onext[ne] = ofirst[u]
    ofirst[u] = ne
    inext[ne] = ifirst[w]
    ifirst[w] = ne
    return ne + 1


@njit(cache=True, nogil=True)
def _witness(
    src: int,
    skip: int,
    bound: float,
    limit: int,
    ofirst: np.ndarray,
    onext: np.ndarray,
    eh: np.ndarray,
    ewt: np.ndarray,
    done: np.ndarray,
    dist: np.ndarray,
    touched: np.ndarray,
    hk: np.ndarray,
    hv: np.ndarray,
) -> int:
    """Bounded Dijkstra from src avoiding `skip` and contracted vertices; returns how many
    vertices it touched (their dist must be reset by the caller)."""
    nt = 1
    touched[0] = src
    dist[src] = 0.0
    size = _heap_push(hk, hv, 0, 0.0, src)
    settled = 0
    while size > 0:
        d = hk[0]
        v = hv[0]
        size = _heap_pop(hk, hv, size)
        if d > dist[v]:
            continue
        if d > bound or settled >= limit:
            break
        settled += 1
        e = ofirst[v]
        while e != -1:
            w = eh[e]
            if not done[w] and w != skip:
                nd = d + ewt[e]
                if nd < dist[w]:
                    if dist[w] == np.inf:
                        touched[nt] = w
                        nt += 1
                    dist[w] = nd
                    size = _heap_push(hk, hv, size, nd, w)
            e = onext[e]
    return nt


@njit(cache=True, nogil=True)
def _contract_one(
    v: int,
    add: bool,
    limit: int,
    ne: int,
    et: np.ndarray,
    eh: np.ndarray,
    ewt: np.ndarray,
    ewm: np.ndarray,
    ofirst: np.ndarray,
    onext: np.ndarray,
    ifirst: np.ndarray,
    inext: np.ndarray,
    done: np.ndarray,
    dist: np.ndarray,
    touched: np.ndarray,
    hk: np.ndarray,
    hv: np.ndarray,
) -> tuple[int, int, int]:
    """Shortcuts needed to contract v (added when `add`), and the arcs v loses.
    Returns (shortcuts, removed, ne)."""
    shortcuts = 0
    removed = 0
    e2 = ofirst[v]
    while e2 != -1:
        if not done[eh[e2]]:
            removed += 1
        e2 = onext[e2]
    e1 = ifirst[v]
    while e1 != -1:
        u = et[e1]
        if done[u]:
            e1 = inext[e1]
            continue
        removed += 1
        bound = -1.0
        e2 = ofirst[v]
        while e2 != -1:
            w = eh[e2]
            if not done[w] and w != u:
                bound = max(bound, ewt[e1] + ewt[e2])
            e2 = onext[e2]
        if bound >= 0:
            nt = _witness(u, v, bound, limit, ofirst, onext, eh, ewt, done, dist, touched, hk, hv)
            e2 = ofirst[v]
            while e2 != -1:
                w = eh[e2]
                if not done[w] and w != u:
                    c = ewt[e1] + ewt[e2]
                    if dist[w] > c:
                        shortcuts += 1
                        if add:
                            ne = _ch_add(
                                u, w, c, ewm[e1] + ewm[e2], ne, et, eh, ewt, ewm, ofirst, onext, ifirst, inext
                            )
                            if ne < 0:
                                return shortcuts, removed, ne
                e2 = onext[e2]
            for k in range(nt):
                dist[touched[k]] = np.inf
        e1 = inext[e1]
    return shortcuts, removed, ne


@njit(cache=True, nogil=True)
def _prune(v: int, done: np.ndarray, far_end: np.ndarray, first: np.ndarray, nexts: np.ndarray) -> None:
    """Unlink from v's arc list (outgoing: far_end is the head; incoming: the tail) the arcs
    whose far end is already contracted."""
    prev = -1
    e = first[v]
    while e != -1:
        nxt = nexts[e]
        if done[far_end[e]]:
            if prev == -1:
                first[v] = nxt
            else:
                nexts[prev] = nxt
        else:
            prev = e
        e = nxt


@njit(cache=True, nogil=True)
def _contract(
    n: int,
    tail: np.ndarray,
    head: np.ndarray,
    wt: np.ndarray,
    wm: np.ndarray,
    capacity: int,
    sim_limit: int,
    limit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contract all vertices, cheapest first (edge difference plus contracted neighbours,
    re-checked lazily), adding a shortcut u -> w wherever a bounded witness search finds no
    path as fast as u -> v -> w. Returns (rank, and the arcs with the shortcuts: tail, head,
    time, metres), or an empty rank when `capacity` arcs were not enough."""
    et = np.empty(capacity, np.int64)
    eh = np.empty(capacity, np.int64)
    ewt = np.empty(capacity, np.float64)
    ewm = np.empty(capacity, np.float64)
    onext = np.empty(capacity, np.int64)
    inext = np.empty(capacity, np.int64)
    ofirst = np.full(n, -1, np.int64)
    ifirst = np.full(n, -1, np.int64)
    ne = 0
    for k in range(tail.shape[0]):
        if tail[k] != head[k]:
            ne = _ch_add(tail[k], head[k], wt[k], wm[k], ne, et, eh, ewt, ewm, ofirst, onext, ifirst, inext)
            if ne < 0:
                return np.empty(0, np.int64), et, eh, ewt, ewm
    done = np.zeros(n, np.bool_)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(capacity + n, np.float64)
    hv = np.empty(capacity + n, np.int64)
    deleted = np.zeros(n, np.float64)
    prio = np.empty(n, np.float64)
    qk = np.empty(4 * n + capacity, np.float64)
    qv = np.empty(4 * n + capacity, np.int64)
    qs = 0
    for v in range(n):
        s, r, _ = _contract_one(
            v,
            False,
            sim_limit,
            ne,
            et,
            eh,
            ewt,
            ewm,
            ofirst,
            onext,
            ifirst,
            inext,
            done,
            dist,
            touched,
            hk,
            hv,
        )
        prio[v] = s - r
        qs = _heap_push(qk, qv, qs, prio[v], v)
    rank = np.full(n, -1, np.int64)
    level = 0
    while qs > 0:
        p = qk[0]
        v = qv[0]
        qs = _heap_pop(qk, qv, qs)
        if done[v] or p != prio[v]:
            continue
        s, r, _ = _contract_one(
            v,
            False,
            sim_limit,
            ne,
            et,
            eh,
            ewt,
            ewm,
            ofirst,
            onext,
            ifirst,
            inext,
            done,
            dist,
            touched,
            hk,
            hv,
        )
        fresh = s - r + deleted[v]
        if qs > 0 and fresh > qk[0]:
            prio[v] = fresh
            qs = _heap_push(qk, qv, qs, fresh, v)
            continue
        s, r, ne = _contract_one(
            v, True, limit, ne, et, eh, ewt, ewm, ofirst, onext, ifirst, inext, done, dist, touched, hk, hv
        )
        if ne < 0:
            return np.empty(0, np.int64), et, eh, ewt, ewm
        done[v] = True
        rank[v] = level
        level += 1
        e = ifirst[v]
        while e != -1:
            _prune(et[e], done, eh, ofirst, onext)
            e = inext[e]
        e = ofirst[v]
        while e != -1:
            _prune(eh[e], done, et, ifirst, inext)
            e = onext[e]
        # neighbours: count the deletion, refresh their priority lazily
        for pass_ in range(2):
            e = ofirst[v] if pass_ == 0 else ifirst[v]
            while e != -1:
                w = eh[e] if pass_ == 0 else et[e]
                if not done[w]:
                    deleted[w] += 1
                    s2, r2, _ = _contract_one(
                        w,
                        False,
                        sim_limit,
                        ne,
                        et,
                        eh,
                        ewt,
                        ewm,
                        ofirst,
                        onext,
                        ifirst,
                        inext,
                        done,
                        dist,
                        touched,
                        hk,
                        hv,
                    )
                    prio[w] = s2 - r2 + deleted[w]
                    if qs >= qk.shape[0]:
                        return np.empty(0, np.int64), et, eh, ewt, ewm
                    qs = _heap_push(qk, qv, qs, prio[w], w)
                e = onext[e] if pass_ == 0 else inext[e]
    return rank, et[:ne].copy(), eh[:ne].copy(), ewt[:ne].copy(), ewm[:ne].copy()


@njit(cache=True, nogil=True)
def _phast(
    seed_pos: np.ndarray,
    seed_t: np.ndarray,
    seed_m: np.ndarray,
    down_ptr: np.ndarray,
    down_src: np.ndarray,
    down_wt: np.ndarray,
    down_wm: np.ndarray,
    up_ptr: np.ndarray,
    up_dst: np.ndarray,
    up_wt: np.ndarray,
    up_wm: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Time and metres from every vertex TO the seeds, on a contraction hierarchy (PHAST).

    Vertices are numbered by position, highest rank first. A fastest path climbs the hierarchy
    then descends to the target: a small search from the seeds over arcs coming down into
    them gives every descent, and one sweep from the top rank down adds the climbs.
    """
    n = up_ptr.shape[0] - 1
    dist_t = np.full(n, np.inf)
    dist_m = np.full(n, np.inf)
    hk = np.empty(down_src.shape[0] + seed_pos.shape[0] + 1, np.float64)
    hv = np.empty(down_src.shape[0] + seed_pos.shape[0] + 1, np.int64)
    size = 0
    for k in range(seed_pos.shape[0]):
        v = seed_pos[k]
        if seed_t[k] < dist_t[v]:
            dist_t[v] = seed_t[k]
            dist_m[v] = seed_m[k]
            size = _heap_push(hk, hv, size, seed_t[k], v)
    while size > 0:
        d = hk[0]
        v = hv[0]
        size = _heap_pop(hk, hv, size)
        if d > dist_t[v]:
            continue
        mv = dist_m[v]
        for j in range(down_ptr[v], down_ptr[v + 1]):
            u = down_src[j]
            nd = d + down_wt[j]
            if nd < dist_t[u]:
                dist_t[u] = nd
                dist_m[u] = mv + down_wm[j]
                size = _heap_push(hk, hv, size, nd, u)
    for v in range(n):
        best_t = dist_t[v]
        best_m = dist_m[v]
        for j in range(up_ptr[v], up_ptr[v + 1]):
            t = dist_t[up_dst[j]] + up_wt[j]
            if t < best_t:
                best_t = t
                best_m = dist_m[up_dst[j]] + up_wm[j]
        dist_t[v] = best_t
        dist_m[v] = best_m
    return dist_t, dist_m


# --------------------------------------------------------------------------------------------
# the router


class _Hierarchy:
    """A contraction hierarchy of the core graph, laid out for PHAST queries.

    Vertices get positions by rank, highest first. `down` holds, per position, the arcs that
    come down into it from higher vertices (searched backwards from the target); `up`, the
    arcs that leave it upwards (swept in position order).
    """

    def __init__(
        self, rank: np.ndarray, tail: np.ndarray, head: np.ndarray, w_t: np.ndarray, w_m: np.ndarray
    ) -> None:
        n = len(rank)
        self.rank = rank
        self.arcs = (tail, head, w_t, w_m)
        self.arc_count = len(tail)
        self.pos = (n - 1 - rank).astype(np.int64)
        pt, ph = self.pos[tail], self.pos[head]
        up = pt > ph  # head ranks higher, so it sits earlier
        down_ptr, perm = _csr(n, ph[~up], pt[~up])
        self.down = (
            down_ptr,
            np.ascontiguousarray(pt[~up][perm]),
            np.ascontiguousarray(w_t[~up][perm]),
            np.ascontiguousarray(w_m[~up][perm]),
        )
        up_ptr, perm = _csr(n, pt[up], ph[up])
        self.up = (
            up_ptr,
            np.ascontiguousarray(ph[up][perm]),
            np.ascontiguousarray(w_t[up][perm]),
            np.ascontiguousarray(w_m[up][perm]),
        )

    @classmethod
    def build(
        cls, n: int, tail: np.ndarray, head: np.ndarray, w_t: np.ndarray, w_m: np.ndarray
    ) -> _Hierarchy:
        capacity = 3 * len(tail) + 64
        while True:
            rank, *arcs = _contract(
                n, tail.astype(np.int64), head.astype(np.int64), w_t, w_m, capacity, CH_SIM_LIMIT, CH_LIMIT
            )
            if len(rank) == n:
                return cls(rank, *arcs)
            capacity *= 2

    def distances_to(
        self, seed_core: np.ndarray, seed_t: np.ndarray, seed_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Time and metres from every core vertex (by position) to the seeds."""
        return _phast(self.pos[seed_core], seed_t, seed_m, *self.down, *self.up)

    def save(self, path: Path, stamp: str) -> None:
        """Write atomically (temp file + rename); a failure only costs a rebuild next time."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                tail, head, w_t, w_m = self.arcs
                np.savez(f, stamp=np.array(stamp), rank=self.rank, tail=tail, head=head, w_t=w_t, w_m=w_m)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; app processes may run as another user
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("cannot write road hierarchy cache %s: %s", path, exc)

    @classmethod
    def load(cls, path: Path, stamp: str) -> _Hierarchy | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["stamp"]) != stamp:
                    return None
                return cls(z["rank"], z["tail"], z["head"], z["w_t"], z["w_m"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable road hierarchy cache %s: %s", path, exc)
            return None


def _csr(n: int, tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR row pointers and the permutation that sorts arcs by tail."""
    perm = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return indptr, perm


class Router:
    """Fastest paths on one road network; immutable after construction, safe across threads."""

    def __init__(
        self,
        data: RoadData,
        network_id: int | None = None,
        hierarchy: str = "sync",
        cache_path: Path | None = None,
    ) -> None:
        """hierarchy: "sync" builds the contraction hierarchy now, "background" in a thread
        (queries use the exact core Dijkstra meanwhile), "off" never. A valid cache_path file
        is loaded instead of building; a new build is saved there."""
        if hierarchy not in ("sync", "background", "off"):
            raise ValueError(f"hierarchy must be sync, background or off, not {hierarchy!r}")
        self.network_id = network_id
        self.lon = np.ascontiguousarray(data.lon, np.float64)
        self.lat = np.ascontiguousarray(data.lat, np.float64)
        self.arc_src = np.ascontiguousarray(data.src, np.int64)
        self.arc_dst = np.ascontiguousarray(data.dst, np.int64)
        self.arc_time = np.ascontiguousarray(data.time_s, np.float64)
        self.arc_length = np.ascontiguousarray(data.length_m, np.float64)
        self.vertex_count = len(self.lon)
        self.arc_count = len(self.arc_src)
        self.hierarchy: _Hierarchy | None = None
        self._build_projection()
        self._build_edges()
        self._build_chains()
        self._build_core()
        self._build_full()
        self._build_snapper()
        self.chains = self._chain_tables()
        self.core_identity = np.arange(self.core_vertex_count, dtype=np.int64)
        if hierarchy != "off":
            self._start_hierarchy(hierarchy == "background", cache_path)

    @classmethod
    def from_data(
        cls,
        data: RoadData,
        network_id: int | None = None,
        hierarchy: str = "sync",
        cache_path: Path | None = None,
    ) -> Router:
        started = time.perf_counter()
        router = cls(data, network_id, hierarchy, cache_path)
        logger.info(
            "router built in %.2f s: %d vertices, %d arcs, %d core vertices, %d core arcs%s",
            time.perf_counter() - started,
            router.vertex_count,
            router.arc_count,
            router.core_vertex_count,
            router.core_arc_count,
            "" if router.hierarchy is None else f", {router.hierarchy.arc_count} hierarchy arcs",
        )
        return router

    # ---- construction -----------------------------------------------------------------------

    def _build_projection(self) -> None:
        """An equirectangular projection centred on the network: metres, good to ~1% over a
        city (exact distances are measured in a frame local to each query point)."""
        self.lat0 = float(np.mean(self.lat)) if self.vertex_count else 0.0
        self.lon0 = float(np.mean(self.lon)) if self.vertex_count else 0.0
        self.kx = EARTH_RADIUS_M * DEG * math.cos(self.lat0 * DEG)
        self.ky = EARTH_RADIUS_M * DEG

    def _build_edges(self) -> None:
        """Undirected segments with the fastest arc each way (parallel arcs are dominated)."""
        src, dst = self.arc_src, self.arc_dst
        keep = np.flatnonzero(src != dst)  # a self-loop never shortens a path
        lo = np.minimum(src[keep], dst[keep])
        hi = np.maximum(src[keep], dst[keep])
        backward = (src[keep] > dst[keep]).astype(np.int64)
        order = np.lexsort((self.arc_time[keep], backward, hi, lo))
        lo, hi, backward, arcs = lo[order], hi[order], backward[order], keep[order]
        first = np.ones(len(arcs), bool)
        first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (backward[1:] != backward[:-1])
        lo, hi, backward, arcs = lo[first], hi[first], backward[first], arcs[first]
        new_edge = np.ones(len(arcs), bool)
        new_edge[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
        edge_of = np.cumsum(new_edge) - 1
        n_edges = int(new_edge.sum())
        self.e_lo = lo[new_edge]
        self.e_hi = hi[new_edge]
        self.e_fw = np.full(n_edges, -1, np.int64)  # arc lo -> hi
        self.e_bw = np.full(n_edges, -1, np.int64)  # arc hi -> lo
        self.e_fw[edge_of[backward == 0]] = arcs[backward == 0]
        self.e_bw[edge_of[backward == 1]] = arcs[backward == 1]
        self.edge_count = n_edges

    def _arc_values(self, arcs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(exists, time, metres) of arc ids that may be -1; missing arcs give 0, 0."""
        exists = arcs >= 0
        safe = np.where(exists, arcs, 0)
        return (
            exists,
            np.where(exists, self.arc_time[safe], 0.0),
            np.where(exists, self.arc_length[safe], 0.0),
        )

    def _build_chains(self) -> None:
        """Chains and their prefix sums, so any position joins its chain's ends in O(1)."""
        n = self.vertex_count
        ends = np.concatenate([self.e_lo, self.e_hi])
        v_ptr, perm = _csr(n, ends, ends)
        v_edges = (perm % self.edge_count).astype(np.int64)
        is_core, chain_ptr, start, end, order, chain_of, forward = _build_chains(
            n, self.e_lo, self.e_hi, v_ptr, v_edges
        )
        self.is_core = is_core
        self.chain_ptr, self.chain_start, self.chain_end = chain_ptr, start, end
        self.edge_chain = chain_of
        self.edge_forward = forward
        chains = len(start)
        slot = np.empty(self.edge_count, np.int64)
        slot[order] = np.arange(self.edge_count)
        # position of each edge in its chain, 1-based
        self.edge_pos = slot - chain_ptr[chain_of] + 1
        # chain-direction arcs per edge in chain order: f runs start -> end, b end -> start
        fw_in_order = np.where(forward[order], self.e_fw[order], self.e_bw[order])
        bw_in_order = np.where(forward[order], self.e_bw[order], self.e_fw[order])
        self.edge_f = np.empty(self.edge_count, np.int64)
        self.edge_b = np.empty(self.edge_count, np.int64)
        self.edge_f[order] = fw_in_order
        self.edge_b[order] = bw_in_order
        # prefix arrays: chain c, i edges in -> index chain_ptr[c] + c + i (i = 0..k)
        self.prefix_base = chain_ptr[:-1] + np.arange(chains)
        self.f_time, self.f_metres, self.f_missing = self._prefix(fw_in_order, chain_ptr)
        self.b_time, self.b_metres, self.b_missing = self._prefix(bw_in_order, chain_ptr)

    def _prefix(
        self, arcs_in_order: np.ndarray, chain_ptr: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-chain running sums (with a leading zero) of time, metres and missing arcs."""
        exists, t, m = self._arc_values(arcs_in_order)
        return (
            _chain_cumsum(t, chain_ptr),
            _chain_cumsum(m, chain_ptr),
            np.rint(_chain_cumsum((~exists).astype(np.float64), chain_ptr)).astype(np.int64),
        )

    def _build_core(self) -> None:
        """The reversed core graph: one arc per chain and direction that is passable end to end."""
        # number core vertices along a Z-order curve: neighbours in the graph are then mostly
        # neighbours in memory, which roughly halves the search time on a city
        core = np.flatnonzero(self.is_core)
        x, y = self._project(self.lon[core], self.lat[core])
        order = np.argsort(_morton(x, y), kind="stable")
        self.core_id = np.full(self.vertex_count, -1, np.int64)
        self.core_id[core[order]] = np.arange(len(core))
        self.core_vertex_count = len(core)
        base = self.prefix_base
        k = np.diff(self.chain_ptr)
        last = base + k
        a = self.core_id[self.chain_start]
        b = self.core_id[self.chain_end]
        ok_f = (self.f_missing[last] == 0) & (a != b)
        ok_b = (self.b_missing[last] == 0) & (a != b)
        # reversed graph: an arc a -> b is stored at b pointing to a
        tail = np.concatenate([b[ok_f], a[ok_b]])
        head = np.concatenate([a[ok_f], b[ok_b]])
        w_t = np.concatenate([self.f_time[last][ok_f], self.b_time[last][ok_b]])
        w_m = np.concatenate([self.f_metres[last][ok_f], self.b_metres[last][ok_b]])
        self._core_forward = (head, tail, w_t, w_m)  # for the hierarchy: a -> b
        indptr, perm = _csr(self.core_vertex_count, tail, head)
        self.core_indptr = indptr
        self.core_head = np.ascontiguousarray(head[perm], np.int32)
        self.core_wt = np.ascontiguousarray(w_t[perm])
        self.core_wm = np.ascontiguousarray(w_m[perm])
        self.core_arc_count = len(perm)

    def _start_hierarchy(self, background: bool, cache_path: Path | None) -> None:
        loaded = _Hierarchy.load(cache_path, self._hierarchy_stamp()) if cache_path else None
        if loaded is not None:
            self.hierarchy = loaded
        elif background:
            name = f"road-hierarchy-{self.network_id}"
            threading.Thread(target=self._build_hierarchy, args=(cache_path,), name=name, daemon=True).start()
        else:
            self._build_hierarchy(cache_path)

    def _hierarchy_stamp(self) -> str:
        a, b, w_t, w_m = self._core_forward
        return (
            f"ch{HIERARCHY_FORMAT}|{self.core_vertex_count}|{len(a)}|{int(a.sum())}|{int(b.sum())}|"
            f"{float(w_t.sum())!r}|{float(w_m.sum())!r}"
        )

    def _build_hierarchy(self, cache_path: Path | None) -> None:
        """Contract the core graph (seconds for a big city; the numba kernel releases the GIL,
        so a background build does not stall request threads)."""
        try:
            started = time.perf_counter()
            hierarchy = _Hierarchy.build(self.core_vertex_count, *self._core_forward)
            self.hierarchy = hierarchy
            logger.info(
                "road hierarchy for network %s: %d arcs in %.1f s",
                self.network_id,
                hierarchy.arc_count,
                time.perf_counter() - started,
            )
            if cache_path is not None:
                hierarchy.save(cache_path, self._hierarchy_stamp())
        except Exception:  # a background thread must say why it died
            logger.exception("building the road hierarchy failed; routing stays on Dijkstra")
            if not threading.current_thread().daemon:
                raise

    def _build_full(self) -> None:
        """The forward graph of the fastest arcs, for drawing a route vertex by vertex."""
        arcs = np.concatenate([self.e_fw[self.e_fw >= 0], self.e_bw[self.e_bw >= 0]])
        indptr, perm = _csr(self.vertex_count, self.arc_src[arcs], self.arc_dst[arcs])
        self.full_indptr = indptr
        self.full_arc = arcs[perm]
        self.full_head = np.ascontiguousarray(self.arc_dst[self.full_arc], np.int32)
        self.full_wt = np.ascontiguousarray(self.arc_time[self.full_arc])
        self.full_wm = np.ascontiguousarray(self.arc_length[self.full_arc])

    def _build_snapper(self) -> None:
        """A uniform grid over the projected segments: each segment is listed in every cell
        its bounding box touches, so a ring search around a point finds the nearest segment
        exactly, however long the segment."""
        ax, ay = self._project(self.lon[self.e_lo], self.lat[self.e_lo])
        bx, by = self._project(self.lon[self.e_hi], self.lat[self.e_hi])
        self.seg = tuple(np.ascontiguousarray(c, np.float64) for c in (ax, ay, bx, by))
        if self.edge_count == 0:
            self.grid = None
            return
        x0 = float(min(ax.min(), bx.min()))
        y0 = float(min(ay.min(), by.min()))
        nx = int((max(ax.max(), bx.max()) - x0) // GRID_CELL_M) + 1
        ny = int((max(ay.max(), by.max()) - y0) // GRID_CELL_M) + 1
        cx0 = ((np.minimum(ax, bx) - x0) // GRID_CELL_M).astype(np.int64)
        cx1 = ((np.maximum(ax, bx) - x0) // GRID_CELL_M).astype(np.int64)
        cy0 = ((np.minimum(ay, by) - y0) // GRID_CELL_M).astype(np.int64)
        cy1 = ((np.maximum(ay, by) - y0) // GRID_CELL_M).astype(np.int64)
        width = cx1 - cx0 + 1
        count = width * (cy1 - cy0 + 1)
        edge = np.repeat(np.arange(self.edge_count), count)
        offset = np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
        cell = (cy0[edge] + offset // width[edge]) * nx + cx0[edge] + offset % width[edge]
        cell_ptr, perm = _csr(nx * ny, cell, cell)
        self.grid = (x0, y0, nx, ny, cell_ptr, edge[perm].astype(np.int32))

    def _project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    # ---- snapping ---------------------------------------------------------------------------

    def snap(self, lon: float, lat: float) -> Snap:
        """The nearest point on the road network to (lon, lat)."""
        p = self.snap_many(np.array([lon], float), np.array([lat], float))
        return self._snap_of(p, 0)

    def _snap_of(self, p: Positions, i: int) -> Snap:
        e = int(p.edge[i])
        t = float(p.t[i])
        arc, fraction = (int(self.e_fw[e]), t) if self.e_fw[e] >= 0 else (int(self.e_bw[e]), 1 - t)
        return Snap(arc, fraction, float(p.lon[i]), float(p.lat[i]), float(p.distance_m[i]))

    def snap_many(self, lon: np.ndarray, lat: np.ndarray) -> Positions:
        """Vectorised snap of many points (units' positions, for instance)."""
        if self.grid is None:
            raise ValueError("the road network has no segments to snap to")
        lon = np.ascontiguousarray(lon, np.float64)
        lat = np.ascontiguousarray(lat, np.float64)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all() and (np.abs(lat) < 90).all()):
            raise ValueError("cannot snap: coordinates must be finite, latitude within (-90, 90)")
        qx, qy = self._project(lon, lat)
        # east-west scale of a frame local to each point, relative to the network's projection
        scale = np.cos(lat * DEG) / math.cos(self.lat0 * DEG)
        x0, y0, nx, ny, cell_ptr, cell_edges = self.grid
        edge, t, dist = _snap_points(
            qx, qy, scale, x0, y0, GRID_CELL_M, nx, ny, cell_ptr, cell_edges, *self.seg
        )
        lo, hi = self.e_lo[edge], self.e_hi[edge]
        snap_lon = self.lon[lo] + t * (self.lon[hi] - self.lon[lo])
        snap_lat = self.lat[lo] + t * (self.lat[hi] - self.lat[lo])
        return Positions(edge, t, snap_lon, snap_lat, dist)

    # ---- positions on chains ----------------------------------------------------------------

    def _chain_tables(self) -> tuple:
        """The chain arrays packed for the numba kernels (layout above _place)."""
        _, tf, mf = self._arc_values(self.edge_f)
        _, tb, mb = self._arc_values(self.edge_b)
        flags = (self.edge_f >= 0).astype(np.float64) + 2.0 * (self.edge_b >= 0)
        info = np.column_stack(
            [self.edge_chain, self.edge_pos, self.edge_forward, tf, mf, tb, mb, flags]
        ).astype(np.float64)
        prefix = np.column_stack(
            [self.f_time, self.f_metres, self.f_missing, self.b_time, self.b_metres, self.b_missing]
        ).astype(np.float64)
        chain_info = np.column_stack(
            [
                self.prefix_base,
                np.diff(self.chain_ptr),
                self.core_id[self.chain_start],
                self.core_id[self.chain_end],
            ]
        ).astype(np.int64)
        return (np.ascontiguousarray(info), np.ascontiguousarray(prefix), np.ascontiguousarray(chain_info))

    # ---- queries ----------------------------------------------------------------------------

    def travel_times_to(self, lon: float, lat: float, origins: Sequence[tuple[float, float]]) -> TravelTimes:
        """Fastest road time (and its metres) FROM each origin (lon, lat) TO the point.

        One search from the point over the reversed core graph, stopped once every chain end
        an origin can leave through is settled.
        """
        target = self.snap_many(np.array([lon], float), np.array([lat], float))
        coords = np.asarray(origins, np.float64).reshape(-1, 2)
        if len(coords) == 0:
            return TravelTimes(np.empty(0), np.empty(0))
        units = self.snap_many(coords[:, 0], coords[:, 1])
        return self.travel_times_between(units, target)

    def travel_times_between(self, units: Positions, target: Positions) -> TravelTimes:
        """travel_times_to for positions snapped already (target holds one position)."""
        chains = self.chains
        p_edge, p_t = int(target.edge[0]), float(target.t[0])
        rs_t, rs_m, re_t, re_m = _reach(p_edge, p_t, chains)
        tc = int(self.edge_chain[p_edge])
        seed_ok = np.isfinite([rs_t, re_t])
        seeds = (
            self.core_id[[self.chain_start[tc], self.chain_end[tc]]][seed_ok],
            np.array([rs_t, re_t])[seed_ok],
            np.array([rs_m, re_m])[seed_ok],
        )
        hierarchy = self.hierarchy  # read once: a background build may land meanwhile
        if hierarchy is not None:
            at, out_t, out_m = _exits(units.edge, units.t, chains, hierarchy.pos)
            dist_t, dist_m = hierarchy.distances_to(*seeds)
        else:
            at, out_t, out_m = _exits(units.edge, units.t, chains, self.core_identity)
            targets = at[np.isfinite(out_t)]
            dist_t, dist_m, _ = _dijkstra(
                self.core_indptr, self.core_head, self.core_wt, self.core_wm, *seeds, targets, False
            )
        seconds, metres = _combine(units.edge, units.t, p_edge, p_t, at, out_t, out_m, dist_t, dist_m, chains)
        return TravelTimes(seconds, metres)

    def route(self, from_lonlat: tuple[float, float], to_lonlat: tuple[float, float]) -> Route:
        """The fastest route for drawing on a map (None-free: unreachable gives inf and the two
        snapped ends)."""
        pts = np.array([from_lonlat, to_lonlat], np.float64)
        pos = self.snap_many(pts[:, 0], pts[:, 1])
        start, end = _take(pos, 0), _take(pos, 1)
        ends = [(float(pos.lon[0]), float(pos.lat[0])), (float(pos.lon[1]), float(pos.lat[1]))]
        seeds = self._edge_exits(int(start.edge[0]), float(start.t[0]))
        entries = self._edge_entries(int(end.edge[0]), float(end.t[0]))
        dist_t, dist_m, pred = _dijkstra(
            self.full_indptr,
            self.full_head,
            self.full_wt,
            self.full_wm,
            np.array([s[0] for s in seeds], np.int64),
            np.array([s[1] for s in seeds], np.float64),
            np.array([s[2] for s in seeds], np.float64),
            np.array([e[0] for e in entries], np.int64),
            True,
        )
        best = (math.inf, math.inf, -1)
        for v, t, m in entries:
            if dist_t[v] + t < best[0]:
                best = (dist_t[v] + t, dist_m[v] + m, v)
        direct_t, direct_m = self._same_edge(start, end)
        if direct_t <= best[0]:
            if math.isinf(direct_t):
                return Route(math.inf, math.inf, ends)
            return Route(direct_t, direct_m, ends)
        path = self._unwind(pred, best[2])
        coords = [(float(self.lon[v]), float(self.lat[v])) for v in path]
        return Route(float(best[0]), float(best[1]), [ends[0], *coords, ends[1]])

    def _same_edge(self, q: Positions, p: Positions) -> tuple[float, float]:
        """Time and metres from q straight to p along their common segment (inf if none)."""
        e, tq, tp = int(q.edge[0]), float(q.t[0]), float(p.t[0])
        if e != int(p.edge[0]):
            return math.inf, math.inf
        if tq == tp:
            return 0.0, 0.0
        arc, share = (self.e_fw[e], tp - tq) if tq < tp else (self.e_bw[e], tq - tp)
        if arc < 0:
            return math.inf, math.inf
        return share * self._t(arc), share * self._m(arc)

    def _unwind(self, pred: np.ndarray, v: int) -> list[int]:
        path = [v]
        while pred[v] >= 0:
            v = int(self.arc_src[self.full_arc[pred[v]]])
            path.append(v)
        return path[::-1]

    def _edge_exits(self, e: int, t: float) -> list[tuple[int, float, float]]:
        """(vertex, seconds, metres) ways to leave a position on edge e at t (lo -> hi)."""
        out = []
        lo, hi, fw, bw = int(self.e_lo[e]), int(self.e_hi[e]), self.e_fw[e], self.e_bw[e]
        if fw >= 0 or t == 1:
            out.append((hi, (1 - t) * self._t(fw), (1 - t) * self._m(fw)))
        if bw >= 0 or t == 0:
            out.append((lo, t * self._t(bw), t * self._m(bw)))
        return out

    def _edge_entries(self, e: int, t: float) -> list[tuple[int, float, float]]:
        """(vertex, seconds, metres) ways to reach a position on edge e at t from a vertex."""
        out = []
        lo, hi, fw, bw = int(self.e_lo[e]), int(self.e_hi[e]), self.e_fw[e], self.e_bw[e]
        if fw >= 0 or t == 0:
            out.append((lo, t * self._t(fw), t * self._m(fw)))
        if bw >= 0 or t == 1:
            out.append((hi, (1 - t) * self._t(bw), (1 - t) * self._m(bw)))
        return out

    def _t(self, arc: int) -> float:
        return float(self.arc_time[arc]) if arc >= 0 else 0.0

    def _m(self, arc: int) -> float:
        return float(self.arc_length[arc]) if arc >= 0 else 0.0


def _morton(x: np.ndarray, y: np.ndarray, cell_m: float = 50.0) -> np.ndarray:
    """Z-order (Morton) code of projected points on a grid of cell_m metres."""
    codes = []
    for c in (x, y):
        v = ((c - (c.min() if len(c) else 0.0)) / cell_m).astype(np.int64) & 0xFFFF
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        v = (v | (v << 1)) & 0x55555555
        codes.append(v)
    return codes[0] | (codes[1] << 1)


def _take(p: Positions, i: int) -> Positions:
    s = slice(i, i + 1)
    return Positions(p.edge[s], p.t[s], p.lon[s], p.lat[s], p.distance_m[s])


# --------------------------------------------------------------------------------------------
# the process-wide router


class _RouterState:
    def __init__(self) -> None:
        self.router: Router | None = None
        self.checked_at = -math.inf


_state = _RouterState()
_build_lock = threading.Lock()


def _check_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "ROAD_ROUTER_CHECK_SECONDS", ROUTER_CHECK_SECONDS))


def get_router() -> Router | None:
    """The router of the active road network, or None when there is none.

    Built on first use (a few seconds for a big city, mostly once per process thanks to the
    cache file) and rebuilt when another network becomes active; the active network's id is
    looked up at most every ROAD_ROUTER_CHECK_SECONDS. While one thread rebuilds, the others
    keep routing on the previous network instead of waiting. It queries the database: from
    async code call it through sync_to_async.
    """
    interval = _check_seconds()
    if time.monotonic() - _state.checked_at < interval:
        return _state.router
    if not _build_lock.acquire(blocking=_state.router is None):
        return _state.router  # another thread is checking or rebuilding
    try:
        if time.monotonic() - _state.checked_at < interval:
            return _state.router
        from fleet.models import RoadNetwork
        from fleet.roads.store import hierarchy_cache_path, load_network

        active = RoadNetwork.objects.active()
        if active is None:
            router = None
        elif _state.router is not None and _state.router.network_id == active.pk:
            router = _state.router
        else:
            router = Router.from_data(
                load_network(active),
                network_id=active.pk,
                hierarchy="background",
                cache_path=hierarchy_cache_path(active.pk),
            )
        _state.router = router
        _state.checked_at = time.monotonic()
        return router
    finally:
        _build_lock.release()


def warm_router() -> None:
    """Build the router and run one search before the first request needs them: a node's start
    (dispatch/asgi.py, in a thread of its own). Reading the network and loading the compiled
    searches take seconds, which would otherwise fall on the first call located after a restart
    or a failover, and hold the interpreter while every screen waits. A failure is only logged:
    the first use builds it then."""
    from django.db import connection

    try:
        router = get_router()
        if router is not None and router.vertex_count:
            lon, lat = float(router.lon[0]), float(router.lat[0])
            router.travel_times_to(lon, lat, [(lon, lat)])
    except Exception:  # noqa: BLE001  (the database may not be up yet: built on first use)
        logger.warning("road router not built ahead of the first request", exc_info=True)
    finally:
        connection.close()


def reset_router() -> None:
    """Forget the router (tests; or to force a rebuild on the next get_router())."""
    with _build_lock:
        _state.router = None
        _state.checked_at = -math.inf
