"""Road network readers: the real reference files, and every kind of bad input."""

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from fleet.models import RoadClass
from fleet.roads.data import RoadDataError
from fleet.roads.readers import (
    has_reverse,
    osm_direction,
    osm_road_class,
    osm_speed_kmh,
    read_city_files,
    read_osm_pbf,
    road_class_from_speed,
)
from tests.support.shared_data import shared_data

# ------------------------------------------------------------------------------------------
# the reference data


def test_haikou_reads_whole() -> None:
    stages = []
    data = read_city_files(shared_data("roads"), "Haikou", progress=lambda s, f: stages.append((s, f)))
    assert (data.vertex_count, data.arc_count) == (45_948, 98_566)
    assert data.lat.min() > 19.5 and data.lat.max() < 20.2
    assert data.lon.min() > 110.0 and data.lon.max() < 110.8
    assert not data.oneway.any()  # the README: every arc has a reverse arc
    assert data.names == []
    assert set(np.unique(data.road_class)) <= {int(c) for c in RoadClass}
    # 80% of 30 km/h residential streets are recovered as residential
    residential = np.isclose(data.length_m / data.time_s * 3.6, 24.0, rtol=1e-3)
    assert (data.road_class[residential] == RoadClass.RESIDENTIAL).all()
    assert stages[0][0].startswith("reading Haikou.co") and stages[-1] == ("validating", 1.0)


def test_nanjing_reads_whole_from_a_single_file_path() -> None:
    data = read_city_files(shared_data("roads", "Nanjing.road-d.tar.gz"))
    assert (data.vertex_count, data.arc_count) == (146_839, 321_958)
    # 18 arcs of 0 m join duplicate nodes; they are accepted, nothing else is zero
    assert int((data.length_m == 0).sum()) == 18


def test_baltimore_osm_respects_one_way_streets() -> None:
    notices = []
    data = read_osm_pbf(shared_data("osm", "baltimore.osm.pbf"), notice=notices.append)
    # every node of a drivable way is a vertex; pyrosm counts 8,881 nodes / 10,158 edges on a
    # narrower filter (no private or emergency roads), so the same order of size
    assert 8_000 < data.vertex_count < 14_000
    assert 15_000 < data.arc_count < 30_000
    assert len(data.names) == data.arc_count
    reverse = has_reverse(data.src, data.dst, data.vertex_count)
    assert (data.oneway == ~reverse).mean() > 0.99
    names = np.array(data.names)
    monument = names == "East Monument Street"  # one-way in OSM
    assert monument.sum() > 20
    assert data.oneway[monument].all() and not reverse[monument].any()
    chase = names == "East Chase Street"  # two-way
    assert chase.sum() > 20 and reverse[chase].all() and not data.oneway[chase].any()
    interstate = names == "I 95"  # a motorway: one-way carriageways implied
    assert interstate.any() and data.oneway[interstate].all()
    assert (data.road_class[interstate] == RoadClass.MOTORWAY).all()
    # 25 mph streets: 80% of 40.2 km/h
    speed = data.length_m / data.time_s * 3.6
    assert np.isclose(speed, 0.8 * 25 * 1.609344, rtol=1e-6).any()
    assert notices and "dropped" in notices[0]  # the extract's cut-off pieces


# ------------------------------------------------------------------------------------------
# OSM tags


def test_osm_tags() -> None:
    assert osm_direction({"highway": "residential", "oneway": "yes"}) == 1
    assert osm_direction({"highway": "residential", "oneway": "-1"}) == -1
    assert osm_direction({"highway": "residential"}) == 0
    assert osm_direction({"highway": "primary", "junction": "roundabout"}) == 1
    assert osm_direction({"highway": "motorway"}) == 1
    assert osm_direction({"highway": "motorway", "oneway": "no"}) == 0
    assert osm_speed_kmh({"maxspeed": "25 mph"}, RoadClass.RESIDENTIAL) == pytest.approx(40.2336)
    assert osm_speed_kmh({"maxspeed": "50"}, RoadClass.RESIDENTIAL) == 50
    assert osm_speed_kmh({"maxspeed": "none"}, RoadClass.PRIMARY) == 100
    assert osm_road_class({"highway": "footway"}) is None
    assert osm_road_class({"highway": "service", "service": "parking_aisle"}) is None
    assert osm_road_class({"highway": "service", "access": "no", "emergency": "yes"}) == RoadClass.SERVICE
    assert osm_road_class({"highway": "trunk_link"}) == RoadClass.LINK


