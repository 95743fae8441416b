"""The resident router against an independent shortest-path computation.

The oracle below is a plain heapq Dijkstra over the raw arcs, with positions part-way along
arcs handled directly (no chains, no core graph): the router must give exactly its times.
"""

import heapq
import math
from pathlib import Path

import numpy as np
import pytest

from fleet.roads.data import RoadData
from fleet.roads.readers import haversine_m
from fleet.roads.router import Router
from tests.support.shared_data import shared_data

REL = 1e-9


# ------------------------------------------------------------------------------------------
# the oracle


class Oracle:
    """Shortest paths on the raw arcs. A position is (arc, fraction) on the straight segment
    between the arc's two vertices; every arc between those two vertices passes it."""

    def __init__(self, data: RoadData) -> None:
        self.data = data
        self.out: dict[int, list[tuple[int, float, float]]] = {}
        self.between: dict[tuple[int, int], list[int]] = {}
        for j, (u, v) in enumerate(zip(data.src.tolist(), data.dst.tolist(), strict=True)):
            self.out.setdefault(u, []).append((v, float(data.time_s[j]), float(data.length_m[j])))
            self.between.setdefault((min(u, v), max(u, v)), []).append(j)

    def _on_segment(self, arc: int, fraction: float) -> list[tuple[int, float]]:
        """Every arc through the position, with the position's fraction along it."""
        u, v = int(self.data.src[arc]), int(self.data.dst[arc])
        result = []
        for j in self.between[(min(u, v), max(u, v))]:
            same = int(self.data.src[j]) == u
            result.append((j, fraction if same else 1.0 - fraction))
        return result

    def time(self, start: tuple[int, float], end: tuple[int, float]) -> tuple[float, float]:
        """(seconds, metres) of the fastest way from position start to position end."""
        d = self.data
        best = (math.inf, math.inf)
        seeds: dict[int, tuple[float, float]] = {}

        def seed(v: int, t: float, m: float) -> None:
            if (t, m) < seeds.get(v, (math.inf, math.inf)):
                seeds[v] = (t, m)

        for j, f in self._on_segment(*start):
            t, m = float(d.time_s[j]), float(d.length_m[j])
            seed(int(d.dst[j]), (1 - f) * t, (1 - f) * m)
            if f == 0:
                seed(int(d.src[j]), 0.0, 0.0)
            if f == 1:
                seed(int(d.dst[j]), 0.0, 0.0)
        entries: dict[int, list[tuple[float, float]]] = {}
        for j, f in self._on_segment(*end):
            t, m = float(d.time_s[j]), float(d.length_m[j])
            entries.setdefault(int(d.src[j]), []).append((f * t, f * m))
            if f == 1:
                entries.setdefault(int(d.dst[j]), []).append((0.0, 0.0))
        # straight along the common segment
        start_on = dict(self._on_segment(*start))
        for j, f_end in self._on_segment(*end):
            if j in start_on and start_on[j] <= f_end:
                share = f_end - start_on[j]
                best = min(best, (share * float(d.time_s[j]), share * float(d.length_m[j])))
        dist: dict[int, tuple[float, float]] = {}
        heap = [(t, m, v) for v, (t, m) in seeds.items()]
        heapq.heapify(heap)
        while heap:
            t, m, v = heapq.heappop(heap)
            if t > best[0]:
                break
            if v in dist:
                continue
            dist[v] = (t, m)
            for et, em in entries.get(v, []):
                best = min(best, (t + et, m + em))
            for w, wt, wm in self.out.get(v, []):
                if w not in dist:
                    heapq.heappush(heap, (t + wt, m + wm, w))
        return best

    def vertex_distances(self, source: int) -> dict[int, tuple[float, float]]:
        """Plain single-source Dijkstra between vertices: (seconds, metres) per vertex."""
        dist: dict[int, tuple[float, float]] = {}
        heap = [(0.0, 0.0, source)]
        while heap:
            t, m, v = heapq.heappop(heap)
            if v in dist:
                continue
            dist[v] = (t, m)
            for w, wt, wm in self.out.get(v, []):
                if w not in dist:
                    heapq.heappush(heap, (t + wt, m + wm, w))
        return dist


# ------------------------------------------------------------------------------------------
# small hand-made networks


