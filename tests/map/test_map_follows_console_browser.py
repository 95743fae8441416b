"""The city map on the dispatcher's second screen: opened from the console's button (a window of
the same browser), it follows the incident the console shows, centred on it with its units in the
side panel; it shows every open incident coloured by priority and labelled with its number, the
call sign of each unit on a job at any zoom, and the road route of each unit on its way: to the
scene, or with the patient to hospital. Screenshots at 1920x1080 and 1366x768."""

from pathlib import Path

import pytest
from django.conf import settings

from dispatch.models import Role, User
from tests.support.browser import PAGE_ERRORS, browser, live_url, signed_in_page  # noqa: F401  (fixtures)
from tests.support.busy_city import busy_shift
from tests.support.console_desk import demo_city, open_console  # noqa: F401
from tests.support.page_waits import wait_until
from tests.support.unit_board import box, inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def map_ready(page) -> None:
    page.wait_for_selector("#map-page[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")


def followed(page, incident) -> None:
    """The map shows `incident` as the one followed: in its panel, marked, and in view."""
    page.wait_for_selector(f"#followed:not([hidden]) .num:text-is('{incident.number}')")
    marker = f".incident-icon.selected[data-incident='{incident.pk}']"
    page.wait_for_selector(marker)
    wait_until(page, "!document.querySelector('#map').classList.contains('leaflet-zoom-anim')")
    page.wait_for_timeout(400)  # the pan's animation
    assert inside(box(page, marker), box(page, "#map")), "the incident followed is off the map"


def test_the_map_window_follows_the_consoles_incident(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    console = open_console(browser, live_url, alice, 1366, 768)
    console.click(f"#incident-{shift.incidents[0].pk}")  # shown before the map is opened
    console.wait_for_selector("#detail:not([hidden])")

    with console.context.expect_page() as opened:
        console.click("#open-map")
    second = opened.value
    second.on("pageerror", lambda error: PAGE_ERRORS.append(f"{second.url}: {error}"))
    second.set_viewport_size({"width": 1920, "height": 1080})
    map_ready(second)
    assert "follow=1" in second.url and second.locator("#follow").is_checked()
    followed(second, shift.incidents[0])  # told at once what the console shows

    # Walking the console's incidents moves the map with it, each time.
    for incident in (shift.incidents[3], shift.incidents[5]):
        console.click(f"#incident-{incident.pk}")
        followed(second, incident)
        assert second.locator(".incident-icon.selected").count() == 1
    panel = second.inner_text("#followed")
    assert "明湾120-02" in panel and "出车途中" in panel and "前往现场" in panel  # its unit, with road time
    second.screenshot(path=str(SCREENS / "map_following_1920x1080.png"))
    second.set_viewport_size({"width": 1366, "height": 768})
    console.click(f"#incident-{shift.incidents[2].pk}")
    followed(second, shift.incidents[2])
    second.screenshot(path=str(SCREENS / "map_following_1366x768.png"))

    # Unfollowed, it stays where the dispatcher put it.
    second.click("#follow")
    console.click(f"#incident-{shift.incidents[1].pk}")
    console.wait_for_timeout(800)
    assert second.inner_text("#followed .num") == shift.incidents[2].number


def test_incidents_by_priority_unit_labels_and_routes(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    page = signed_in_page(browser, live_url, alice, viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_url}/map/")
    map_ready(page)

    # Every open incident, coloured by its priority, labelled with its number.
    page.wait_for_selector(f".incident-icon[data-incident='{shift.incidents[-1].pk}']")
    for incident in shift.incidents:
        marker = page.locator(f".incident-icon[data-incident='{incident.pk}']")
        assert f"p{incident.priority}" in marker.get_attribute("class").split()
        assert marker.locator(".incident-label").inner_text() == incident.number.split("-")[-1]
    colours = {
        p: page.locator(f".incident-icon.p{p}").first.evaluate("e => getComputedStyle(e).backgroundColor")
        for p in (1, 2, 3, 4)
    }
    assert len(set(colours.values())) == 4

    # Units on a job have their call signs on the map at the city's zoom; the free ones do not (yet).
    assert page.evaluate("document.getElementById('map').classList.contains('labels-off')")
    for unit in shift.busy:
        assert page.locator(f".unit-label[data-unit='{unit.pk}']").is_visible(), unit.call_sign
    assert not page.locator(f".unit-label[data-unit='{shift.free[0].pk}']").is_visible()
    for _ in range(2):  # zoomed in: all of them
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(300)
    wait_until(page, "!document.getElementById('map').classList.contains('labels-off')")
    assert page.locator(f".unit-label[data-unit='{shift.free[0].pk}']").is_visible()

    # A road route for each unit on its way: sent or en route to the scene, transporting to hospital.
    on_the_way = {u.pk: u for u in shift.busy if u.status in ("dispatched", "en_route", "transporting")}
    wait_until(page, f"document.querySelectorAll('path.unit-route').length === {len(on_the_way)}")
    for pk, unit in on_the_way.items():
        route = page.locator(f"path.unit-route[data-unit='{pk}']")
        to = "to-hospital" if unit.status == "transporting" else "to-scene"
        assert to in route.get_attribute("class").split()
        assert len(route.get_attribute("d")) > 40  # a line along roads, not a dot
    page.screenshot(path=str(SCREENS / "map_city_1920x1080.png"))
