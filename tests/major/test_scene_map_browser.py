"""A major incident's staging point and access route, set on the casualty board's map and seen
live everywhere else, on the demo city: the dispatcher clicks the staging point on the board's
map, then clicks an access route point by point and saves it, then asks for the road route from
the staging point to the scene instead. With no reload, the console's map and the city map page
(the control room) and the tablet of a crew sent there draw the staging point, the route and the
scene; a crew on another job sees nothing of it on its tablet's map. Screenshots at 1920×1080 and
1366×768 (the tablet at 1280×800) in /tmp/major-shots."""

from pathlib import Path

import pytest
from django.core.management import call_command

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.major.actions import declare_major_incident, dispatch_units
from dispatch.models import MajorIncident, Place, Role, User
from fleet.models import Unit, UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")
TABLET = {"width": 1280, "height": 800}
WIDE, SMALL = {"width": 1920, "height": 1080}, {"width": 1366, "height": 768}
CONSOLE_READY, MAP_READY = "#console[data-ready='1']", "#map-page[data-ready='1']"
# The tablet reads its major incident every 5 s; the control room hears the socket at once.
HEAR = 20


@pytest.fixture
def city(triage_defaults):
    call_command("make_demo_city", verbosity=0)


def crew(name: str, unit: Unit) -> User:
    member = User.objects.create_user(name, role=Role.CREW)
    on_shift(member, unit)
    return member


# What the pages' Content-Security-Policy refused (nothing may be: script-src 'self').
REFUSED: list[str] = []