def test_speed_gives_the_class() -> None:
    speeds = np.array([96.0, 80.0, 56.0, 48.0, 40.0, 24.0, 8.0, 4.0, 0.0])
    assert road_class_from_speed(speeds).tolist() == [
        RoadClass.TRUNK,
        RoadClass.PRIMARY,
        RoadClass.TERTIARY,
        RoadClass.LINK,
        RoadClass.UNCLASSIFIED,
        RoadClass.RESIDENTIAL,
        RoadClass.SERVICE,
        RoadClass.LIVING_STREET,
        RoadClass.UNCLASSIFIED,
    ]


def write_osm(path: Path) -> None:
    """A square of two-way streets (one named and one-way) and a one-way stub leaving it."""
    import osmium

    coords = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.001, 0.001), 4: (0.0, 0.001), 5: (0.002, 0.0)}
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in coords.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
        ways = [
            (10, [1, 2, 3], {"highway": "residential"}),
            (11, [3, 4], {"highway": "residential", "name": "单行路", "oneway": "yes"}),
            (12, [4, 1], {"highway": "residential"}),
            (13, [2, 5], {"highway": "service", "oneway": "yes"}),  # dead end: no way back
            (14, [1, 3], {"highway": "footway"}),
        ]
        for way_id, nodes, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))


def test_osm_keeps_the_largest_strong_component_and_says_what_it_dropped(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm.pbf"
    write_osm(path)
    notices = []
    data = read_osm_pbf(path, notice=notices.append)
    assert data.vertex_count == 4  # node 5 dropped: it can be reached but never left
    assert data.arc_count == 7  # 3 two-way segments (6 arcs) and the one-way 3 -> 4
    assert notices and "dropped 1 of 5 vertices" in notices[0]
    assert data.names.count("单行路") == 1
    one_way = data.names.index("单行路")
    assert data.oneway[one_way] and data.road_class[one_way] == RoadClass.RESIDENTIAL


def test_osm_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RoadDataError, match="missing file"):
        read_osm_pbf(tmp_path / "nowhere.osm.pbf")
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not a protocol buffer" * 10)
    with pytest.raises(RoadDataError, match="junk.osm.pbf"):
        read_osm_pbf(junk)


# ------------------------------------------------------------------------------------------
# small city files, good and bad

# a square 0-1-2-3 about 111 m a side, every street two-way, residential (24 km/h)
CO = (
    "# test\n# this road network has 4 vertices\n4\n"
    "20.000 110.000\n20.000 110.001\n20.001 110.001\n20.001 110.000\n"
)
ARCS = [
    (0, 1, 104.5),
    (1, 0, 104.5),
    (1, 2, 111.2),
    (2, 1, 111.2),
    (2, 3, 104.5),
    (3, 2, 104.5),
    (3, 0, 111.2),
    (0, 3, 111.2),
]


def arcs_text(arcs: list[tuple], unit: str = "d") -> str:
    head = f"# test\n# this road network has 4 vertices and {len(arcs)} edges\n"
    body = "".join(
        f"{u} {v} {x if unit == 'd' else x / (24 / 3.6)}\n" if not isinstance(x, str) else f"{u} {v} {x}\n"
        for u, v, x in arcs
    )
    return head + body


def write_city(directory: Path, co: str = CO, road_d: str | None = None, road_t: str | None = None) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "Test.co").write_text(co)
    (directory / "Test.road-d").write_text(road_d if road_d is not None else arcs_text(ARCS, "d"))
    (directory / "Test.road-t").write_text(road_t if road_t is not None else arcs_text(ARCS, "t"))
    return directory / "Test"


def test_small_city_reads(tmp_path: Path) -> None:
    data = read_city_files(write_city(tmp_path))
    assert (data.vertex_count, data.arc_count) == (4, 8)
    assert data.lat[2] == 20.001 and data.lon[2] == 110.001
    assert (data.road_class == RoadClass.RESIDENTIAL).all()


