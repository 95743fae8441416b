"""明湾市, the demo city: the same seed gives the same city, and the city is fit for dispatch."""

import io
import re
from collections import Counter

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from dispatch.demo import city as demo_city
from dispatch.locate.gazetteer import search_keys
from dispatch.models import Event, Place, PlaceKind
from fleet.models import RoadArc, RoadNetwork, Station, Unit, UnitKind
from hospitals.models import Capability, Hospital


@pytest.fixture(scope="module")
def city() -> demo_city.DemoCity:
    return demo_city.generate(120)


def road_arrays(city: demo_city.DemoCity) -> dict[str, np.ndarray]:
    r = city.roads
    return {
        "lon": r.lon,
        "lat": r.lat,
        "src": r.src,
        "dst": r.dst,
        "length_m": r.length_m,
        "time_s": r.time_s,
        "road_class": r.road_class,
        "oneway": r.oneway,
    }


def metres(city: demo_city.DemoCity) -> np.ndarray:
    x, y = demo_city.from_lonlat(city.roads.lon, city.roads.lat)
    return np.column_stack([x, y])


def test_same_seed_gives_the_same_city(city: demo_city.DemoCity) -> None:
    again = demo_city.generate(120)
    for name, values in road_arrays(city).items():
        assert np.array_equal(values, road_arrays(again)[name]), name
    assert again.roads.names == city.roads.names
    assert again.stations == city.stations
    assert again.units == city.units
    assert again.hospitals == city.hospitals
    assert again.places == city.places


def test_another_seed_gives_another_city(city: demo_city.DemoCity) -> None:
    other = demo_city.generate(121)
    assert other.roads.arc_count != city.roads.arc_count or not np.array_equal(
        other.roads.lon, city.roads.lon
    )
    assert other.places != city.places
    assert other.units != city.units


def test_size_extent_and_short_arcs(city: demo_city.DemoCity) -> None:
    roads = city.roads
    assert roads.arc_count >= 30_000
    xy = metres(city)
    width, height = np.ptp(xy, axis=0) / 1000
    assert 25 <= width <= 35 and 25 <= height <= 35, (width, height)
    assert roads.length_m.max() <= 160
    assert (roads.length_m > 0).all() and (roads.time_s > 0).all()
    assert len(roads.names) == roads.arc_count
    pairs = roads.src.astype(np.int64) * roads.vertex_count + roads.dst
    assert len(np.unique(pairs)) == roads.arc_count, "no duplicate arcs"


def test_every_road_class_has_a_realistic_speed(city: demo_city.DemoCity) -> None:
    kmh = city.roads.length_m / city.roads.time_s * 3.6
    for cls in np.unique(city.roads.road_class):
        speeds = kmh[city.roads.road_class == cls]
        assert np.allclose(speeds, speeds[0]) and 10 <= speeds[0] <= 100
    present = set(np.unique(city.roads.road_class).tolist())
    assert {1, 2, 3, 4, 5, 6, 8, 9} <= present  # motorway to residential, links and service roads
    assert city.roads.oneway.any(), "some one-way streets"


def test_road_names_are_chinese(city: demo_city.DemoCity) -> None:
    named = [n for n in city.roads.names if n]
    assert len(named) > 0.8 * city.roads.arc_count
    assert {"明湾路", "滨江大道", "明湾环路", "明湾高速", "明湾海底隧道"} <= set(named)
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in set(named))


def test_network_is_strongly_connected(city: demo_city.DemoCity) -> None:
    r = city.roads
    graph = coo_matrix((np.ones(r.arc_count), (r.src, r.dst)), shape=(r.vertex_count,) * 2)
    count, _ = connected_components(graph, directed=True, connection="strong")
    assert count == 1


def test_water_makes_the_straight_line_mislead(city: demo_city.DemoCity) -> None:
    """Across the strait the road is far longer than the line; on one bank it is not."""
    r = city.roads
    graph = coo_matrix((r.length_m, (r.src, r.dst)), shape=(r.vertex_count,) * 2).tocsr()
    xy = metres(city)
    tree = cKDTree(xy)

    def ratios(a: list[demo_city.PlaceSpec], b: list[demo_city.PlaceSpec]) -> np.ndarray:
        va = tree.query(np.column_stack(demo_city.from_lonlat([p.lon for p in a], [p.lat for p in a])))[1]
        vb = tree.query(np.column_stack(demo_city.from_lonlat([p.lon for p in b], [p.lat for p in b])))[1]
        road = dijkstra(graph, indices=va)[:, vb]
        line = np.hypot(*(xy[va][:, None, :] - xy[vb][None, :, :]).transpose(2, 0, 1))
        close = (line > 300) & (line < 2500)
        return road[close] / line[close]

    spots = [
        p for p in city.places if p.kind in (PlaceKind.COMPOUND, PlaceKind.LANDMARK, PlaceKind.INTERSECTION)
    ]
    island = [p for p in spots if p.district == "明珠区"]
    mainland = [p for p in spots if p.district == "明湾区"]
    across = ratios(island, mainland)
    same_side = ratios(mainland, mainland)
    assert len(across) >= 20 and len(same_side) >= 500
    assert across.max() > 1.4, "some pair across the water is much further by road"
    assert np.median(across) > 1.4
    assert np.median(same_side) < 1.4