def network(points: list[tuple[float, float]], arcs: list[tuple[int, int, float]]) -> RoadData:
    """RoadData from (lon, lat) points and (u, v, speed km/h) arcs; lengths are geodesic."""
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    src = np.array([a[0] for a in arcs], np.int32)
    dst = np.array([a[1] for a in arcs], np.int32)
    length = haversine_m(lon[src], lat[src], lon[dst], lat[dst])
    speed = np.array([a[2] for a in arcs]) / 3.6
    return RoadData(
        lon=lon,
        lat=lat,
        src=src,
        dst=dst,
        length_m=length,
        time_s=length / speed,
        road_class=np.full(len(arcs), 8, np.int8),
        oneway=np.zeros(len(arcs), bool),
    )


def random_network(seed: int, size: int = 7, mixed: bool = False) -> RoadData:
    """A jittered grid with random speeds, missing streets, one-way streets and long chains
    (every grid street is cut into several segments, as OSM does). `mixed`: each segment
    picks its own direction, so streets change direction part-way."""
    rng = np.random.default_rng(seed)
    points: list[tuple[float, float]] = []
    arcs: list[tuple[int, int, float]] = []

    def point(lon: float, lat: float) -> int:
        points.append((lon + rng.normal() * 2e-4, lat + rng.normal() * 2e-4))
        return len(points) - 1

    grid = [[point(110.30 + 0.004 * i, 20.00 + 0.004 * j) for j in range(size)] for i in range(size)]
    for i in range(size):
        for j in range(size):
            for di, dj in ((1, 0), (0, 1)):
                if i + di >= size or j + dj >= size or rng.random() < 0.15:
                    continue
                a, b = grid[i][j], grid[i + di][j + dj]
                pieces = int(rng.integers(1, 4))
                lon_a, lat_a = points[a]
                lon_b, lat_b = points[b]
                chain = (
                    [a]
                    + [
                        point(lon_a + (lon_b - lon_a) * k / pieces, lat_a + (lat_b - lat_a) * k / pieces)
                        for k in range(1, pieces)
                    ]
                    + [b]
                )
                kind = rng.random()
                for u, v in zip(chain, chain[1:], strict=False):
                    if mixed:
                        kind = rng.choice([0.0, 0.75, 0.95])
                    if kind < 0.8 or (kind < 0.9 and rng.random() < 0.5):
                        arcs.append((u, v, float(rng.uniform(10, 80))))
                    if kind < 0.7 or kind >= 0.9:
                        arcs.append((v, u, float(rng.uniform(10, 80))))
    return network(points, arcs)


