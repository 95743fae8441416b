"""The named test world (docs/house-style.md, practice 11) and shared fixtures.

Real PostgreSQL/PostGIS and Redis from var/env; nothing of ours is mocked.
"""

import sys
from contextlib import suppress

import pytest
from django.contrib.gis.geos import Point

from dispatch.core import ratelimit

# One daphne for the whole run: a session fixture imported into each test module would be a
# separate fixture per module, each server kept alive until the end of the run.
from tests.support.browser import live_url  # noqa: F401  (fixture)


@pytest.fixture
def world(db):
    """A small city: two stations, four units each with a crew on shift, two hospitals and one
    user per role."""
    from dispatch.models import Role, User
    from dispatch.registry.actions import create_hospital, create_station, create_unit
    from tests.support.roster import on_shift

    class World:
        pass

    w = World()
    w.north = create_station("N1", "北站", Point(119.60, 24.95, srid=4326), name_en="North")
    w.south = create_station("S1", "南站", Point(119.60, 24.85, srid=4326), name_en="South")
    w.als1 = create_unit("T-ALS-1", "als", home_station=w.north, tracker_id="dev-als1")
    w.als2 = create_unit("T-ALS-2", "als", home_station=w.south)
    w.bls1 = create_unit("T-BLS-1", "bls", home_station=w.north)
    w.neg1 = create_unit("T-NEG-1", "negative_pressure", home_station=w.south)
    w.city = create_hospital(
        "市第一人民医院", Point(119.61, 24.93, srid=4326), capabilities=["chest_pain", "stroke", "pci", "ct"]
    )
    w.county = create_hospital("县人民医院", Point(119.58, 24.86, srid=4326), capabilities=["ct"])
    w.alice = User.objects.create_user("alice", password="pw-alice-120", role=Role.DISPATCHER)
    w.bob = User.objects.create_user("bob", password="pw-bob-120", role=Role.SUPERVISOR)
    w.carol = User.objects.create_user("carol", password="pw-carol-120", role=Role.CREW)
    w.dave = User.objects.create_user("dave", password="pw-dave-120", role=Role.HOSPITAL, hospital=w.city)
    w.erin = User.objects.create_user("erin", password="pw-erin-120", role=Role.ADMIN, is_staff=True)
    w.frank = User.objects.create_user(
        "frank", password="pw-frank-120", role=Role.HOSPITAL, hospital=w.county
    )
    # Every unit staffed, as on a working day: a unit nobody is on shift on is not sent
    # (REQUIRE_CREW_ON_SHIFT). Their crews (crew-t-als-1...) have no password; carol stays free
    # for the shift a test gives her.
    for unit in (w.als1, w.als2, w.bls1, w.neg1):
        on_shift(User.objects.create_user(f"crew-{unit.call_sign.lower()}", role=Role.CREW), unit)
    return w


@pytest.fixture(autouse=True)
def browser_pages_closed_and_clean():
    """After a browser test: close its pages and fail it if any of them threw (tests/browser.py)."""
    yield
    pages = sys.modules.get("tests.support.browser")
    if pages is None:
        return
    errors = list(pages.PAGE_ERRORS)
    pages.PAGE_ERRORS.clear()
    while pages.OPEN_CONTEXTS:
        with suppress(Exception):  # the browser may already be gone
            pages.OPEN_CONTEXTS.pop().close()
    assert not errors, "the page threw:\n" + "\n".join(errors)


@pytest.fixture(autouse=True)
def force_login_passes_second_factor(monkeypatch):
    """force_login signs a user in completely: the session has passed the second factor too (a
    supervisor's or an administrator's is required), with the user's authenticator, given to
    them if they have none. Tests of signing in with it use tests/support/two_factor.py."""
    from django.test.client import ClientMixin

    from tests.support import two_factor

    monkeypatch.setattr(ClientMixin, "force_login", two_factor.force_login_past_second_factor)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs seconds per test world; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def rate_limits_start_empty():
    """Each test starts a fresh minute for dispatch/core/ratelimit.py: its counts live in the
    process, and every in-process test client comes from the same address."""
    yield
    for counter in ratelimit.COUNTERS.values():
        counter.clear()


@pytest.fixture(autouse=True)
def centre_language_active():
    """Each test starts in the centre's language. A request through the test client leaves the
    language its LocaleMiddleware chose active in this thread, so an English request would make
    the next test's actions answer in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own channel layer object. channels_redis keeps a receive lock on the
    layer; a socket test whose event loop ended while a receive held it would leave it locked,
    bound to a dead loop, for every later test's sockets in this process."""
    from channels.layers import channel_layers

    yield
    channel_layers.backends.clear()


@pytest.fixture
def triage_defaults(db) -> None:
    """The default triage protocols. A data migration puts them in, but the flush after any
    transactional test empties the table, so tests that triage load them again."""
    import importlib

    from django.apps import apps

    importlib.import_module("dispatch.migrations.0005_default_triage_protocols").load_defaults(apps, None)


@pytest.fixture
def assignment(world):
    """Carol on shift on T-ALS-1, sent to an incident with the city hospital as destination."""
    from tests.support.crew_tablet import job

    return job(world, world.als1, hospital=world.city, crew=world.carol)


@pytest.fixture
def tablet(world):
    """Carol's tablet: a test client signed in as her (tests/crew_tablet.py posts through it)."""
    from tests.support.crew_tablet import signed_in

    return signed_in(world.carol)


@pytest.fixture
def grid(fresh_router):
    """tests/er_helpers.py's street grid as the road network, for a router that loads it afresh."""
    from tests.support.er_helpers import load_grid

    load_grid()


@pytest.fixture
def fresh_router(settings, tmp_path):
    """No router left over from another test's network; road caches outside var/."""
    from fleet.roads.router import reset_router

    settings.ROAD_CACHE_DIR = tmp_path
    reset_router()
    yield
    reset_router()
