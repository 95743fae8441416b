"""`manage.py import_roads` end to end into PostGIS, and the router that picks the result up."""

import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from fleet.models import RoadArc, RoadNetwork, RoadVertex
from fleet.roads.readers import read_city_files
from fleet.roads.router import get_router
from fleet.roads.store import load_network, save_network
from tests.support.shared_data import shared_data

# A small town: a square of two-way streets about 111 m a side, with a one-block spur.
CO = """# test town
5
20.000 110.000
20.000 110.001
20.001 110.001
20.001 110.000
20.002 110.001
"""
ARCS = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2), (3, 0), (0, 3), (2, 4), (4, 2)]


def write_town(directory: Path, name: str = "Town", speed_kmh: float = 24.0) -> Path:
    """City files for the town; lengths are straight-line metres, time at speed_kmh."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [tuple(map(float, line.split())) for line in CO.splitlines()[2:]]
    lat = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    d_lines, t_lines = ["# test"], ["# test"]
    for u, v in ARCS:
        metres = 6_371_008.8 * np.radians(
            np.hypot((lon[v] - lon[u]) * np.cos(np.radians(lat[u])), lat[v] - lat[u])
        )
        d_lines.append(f"{u} {v} {metres:.6f}")
        t_lines.append(f"{u} {v} {metres / (speed_kmh / 3.6):.6f}")
    (directory / f"{name}.co").write_text(CO)
    (directory / f"{name}.road-d").write_text("\n".join(d_lines) + "\n")
    (directory / f"{name}.road-t").write_text("\n".join(t_lines) + "\n")
    return directory / name


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roads", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


pytestmark = pytest.mark.usefixtures("fresh_router")


@pytest.mark.django_db(transaction=True)
def test_a_small_network_imports_and_becomes_active(tmp_path: Path) -> None:
    prefix = write_town(tmp_path / "town")
    out, err = run(str(prefix), "--name", "测试镇")
    network = RoadNetwork.objects.get()
    assert network.is_active and network.name == "测试镇"
    assert (network.vertex_count, network.arc_count) == (5, 10)
    assert "5 vertices, 10 arcs (active)" in out
    assert "reading Town.co" in err and "writing arcs" in err and "activating" in err
    assert RoadVertex.objects.filter(network=network).count() == 5
    assert RoadArc.objects.filter(network=network).count() == 10
    arc = RoadArc.objects.get(network=network, idx=8)  # 2 -> 4
    assert (arc.source, arc.target) == (2, 4)
    assert arc.geom.coords == ((110.001, 20.001), (110.001, 20.002))
    vertex = RoadVertex.objects.get(network=network, idx=4)
    assert (vertex.point.x, vertex.point.y) == (110.001, 20.002)
    # read back exactly what the files hold
    loaded = load_network(network)
    original = read_city_files(prefix)
    for field in ("lon", "lat", "src", "dst", "length_m", "time_s", "road_class", "oneway"):
        assert np.array_equal(getattr(loaded, field), getattr(original, field)), field
    assert (Path(settings.ROAD_CACHE_DIR) / f"roads-{network.pk}.npz").exists()
    assert (Path(settings.ROAD_CACHE_DIR) / f"roads-{network.pk}-hierarchy.npz").exists()  # warmed
    again = load_network(network)  # from the cache file
    assert np.array_equal(again.time_s, original.time_s)


@pytest.mark.django_db(transaction=True)
def test_a_bad_file_leaves_the_active_network_untouched(tmp_path: Path) -> None:
    run(str(write_town(tmp_path / "good")))
    good = RoadNetwork.objects.get(is_active=True)
    bad = write_town(tmp_path / "bad")
    text = Path(f"{bad}.road-t").read_text().splitlines()
    Path(f"{bad}.road-t").write_text("\n".join(text[:-1]) + "\n")  # one arc short
    with pytest.raises(
        CommandError, match=r"not imported: .*Town\.road-d has 10 arcs but Town\.road-t has 9"
    ):
        run(str(bad))
    with pytest.raises(CommandError, match=r"missing file"):
        run(str(tmp_path / "nowhere" / "Town"))
    assert list(RoadNetwork.objects.values_list("pk", "is_active")) == [(good.pk, True)]
    assert RoadArc.objects.filter(network=good).count() == 10


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_writing_rolls_everything_back(tmp_path: Path) -> None:
    run(str(write_town(tmp_path / "good")))
    good = RoadNetwork.objects.get(is_active=True)
    data = read_city_files(write_town(tmp_path / "other"))
    data.names = ["ok"] * (data.arc_count - 1) + ["bad\x00name"]  # PostgreSQL refuses NUL in text
    with pytest.raises(Exception, match="(?i)nul|0x00"):
        save_network(data, name="broken", source="test")
    assert list(RoadNetwork.objects.values_list("pk", "is_active")) == [(good.pk, True)]
    assert RoadArc.objects.count() == 10 and RoadVertex.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_get_router_picks_up_the_new_network(tmp_path: Path, settings: Settings) -> None:
    settings.ROAD_ROUTER_CHECK_SECONDS = 0
    assert get_router() is None  # no network yet
    run(str(write_town(tmp_path / "slow", speed_kmh=24.0)))
    first = get_router()
    settings.ROAD_ROUTER_CHECK_SECONDS = 3600
    slow = RoadNetwork.objects.get(is_active=True)
    assert first is not None and first.network_id == slow.pk
    assert first.hierarchy is not None  # the import left its hierarchy in the cache
    a, b = (110.0, 20.0), (110.001, 20.002)  # corner to the end of the spur
    slow_time = first.travel_times_to(b[0], b[1], [a]).seconds[0]
    assert slow_time == pytest.approx((104.5 + 111.2 + 111.2) / (24 / 3.6), rel=0.01)

    run(str(write_town(tmp_path / "fast", speed_kmh=48.0)), "--name", "fast")
    assert get_router() is first  # not checked again yet
    settings.ROAD_ROUTER_CHECK_SECONDS = 0
    second = get_router()
    fast = RoadNetwork.objects.get(is_active=True)
    assert fast.name == "fast" and second is not first and second.network_id == fast.pk
    assert second.travel_times_to(b[0], b[1], [a]).seconds[0] == pytest.approx(slow_time / 2, rel=1e-6)
    assert RoadNetwork.objects.get(pk=slow.pk).is_active is False


@pytest.mark.django_db(transaction=True)
def test_import_without_activating_keeps_the_current_network(tmp_path: Path) -> None:
    run(str(write_town(tmp_path / "one")))
    out, _ = run(str(write_town(tmp_path / "two")), "--no-activate", "--name", "spare")
    assert "(not active)" in out
    assert RoadNetwork.objects.get(is_active=True).name == "Town"
    assert RoadNetwork.objects.get(name="spare").arc_count == 10


@pytest.mark.django_db(transaction=True)
def test_osm_extract_imports_with_names(tmp_path: Path) -> None:
    pbf = shared_data("osm", "baltimore.osm.pbf")
    out, err = run(str(pbf))
    network = RoadNetwork.objects.get(is_active=True)
    assert network.name == "baltimore" and "note: kept the largest" in err
    assert f"{network.arc_count:,} arcs (active)" in out
    assert RoadArc.objects.filter(network=network, name="East Monument Street", oneway=True).count() > 20
    router = get_router()
    hopkins = (-76.5925, 39.2965)  # Johns Hopkins Hospital
    times = router.travel_times_to(*hopkins, [(-76.58, 39.29), (-76.60, 39.30)])
    assert np.isfinite(times.seconds).all() and (times.seconds > 0).all()