def test_stations_units_and_hospitals(city: demo_city.DemoCity) -> None:
    assert 10 <= len(city.stations) <= 14
    assert len({s.code for s in city.stations}) == len(city.stations)
    assert all(s.name and s.name_en and s.district for s in city.stations)
    assert {s.district for s in city.stations} >= {"明湾区", "明珠区", "西江区"}

    assert 36 <= len(city.units) <= 44
    kinds = Counter(u.kind for u in city.units)
    assert kinds[UnitKind.NEGATIVE_PRESSURE] == 2 and kinds[UnitKind.NEONATAL] == 2
    assert kinds[UnitKind.ALS] > len(city.units) / 2 and kinds[UnitKind.BLS] > 0
    assert all(re.fullmatch(r"明湾120-\d{2}", u.call_sign) for u in city.units)
    assert {u.station_code for u in city.units} == {s.code for s in city.stations}
    trackers = [u.tracker_id for u in city.units]
    assert len(set(trackers)) == len(trackers) and all(re.fullmatch(r"\d{15}", t) for t in trackers)

    hospitals = city.hospitals
    assert 6 <= len(hospitals) <= 10
    assert sum(h.district == "明珠区" for h in hospitals) >= 2
    assert {c for h in hospitals for c in h.capabilities} == set(Capability.values)
    assert all(re.fullmatch(r"\+86\d{9,11}", h.phone) for h in hospitals)
    without_board = [h for h in hospitals if not h.has_board]
    assert without_board and all(re.fullmatch(r"\+861\d{10}", h.sms_number) for h in without_board)
    assert {h.level for h in hospitals} >= {"三级甲等", "二级甲等"}


def test_places_for_the_gazetteer(city: demo_city.DemoCity) -> None:
    places = city.places
    assert len(places) >= 300
    kinds = Counter(p.kind for p in places)
    for kind in (PlaceKind.LANDMARK, PlaceKind.COMPOUND, PlaceKind.INTERSECTION, PlaceKind.STATION):
        assert kinds[kind] >= 10, kind
    assert kinds[PlaceKind.HOSPITAL] == len(city.hospitals)
    assert len({p.name for p in places}) == len(places)
    assert all(p.name_en and p.district for p in places)
    crossings = [p for p in places if p.kind == PlaceKind.INTERSECTION]
    assert all(re.fullmatch(r"\S+与\S+交叉口", p.name) for p in crossings)
    names = {p.name for p in places}
    assert {"明湾站", "明江大桥", "明湾大桥", "明湾海底隧道"} <= names
    # On or next to a road: within 60 m of a vertex of the network.
    xy = np.column_stack(demo_city.from_lonlat([p.lon for p in places], [p.lat for p in places]))
    distance, _ = cKDTree(metres(city)).query(xy)
    assert distance.max() < 60


def test_search_keys() -> None:
    assert search_keys("碧水苑") == ("bishuiyuan", "bsy")
    assert search_keys("金色家园") == ("jinsejiayuan", "jsjy")
    assert search_keys("明湾路与滨江大道交叉口") == ("mingwanluyubinjiangdadaojiaochakou", "mwlybjddjck")
    assert search_keys("重庆路") == ("chongqinglu", "cql")  # read in context, not 重 zhong
    assert search_keys("绿洲花园") == ("lvzhouhuayuan", "lzhy")
    assert search_keys("明湾120-01") == ("mingwan12001", "mw12001")
    assert search_keys("") == ("", "")


@pytest.mark.django_db(transaction=True)
def test_make_demo_city_loads_the_city_once() -> None:
    out = io.StringIO()
    call_command("make_demo_city", stdout=out)
    assert "明湾市" in out.getvalue() and "arcs" in out.getvalue()

    network = RoadNetwork.objects.active()
    assert network is not None and network.is_demo
    assert network.arc_count >= 30_000
    assert RoadArc.objects.filter(network=network).count() == network.arc_count
    assert Station.objects.count() >= 10
    assert Unit.objects.count() >= 36
    assert Unit.objects.filter(home_station__isnull=True).count() == 0
    assert Hospital.objects.filter(has_board=False).exists()
    place = Place.objects.get(name="明湾站")
    assert place.pinyin == "mingwanzhan" and place.initials == "mwz" and place.source == "demo"
    assert Place.objects.filter(kind=PlaceKind.COMPOUND).count() >= 100

    before = (
        RoadNetwork.objects.count(),
        Station.objects.count(),
        Unit.objects.count(),
        Hospital.objects.count(),
        Place.objects.count(),
        Event.objects.count(),
    )
    out = io.StringIO()
    call_command("make_demo_city", "--if-missing", stdout=out)
    assert "already loaded" in out.getvalue()
    after = (
        RoadNetwork.objects.count(),
        Station.objects.count(),
        Unit.objects.count(),
        Hospital.objects.count(),
        Place.objects.count(),
        Event.objects.count(),
    )
    assert after == before

    with pytest.raises(CommandError, match="already holds a city"):
        call_command("make_demo_city", stdout=io.StringIO())
