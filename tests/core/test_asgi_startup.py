"""What an app node does when daphne loads it, before any request: every route imported (so the
first dispatcher after a restart or failover does not wait seconds for it), the road router and
the coverage demand built in a thread of its own, and the interpreter's switch interval
shortened for the event loop's sake (dispatch/asgi.py)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from fleet.roads import router as roads
from fleet.roads.router import warm_router
from fleet.roads.store import save_network
from tests.support.road_grids import river_city

PROBE = (
    "import sys, threading; import dispatch.asgi; "
    "print('dispatch.api' in sys.modules, 'dispatch.reports.api' in sys.modules, sys.getswitchinterval(), "
    "any(t.name == 'warm-up' for t in threading.enumerate()))"
)


def test_loading_the_app_loads_every_route_and_shortens_the_switch_interval():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    api, reports, interval, warming = done.stdout.split()
    assert (api, reports) == ("True", "True")
    # Imported by a test or a command, not by daphne's command line: no router built from
    # whatever database the settings name.
    assert warming == "False"
    assert float(interval) == settings.INTERPRETER_SWITCH_INTERVAL_S < 0.005


WITHOUT_A_DATABASE = (
    "import gc, threading, daphne.cli, dispatch.asgi; "
    "[t.join(60) for t in threading.enumerate() if t.name == 'warm-up']; print('up', gc.get_freeze_count())"
)


def test_an_app_node_comes_up_while_its_database_does_not_answer():
    """The router is built ahead of the first request in a thread of its own: a node whose
    database is down (a failover under way) still loads, and builds the router on first use.
    The heap loaded by then is set aside from the garbage collector all the same: a full
    collection walking it stopped the process for 160 to 190 ms each time."""
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:secret@127.0.0.1:9/none", "DB_POOL": "0"}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_A_DATABASE],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    up, frozen = done.stdout.split()
    assert up == "up" and int(frozen) > 100_000, done.stdout
    assert "road router not built ahead of the first request" in done.stderr
    assert "coverage demand not built ahead of the first request" in done.stderr


@pytest.mark.django_db
def test_the_router_is_built_and_searched_before_the_first_request(fresh_router):
    save_network(river_city(), "river city", "tests/core/test_asgi_startup.py")
    assert roads._state.router is None
    warm_router()
    built = roads._state.router
    assert built is not None and built.vertex_count == len(river_city().lon)


@pytest.mark.django_db
def test_the_coverage_demand_is_built_before_the_first_request(fresh_router):
    """Otherwise the first call weighing coverage after a start builds it in its recommendation."""
    from dispatch.coverage import live

    save_network(river_city(), "river city", "tests/core/test_asgi_startup.py")
    live.refresh()
    assert live._cache.generation is None
    live.warm_demand()
    built = live._cache.generation
    assert built is not None and built.demand.by_road
    assert built.demand.network_id == roads.get_router().network_id
    live.refresh()