def watched(page):
    page.on("console", lambda m: REFUSED.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def page_of(browser, live_url, user, path, size, ready):  # noqa: F811
    page = watched(signed_in_page(browser, live_url, user, viewport=size))
    page.goto(f"{live_url}{path}")
    page.wait_for_selector(ready)
    page.evaluate("window.notReloaded = true")
    return page


def tablet(browser, live_url, member, unit, size=TABLET):  # noqa: F811
    page = signed_in_page(
        browser,
        live_url,
        member,
        viewport=size,
        has_touch=True,
        geolocation={"latitude": unit.position.y, "longitude": unit.position.x, "accuracy": 10},
        permissions=["geolocation"],
    )
    watched(page).goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet-map.leaflet-container")
    page.evaluate("window.notReloaded = true")
    return page


def shown(page, selector: str, seconds: float = HEAR) -> None:
    wait_until(page, f"!!document.querySelector({selector!r})", seconds=seconds)


def test_staging_and_access_route_set_on_the_board_appear_live(browser, live_url, city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    place = Place.objects.get(name="明湾体育中心")
    scene = create_incident(
        actor=alice,
        caller_number="13800000120",
        location=place.point,
        location_source="gazetteer",
        address="明湾体育中心 东门 <看台> & 'B'",
        chief_complaint="看台坍塌 群体伤",
    )
    free = Unit.objects.filter(status=UnitStatus.AVAILABLE, position__isnull=False).order_by("call_sign")
    first, second, elsewhere = free[0], free[1], free[2]
    tina, _ = crew("tina", first), crew("theo", second)
    major = declare_major_incident(scene, level=3, actor=alice)
    dispatch_units(scene, [first, second], actor=alice, command_unit=first)
    # Another crew on an ordinary job across town.
    uma = crew("uma", elsewhere)
    other_place = Place.objects.exclude(pk=place.pk).order_by("pk").first()
    other = create_incident(
        actor=alice,
        caller_number="13800000121",
        location=other_place.point,
        location_source="gazetteer",
        address=other_place.name,
        priority=2,
        chief_complaint="胸痛",
    )
    dispatch_unit(other, elsewhere, actor=alice)
    major_id = major.pk
    ring = f"#scene-map .major-scene-icon[data-major='{major_id}']"

    board = page_of(browser, live_url, alice, f"/major/{major_id}/", WIDE, ring)
    console = page_of(browser, live_url, alice, "/console/", WIDE, CONSOLE_READY)
    console.click(f"#incident-{scene.pk}")  # the console's map centres on it
    shown(console, f"#console-map .major-scene-icon[data-major='{major_id}']")
    city_map = page_of(browser, live_url, alice, "/map/", WIDE, MAP_READY)
    sent, not_sent = tablet(browser, live_url, tina, first), tablet(browser, live_url, uma, elsewhere)
    shown(sent, f"#tablet-map .major-scene-icon[data-major='{major_id}']")
    assert not board.is_hidden("#scene-tools") and board.is_disabled("#scene-road")  # no staging point yet

    # The staging point: one click on the board's map, a little way from the scene.
    board.click("#scene-staging")
    assert "救护车" in board.inner_text("#scene-hint")
    box = board.locator("#scene-map").bounding_box()
    board.mouse.click(box["x"] + box["width"] / 2 - 70, box["y"] + box["height"] / 2 + 50)
    shown(board, f"#scene-map .major-staging-icon[data-major='{major_id}']", seconds=10)
    staging = MajorIncident.objects.get(pk=major_id).staging_point
    assert staging is not None and staging.distance(place.point) > 0.0003
    for page, where in ((console, "#console-map"), (city_map, "#map"), (sent, "#tablet-map")):
        shown(page, f"{where} .major-staging-icon[data-major='{major_id}']")

    # The access route: three points clicked, one taken back, one more, saved.
    board.click("#scene-route")
    assert board.is_hidden("#scene-staging") and board.is_disabled("#scene-save")
    for dx, dy in ((-160, 120), (-110, 90), (-40, 40), (-90, 70)):
        board.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
        if (dx, dy) == (-40, 40):
            board.click("#scene-undo")
    wait_until(board, "document.querySelectorAll('#scene-map .major-draft-point').length === 3")
    board.click("#scene-save")
    shown(board, f"#scene-map path.major-access[data-major='{major_id}']", seconds=10)
    route = MajorIncident.objects.get(pk=major_id).access_route
    assert route is not None and len(route.coords) == 3
    for page, where in ((console, "#console-map"), (city_map, "#map"), (sent, "#tablet-map")):
        shown(page, f"{where} path.major-access[data-major='{major_id}']")
    SHOTS.mkdir(exist_ok=True)
    board.screenshot(path=str(SHOTS / "scene-board-clicked-1920-zh.png"), full_page=True)

    # The road route from the staging point to the scene instead.
    drawn = console.get_attribute(f"#console-map path.major-access[data-major='{major_id}']", "d")
    board.click("#scene-road")
    wait_until(board, "document.getElementById('scene-hint').textContent.includes('公里')", seconds=15)
    road = MajorIncident.objects.get(pk=major_id)
    assert 2 <= len(road.access_route.coords) <= 200 and road.access_route.coords != route.coords
    start, end = road.access_route.coords[0], road.access_route.coords[-1]
    assert abs(start[0] - road.staging_point.x) + abs(start[1] - road.staging_point.y) < 0.003
    assert abs(end[0] - place.point.x) + abs(end[1] - place.point.y) < 0.003
    wait_until(
        console,
        f"document.querySelector(\"#console-map path.major-access[data-major='{major_id}']\")"
        f"?.getAttribute('d') !== {drawn!r}",
        seconds=HEAR,
    )
    for page in (board, console, city_map, sent, not_sent):
        assert page.evaluate("window.notReloaded")

    # The crew on another job: nothing of the major incident on its map, after a read or two.
    not_sent.wait_for_timeout(6000)
    assert not_sent.locator("#tablet-map [data-major]").count() == 0
    assert not_sent.locator("#tablet-map .major-staging-icon, #tablet-map .major-scene-icon").count() == 0

    board.screenshot(path=str(SHOTS / "scene-board-1920-zh.png"), full_page=True)
    console.screenshot(path=str(SHOTS / "scene-console-1920-zh.png"))
    city_map.screenshot(path=str(SHOTS / "scene-citymap-1920-zh.png"))
    sent.screenshot(path=str(SHOTS / "scene-tablet-1280-zh.png"))
    not_sent.screenshot(path=str(SHOTS / "scene-tablet-elsewhere-1280-zh.png"))
    small = page_of(browser, live_url, alice, f"/major/{major_id}/", SMALL, ring)
    shown(small, f"#scene-map path.major-access[data-major='{major_id}']", seconds=10)
    assert small.evaluate("document.documentElement.scrollWidth <= innerWidth")
    small.screenshot(path=str(SHOTS / "scene-board-1366-zh.png"), full_page=True)
    console_small = page_of(browser, live_url, alice, "/console/", SMALL, CONSOLE_READY)
    console_small.click(f"#incident-{scene.pk}")
    shown(console_small, f"#console-map .major-staging-icon[data-major='{major_id}']")
    console_small.screenshot(path=str(SHOTS / "scene-console-1366-zh.png"))
    phone = tablet(browser, live_url, tina, first, size={"width": 390, "height": 844})
    shown(phone, f"#tablet-map .major-staging-icon[data-major='{major_id}']")
    phone.screenshot(path=str(SHOTS / "scene-phone-390-zh.png"))
    assert REFUSED == []


def test_the_board_map_in_english_for_a_watching_admin(browser, live_url, city):  # noqa: F811
    """An admin follows the board: the map and its legend, in English, without the controls."""
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    erin = User.objects.create_user("erin", role=Role.ADMIN, is_staff=True)
    place = Place.objects.get(name="明湾体育中心")
    incident = create_incident(
        actor=alice,
        caller_number="13800000120",
        location=place.point,
        location_source="gazetteer",
        address=place.name,
        chief_complaint="explosion",
    )
    major = declare_major_incident(incident, level=1, actor=alice)
    page = signed_in_page(browser, live_url, erin, viewport={"width": 1366, "height": 768})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    page.goto(f"{live_url}/major/{major.pk}/")
    page.wait_for_selector(f"#scene-map .major-scene-icon[data-major='{major.pk}']")
    assert "staging point" in page.inner_text(".scene-legend") and page.inner_text("#legend-staging") == "S"
    assert page.is_hidden("#scene-tools")
    assert "Major incident Ⅰ" in page.inner_text(f"#scene-map .major-scene-icon[data-major='{major.pk}']")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "scene-board-1366-en.png"), full_page=True)