def random_points(data: RoadData, rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """Points near random arcs, some exactly on vertices, some past a segment's end."""
    out = []
    for k in range(count):
        j = int(rng.integers(data.arc_count))
        u, v = int(data.src[j]), int(data.dst[j])
        f = [0.0, 1.0, float(rng.random()), float(rng.uniform(-0.2, 1.2))][k % 4]
        lon = data.lon[u] + f * (data.lon[v] - data.lon[u])
        lat = data.lat[u] + f * (data.lat[v] - data.lat[u])
        if k % 4 >= 2:
            lon += rng.normal() * 1e-4
            lat += rng.normal() * 1e-4
        out.append((float(lon), float(lat)))
    return out


def assert_times_match(router: Router, oracle: Oracle, targets: list, origins: list) -> int:
    """Compare every origin -> target pair; returns how many were reachable."""
    snaps = [router.snap(*p) for p in origins]
    reachable = 0
    for target in targets:
        got = router.travel_times_to(target[0], target[1], origins)
        end = router.snap(*target)
        for k, s in enumerate(snaps):
            want_t, want_m = oracle.time((s.arc, s.fraction), (end.arc, end.fraction))
            if math.isinf(want_t):
                assert math.isinf(got.seconds[k]) and math.isinf(got.metres[k])
                continue
            reachable += 1
            assert got.seconds[k] == pytest.approx(want_t, rel=REL, abs=1e-9), (target, origins[k])
            assert got.metres[k] == pytest.approx(want_m, rel=1e-6, abs=1e-6), (target, origins[k])
    return reachable


@pytest.mark.parametrize("hierarchy", ["sync", "off"])
@pytest.mark.parametrize("seed, mixed", [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_random_networks_match_the_oracle(seed: int, mixed: bool, hierarchy: str) -> None:
    """Both query paths: PHAST on the hierarchy, and the core Dijkstra used until it is built."""
    data = random_network(seed, mixed=mixed)
    router = Router.from_data(data, hierarchy=hierarchy)
    assert (router.hierarchy is None) == (hierarchy == "off")
    oracle = Oracle(data)
    rng = np.random.default_rng(100 + seed)
    reachable = assert_times_match(router, oracle, random_points(data, rng, 12), random_points(data, rng, 40))
    assert reachable > 40  # many pairs are connected: the test compares real paths


@pytest.mark.parametrize("seed, mixed", [(11, False), (12, False), (13, True), (14, True)])
@pytest.mark.parametrize("hierarchy", ["sync", "off"])
def test_points_on_vertices_behave_as_the_vertices(seed: int, mixed: bool, hierarchy: str) -> None:
    """Whichever segment a vertex's point snaps to (a one-way one leading away, say), it is
    reached and left as the vertex itself."""
    data = random_network(seed, mixed=mixed)
    router = Router.from_data(data, hierarchy=hierarchy)
    oracle = Oracle(data)
    rng = np.random.default_rng(seed)
    on_roads = np.unique(np.concatenate([data.src, data.dst]))  # grid corners may have none
    origins = rng.choice(on_roads, 60, replace=False)
    points = [(float(data.lon[v]), float(data.lat[v])) for v in origins]
    from_origin = {int(v): oracle.vertex_distances(int(v)) for v in origins}
    for target in rng.choice(on_roads, 12, replace=False):
        got = router.travel_times_to(float(data.lon[target]), float(data.lat[target]), points)
        for k, v in enumerate(origins):
            want = from_origin[int(v)].get(int(target), (math.inf, math.inf))
            assert got.seconds[k] == pytest.approx(want[0], rel=REL, abs=1e-9), (v, target)


def test_route_agrees_with_travel_times_and_draws_a_connected_line() -> None:
    data = random_network(5)
    router = Router.from_data(data)
    rng = np.random.default_rng(9)
    points = random_points(data, rng, 24)
    for a, b in zip(points[::2], points[1::2], strict=True):
        route = router.route(a, b)
        times = router.travel_times_to(b[0], b[1], [a])
        if math.isinf(times.seconds[0]):
            assert math.isinf(route.seconds)
            continue
        assert route.seconds == pytest.approx(times.seconds[0], rel=REL, abs=1e-9)
        assert route.metres == pytest.approx(times.metres[0], rel=1e-6, abs=1e-6)
        start, end = router.snap(*a), router.snap(*b)
        assert route.coordinates[0] == pytest.approx((start.lon, start.lat))
        assert route.coordinates[-1] == pytest.approx((end.lon, end.lat))
        line = np.array(route.coordinates)
        drawn = haversine_m(line[:-1, 0], line[:-1, 1], line[1:, 0], line[1:, 1]).sum()
        assert drawn == pytest.approx(route.metres, rel=0.01, abs=1.0)


def straight_street(oneway: bool) -> RoadData:
    """Five vertices along a street, 100 m apart, joined to a ring road back to the start."""
    pts = [(110.0 + 0.001 * k, 20.0) for k in range(5)] + [(110.002, 20.003)]
    arcs = [(k, k + 1, 36.0) for k in range(4)]
    if not oneway:
        arcs += [(k + 1, k, 36.0) for k in range(4)]
    arcs += [(4, 5, 36.0), (5, 0, 36.0)]
    return network(pts, arcs)


def test_same_arc_forward_is_direct_and_backward_on_a_one_way_goes_round() -> None:
    data = straight_street(oneway=True)
    router = Router.from_data(data)
    oracle = Oracle(data)
    a, b = (110.0012, 20.0), (110.0018, 20.0)  # both on the arc 1 -> 2 (36 km/h = 10 m/s)
    ahead = router.travel_times_to(b[0], b[1], [a])
    assert ahead.seconds[0] == pytest.approx(6.27, rel=0.01)
    behind = router.travel_times_to(a[0], a[1], [b])
    sb, sa = router.snap(*b), router.snap(*a)
    assert behind.seconds[0] == pytest.approx(oracle.time((sb.arc, sb.fraction), (sa.arc, sa.fraction))[0])
    assert behind.seconds[0] > 100  # round the ring, not 6 s backwards up a one-way street


def test_two_way_street_can_be_left_in_either_direction() -> None:
    data = straight_street(oneway=False)
    router = Router.from_data(data)
    a, b = (110.0012, 20.0), (110.0018, 20.0)
    assert router.travel_times_to(a[0], a[1], [b]).seconds[0] == pytest.approx(6.28, rel=0.01)
    assert router.travel_times_to(b[0], b[1], [a]).seconds[0] == pytest.approx(6.28, rel=0.01)


def test_unreachable_is_inf() -> None:
    # two separate streets
    data = network(
        [(110.0, 20.0), (110.001, 20.0), (110.0, 20.01), (110.001, 20.01)],
        [(0, 1, 30.0), (1, 0, 30.0), (2, 3, 30.0), (3, 2, 30.0)],
    )
    router = Router.from_data(data)
    times = router.travel_times_to(110.0005, 20.0, [(110.0005, 20.01), (110.0002, 20.0)])
    assert math.isinf(times.seconds[0]) and math.isinf(times.metres[0])
    assert times.seconds[1] == pytest.approx(31.4 / (30 / 3.6), rel=0.01)
    assert math.isinf(router.route((110.0005, 20.0), (110.0005, 20.01)).seconds)


def test_bad_coordinates_are_refused() -> None:
    router = Router.from_data(straight_street(oneway=False))
    with pytest.raises(ValueError, match="finite"):
        router.snap(float("nan"), 20.0)
    with pytest.raises(ValueError, match="finite"):
        router.travel_times_to(110.001, 20.0, [(110.0, float("inf"))])


def test_no_origins_gives_empty_arrays() -> None:
    router = Router.from_data(straight_street(oneway=False))
    times = router.travel_times_to(110.001, 20.0, [])
    assert len(times.seconds) == 0 and len(times.metres) == 0


# ------------------------------------------------------------------------------------------
# snapping


def brute_force_distance(data: RoadData, lon: float, lat: float) -> float:
    """Distance to the nearest segment, every segment tried, in a frame local to the point."""
    kx = 6_371_008.8 * math.pi / 180 * math.cos(math.radians(lat))
    ky = 6_371_008.8 * math.pi / 180
    ax = (data.lon[data.src] - lon) * kx
    ay = (data.lat[data.src] - lat) * ky
    dx = (data.lon[data.dst] - data.lon[data.src]) * kx
    dy = (data.lat[data.dst] - data.lat[data.src]) * ky
    len2 = dx * dx + dy * dy
    t = np.clip(np.where(len2 > 0, -(ax * dx + ay * dy) / np.where(len2 > 0, len2, 1), 0), 0, 1)
    return float(np.hypot(ax + t * dx, ay + t * dy).min())


def test_snap_finds_the_middle_of_a_long_segment() -> None:
    # a 22 km straight road with a short side street near its western end
    data = network(
        [(110.0, 20.0), (110.2, 20.0), (110.0, 20.001), (110.0, 20.002)],
        [(0, 1, 100.0), (1, 0, 100.0), (0, 2, 30.0), (2, 0, 30.0), (2, 3, 30.0), (3, 2, 30.0)],
    )
    router = Router.from_data(data)
    snap = router.snap(110.1, 20.0005)  # 11 km from any vertex, 55 m north of the road
    assert int(data.src[snap.arc]) in (0, 1) and int(data.dst[snap.arc]) in (0, 1)
    assert snap.distance_m == pytest.approx(55.6, abs=0.5)
    assert snap.lon == pytest.approx(110.1, abs=1e-9) and snap.lat == pytest.approx(20.0, abs=1e-9)
    along = snap.fraction if int(data.src[snap.arc]) == 0 else 1 - snap.fraction
    assert along == pytest.approx(0.5, abs=1e-9)


def test_snap_on_a_vertex_has_zero_distance() -> None:
    data = random_network(7)
    router = Router.from_data(data)
    for v in (0, 5, 17):
        snap = router.snap(float(data.lon[v]), float(data.lat[v]))
        assert snap.distance_m == pytest.approx(0.0, abs=1e-6)
        assert (snap.lon, snap.lat) == pytest.approx((data.lon[v], data.lat[v]))


def test_snap_distances_equal_brute_force() -> None:
    data = random_network(8)
    router = Router.from_data(data)
    rng = np.random.default_rng(3)
    lons = rng.uniform(data.lon.min() - 0.01, data.lon.max() + 0.01, 300)
    lats = rng.uniform(data.lat.min() - 0.01, data.lat.max() + 0.01, 300)
    for lon, lat in zip(lons, lats, strict=True):
        snap = router.snap(float(lon), float(lat))
        assert snap.distance_m == pytest.approx(brute_force_distance(data, lon, lat), rel=1e-9, abs=1e-6)
        # the snapped point lies on the arc it names, at the distance it reports
        u, v = int(data.src[snap.arc]), int(data.dst[snap.arc])
        expect_lon = data.lon[u] + snap.fraction * (data.lon[v] - data.lon[u])
        assert snap.lon == pytest.approx(expect_lon, abs=1e-9)
        assert 0.0 <= snap.fraction <= 1.0
    far = router.snap(111.5, 21.0)  # 150 km away: still the nearest segment
    assert far.distance_m == pytest.approx(brute_force_distance(data, 111.5, 21.0), rel=1e-9)


# ------------------------------------------------------------------------------------------
# a real city


@pytest.fixture(scope="module")
def haikou() -> tuple[RoadData, Router]:
    from fleet.roads.readers import read_city_files

    data = read_city_files(shared_data("roads"), "Haikou")
    return data, Router.from_data(data)


def test_fifty_random_haikou_pairs_match_the_oracle(haikou: tuple[RoadData, Router]) -> None:
    data, router = haikou
    oracle = Oracle(data)
    rng = np.random.default_rng(2026)
    targets = random_points(data, rng, 10)
    origins = random_points(data, rng, 5)
    assert assert_times_match(router, oracle, targets, origins) == 50


def test_haikou_hierarchy_equals_dijkstra_on_every_core_vertex(haikou: tuple[RoadData, Router]) -> None:
    """PHAST over the contraction hierarchy against the plain core Dijkstra, all vertices."""
    from fleet.roads.router import _dijkstra

    _, router = haikou
    hierarchy = router.hierarchy
    assert hierarchy is not None and hierarchy.arc_count >= router.core_arc_count
    rng = np.random.default_rng(5)
    none = np.empty(0, np.int64)
    for source in rng.choice(router.core_vertex_count, 20, replace=False):
        seeds = (np.array([source]), np.array([0.0]), np.array([0.0]))
        fast_t, fast_m = hierarchy.distances_to(*seeds)
        want_t, want_m, _ = _dijkstra(
            router.core_indptr, router.core_head, router.core_wt, router.core_wm, *seeds, none, False
        )
        np.testing.assert_allclose(fast_t[hierarchy.pos], want_t, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(fast_m[hierarchy.pos], want_m, rtol=1e-6, atol=1e-6)


def test_hierarchy_cache_file_is_used_and_checked(tmp_path: Path) -> None:
    data = random_network(21)
    cache = tmp_path / "h.npz"
    first = Router.from_data(data, cache_path=cache)
    assert cache.exists()
    again = Router.from_data(data, cache_path=cache)
    np.testing.assert_array_equal(again.hierarchy.rank, first.hierarchy.rank)
    other = random_network(22)  # a different graph must not take this cache
    fresh = Router.from_data(other, cache_path=cache)
    plain = Router.from_data(other, hierarchy="off")
    p = (float(other.lon[3]), float(other.lat[3]))
    origins = [(float(other.lon[v]), float(other.lat[v])) for v in range(0, other.vertex_count, 7)]
    np.testing.assert_allclose(
        fresh.travel_times_to(*p, origins).seconds, plain.travel_times_to(*p, origins).seconds, rtol=1e-12
    )


def test_background_build_answers_before_and_after(tmp_path: Path) -> None:
    import time

    data = random_network(23)
    router = Router.from_data(data, hierarchy="background", cache_path=tmp_path / "h.npz")
    p = (float(data.lon[5]), float(data.lat[5]))
    origins = [(float(data.lon[v]), float(data.lat[v])) for v in range(0, data.vertex_count, 5)]
    before = router.travel_times_to(*p, origins).seconds
    deadline = time.monotonic() + 60
    while router.hierarchy is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert router.hierarchy is not None
    np.testing.assert_allclose(router.travel_times_to(*p, origins).seconds, before, rtol=1e-12)


def test_haikou_haidian_island_detour(haikou: tuple[RoadData, Router]) -> None:
    """The data README's example: 2,186 m straight across the river, 3,646 m by road."""
    _, router = haikou
    island, city = (110.329, 20.062), (110.330, 20.042)
    times = router.travel_times_to(city[0], city[1], [island])
    assert times.metres[0] > 1.4 * 2186
    assert times.metres[0] == pytest.approx(3646, rel=0.25)
    snaps_far = [router.snap(*p).distance_m for p in (island, city)]
    assert max(snaps_far) < 300


def test_haikou_snap_distances_equal_brute_force(haikou: tuple[RoadData, Router]) -> None:
    data, router = haikou
    rng = np.random.default_rng(11)
    for _ in range(40):
        lon = float(rng.uniform(data.lon.min(), data.lon.max()))
        lat = float(rng.uniform(data.lat.min(), data.lat.max()))
        snap = router.snap(lon, lat)
        assert snap.distance_m == pytest.approx(brute_force_distance(data, lon, lat), rel=1e-9, abs=1e-6)