def test_small_city_reads_from_tar_gz_in_a_directory(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write_city(plain)
    packed = tmp_path / "packed"
    packed.mkdir()
    for suffix in (".co", ".road-d", ".road-t"):
        with tarfile.open(packed / f"Test{suffix}.tar.gz", "w:gz") as archive:
            archive.add(plain / f"Test{suffix}", arcname=f"Test{suffix}")
    data = read_city_files(packed)  # the only city in the directory
    assert (data.vertex_count, data.arc_count) == (4, 8)


def test_missing_file(tmp_path: Path) -> None:
    prefix = write_city(tmp_path)
    (tmp_path / "Test.road-t").unlink()
    with pytest.raises(RoadDataError, match=r"missing file: .*Test\.road-t"):
        read_city_files(prefix)


def test_truncated_line(tmp_path: Path) -> None:
    road_d = arcs_text(ARCS, "d").rsplit("\n", 2)[0] + "\n3 0\n"
    prefix = write_city(tmp_path, road_d=road_d)
    with pytest.raises(RoadDataError, match=r"Test\.road-d line 10: expected 3 fields .*found 2 field"):
        read_city_files(prefix)


def test_truncated_file_is_caught_by_the_declared_count(tmp_path: Path) -> None:
    prefix = write_city(tmp_path, co=CO.rsplit("\n", 2)[0] + "\n")
    with pytest.raises(RoadDataError, match="declares 4 vertices but holds 3"):
        read_city_files(prefix)


def test_truncated_archive(tmp_path: Path) -> None:
    prefix = write_city(tmp_path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(tmp_path / "Test.road-d", arcname="Test.road-d")
    (tmp_path / "Test.road-d").unlink()
    (tmp_path / "Test.road-d.tar.gz").write_bytes(buffer.getvalue()[:-40])
    with pytest.raises(RoadDataError, match=r"Test\.road-d\.tar\.gz: cannot read"):
        read_city_files(prefix)


def test_malformed_number(tmp_path: Path) -> None:
    arcs = list(ARCS)
    arcs[4] = (2, 3, "10,5")
    prefix = write_city(tmp_path, road_d=arcs_text(arcs, "d"))
    with pytest.raises(RoadDataError, match=r"Test\.road-d line 7: metres '10,5' is not a number"):
        read_city_files(prefix)


def test_malformed_vertex_id(tmp_path: Path) -> None:
    road_t = arcs_text(ARCS, "t").replace("\n2 3 ", "\n2.0 3 ")
    prefix = write_city(tmp_path, road_t=road_t)
    with pytest.raises(RoadDataError, match=r"Test\.road-t line 7: u '2.0' is not a whole number"):
        read_city_files(prefix)


def test_coordinates_out_of_range(tmp_path: Path) -> None:
    prefix = write_city(tmp_path, co=CO.replace("20.001 110.001", "110.001 20.001"))
    with pytest.raises(RoadDataError, match=r"Test\.co line 6: coordinates out of range"):
        read_city_files(prefix)


def test_arc_to_unknown_vertex(tmp_path: Path) -> None:
    arcs = [*ARCS, (3, 4, 50.0)]
    prefix = write_city(tmp_path, road_d=arcs_text(arcs, "d"), road_t=arcs_text(arcs, "t"))
    with pytest.raises(RoadDataError, match=r"Test\.road-d line 11: arc 3 -> 4 names an unknown vertex"):
        read_city_files(prefix)


def test_road_d_and_road_t_disagree(tmp_path: Path) -> None:
    prefix = write_city(tmp_path, road_t=arcs_text(ARCS[:-1], "t"))
    with pytest.raises(RoadDataError, match=r"Test\.road-d has 8 arcs but Test\.road-t has 7"):
        read_city_files(prefix)
    swapped = [ARCS[1], ARCS[0], *ARCS[2:]]
    prefix = write_city(tmp_path, road_t=arcs_text(swapped, "t"))
    with pytest.raises(
        RoadDataError, match=r"Test\.road-d line 3 is arc 0 -> 1 but Test\.road-t line 3 is 1 -> 0"
    ):
        read_city_files(prefix)


def test_non_positive_and_non_finite_values(tmp_path: Path) -> None:
    for bad, message in (("-5", "length -5.0"), ("nan", "length nan"), ("inf", "length inf")):
        arcs = list(ARCS)
        arcs[2] = (1, 2, bad)
        prefix = write_city(tmp_path, road_d=arcs_text(arcs, "d"))
        with pytest.raises(RoadDataError, match=rf"Test\.road-d line 5: {message} .*must be a positive"):
            read_city_files(prefix)
    arcs = list(ARCS)
    arcs[2] = (1, 2, "0")  # zero between vertices 111 m apart
    prefix = write_city(tmp_path, road_d=arcs_text(arcs, "d"))
    with pytest.raises(RoadDataError, match=r"line 5.*111\.\d m apart"):
        read_city_files(prefix)


def test_unconnected_graph(tmp_path: Path) -> None:
    # the square loses the street 1-2 and 2-3 becomes one-way 3 -> 2: vertex 2 is a trap
    arcs = [ARCS[0], ARCS[1], ARCS[5], ARCS[6], ARCS[7]]
    prefix = write_city(tmp_path, road_d=arcs_text(arcs, "d"), road_t=arcs_text(arcs, "t"))
    with pytest.raises(
        RoadDataError, match=r"not strongly connected: 2 components.*1 of 4 vertices \(25\.0%\)"
    ):
        read_city_files(prefix)


def test_several_cities_in_a_directory_need_a_name(tmp_path: Path) -> None:
    write_city(tmp_path)
    (tmp_path / "Other.co").write_text(CO)
    with pytest.raises(RoadDataError, match=r"several cities \(Other, Test\)"):
        read_city_files(tmp_path)
    assert read_city_files(tmp_path, "Test").arc_count == 8
