"""What is busy, at a glance: the console's unit board groups the demo city's 40 units by station,
stations with a unit on a job first, each unit a tile with its status in colour and in words, its
call sign, kind and time in status (ticking), and why it is out of service. At 1920x1080 and at
1366x768 every busy unit is on screen without scrolling anything (the board scrolls in its own
box, never the page); at 1920x1080 the whole fleet is. All, free, busy or out of service: by the
radio buttons, or B from the keyboard, which the help lists."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from dispatch.models import Role, User
from dispatch.units.actions import set_unit_status
from fleet.models import Station, Unit, UnitStatus
from tests.support.browser import browser, live_url  # noqa: F401  (fixtures)
from tests.support.busy_city import busy_shift
from tests.support.console_desk import demo_city, open_console  # noqa: F401
from tests.support.page_waits import wait_until
from tests.support.unit_board import box, page_scrolled, seen_without_scrolling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"
# citymap.js STATUS_COLOR, as the browser computes it: one colour per status on every screen.
COLOUR = {
    UnitStatus.AVAILABLE: "rgb(42, 157, 75)",
    UnitStatus.DISPATCHED: "rgb(214, 40, 40)",
    UnitStatus.EN_ROUTE: "rgb(232, 93, 4)",
    UnitStatus.ON_SCENE: "rgb(123, 44, 191)",
    UnitStatus.TRANSPORTING: "rgb(29, 78, 216)",
    UnitStatus.AT_HOSPITAL: "rgb(14, 116, 144)",
    UnitStatus.OUT_OF_SERVICE: "rgb(107, 114, 128)",
}


def board_ready(page, count: int = 40) -> None:
    wait_until(page, f"document.querySelectorAll('#unit-board .unit-tile').length === {count}")
    page.wait_for_selector("#unit-board .station-name:has-text('急救站')")  # station names read


def shown_units(page) -> list[str]:
    return page.locator("#unit-board .unit-tile .call-sign").all_inner_texts()


@pytest.mark.parametrize("width,height", [(1920, 1080), (1366, 768)])
def test_busy_units_are_on_screen_grouped_by_station(browser, live_url, demo_city, width, height):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    page = open_console(browser, live_url, alice, width, height)
    board_ready(page)
    page.click(f"#incident-{shift.incidents[0].pk}")  # the detail open, as on a shift
    page.wait_for_selector("#detail:not([hidden])")

    # Every tile sits under its own station's name, stations with a unit on a job first.
    sections = page.locator("#unit-board section.station")
    names = sections.locator(".station-name").all_inner_texts()
    assert len(names) == Station.objects.count() == 12
    busy_stations = {u.home_station.name for u in shift.busy}
    assert {n.split()[0] for n in names[: len(busy_stations)]} == busy_stations
    for unit in Unit.objects.select_related("home_station"):
        section = page.locator(f"#unit-board section.station:has(#unit-{unit.pk})")
        assert section.locator(".station-name").inner_text().split()[0] == unit.home_station.name

    # Busy units are in view: no scrolling, neither the board nor the page.
    assert page.evaluate("document.getElementById('unit-board').scrollTop") == 0
    for unit in shift.busy:
        assert seen_without_scrolling(page, f"#unit-{unit.pk}", "#unit-board"), unit.call_sign
    assert not page_scrolled(page)
    if width == 1920:  # the whole fleet fits, with the map above it larger than it was
        assert page.evaluate("(b => b.scrollHeight <= b.clientHeight)(document.getElementById('unit-board'))")
        assert seen_without_scrolling(page, f"#unit-{shift.out.pk}", "#unit-board")
        map_box = box(page, "#console-map")
        assert map_box["width"] >= 500 and map_box["height"] >= 360
    else:  # the board scrolls in its own box, the map keeps a usable size
        assert box(page, "#console-map")["height"] >= 240

    # Each tile: status in words and in its colour, call sign, kind, time in status; why it is out.
    for unit in [*shift.busy, shift.out, shift.free[0]]:
        tile = page.locator(f"#unit-{unit.pk}")
        assert tile.locator(".call-sign").inner_text() == unit.call_sign
        assert tile.locator(".kind").inner_text() in ("监护", "普通", "负压", "新生儿")
        with translation.override("zh-hans"):
            assert tile.locator(".status").inner_text().startswith(str(UnitStatus(unit.status).label))
        assert tile.get_attribute("data-status") == unit.status
        assert tile.evaluate("t => getComputedStyle(t).borderLeftColor") == COLOUR[unit.status]
        assert tile.locator(".since").inner_text().startswith("00:")
    out = page.locator(f"#unit-{shift.out.pk}")
    assert out.locator(".why").inner_text() == "车辆故障：刹车 <b>&"  # as typed, not as markup
    assert "车辆故障" in out.get_attribute("title")
    # No call sign cut short on a tile.
    signs = "[...document.querySelectorAll('#unit-board .call-sign')]"
    assert page.evaluate(f"{signs}.filter(e => e.scrollWidth > e.clientWidth + 1).length") == 0
    # The legend gives every colour its words.
    page.click(".unit-legend summary")
    assert page.locator("#unit-legend-list li").count() == len(UnitStatus)
    assert "转运途中" in page.inner_text("#unit-legend-list")
    page.click(".unit-legend summary")

    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"console_unit_board_{width}x{height}.png"))


def test_time_in_status_ticks_and_restarts_with_a_new_status(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    long_ago = timezone.now() - timedelta(hours=1, minutes=7)
    Unit.objects.filter(pk=shift.out.pk).update(status_changed_at=long_ago)  # out since a while
    page = open_console(browser, live_url, alice, 1920, 1080)
    board_ready(page)
    # The console's own map: each unit on a job with its call sign, at the whole city's zoom.
    for unit in shift.busy:
        assert page.locator(f"#console-map .unit-label[data-unit='{unit.pk}']").is_visible(), unit.call_sign
    assert not page.locator(f"#console-map .unit-label[data-unit='{shift.free[0].pk}']").is_visible()
    page.screenshot(path=str(SCREENS / "console_start_1920x1080.png"))
    en_route = shift.busy[1]
    since = f"#unit-{en_route.pk} .since"
    first = page.inner_text(since)
    wait_until(page, f"document.querySelector('{since}').textContent !== '{first}'", seconds=5)
    minutes, seconds = (int(part) for part in page.inner_text(since).split(":"))
    assert 0 < minutes * 60 + seconds < 120
    assert page.inner_text(f"#unit-{shift.out.pk} .since") in ("1h06", "1h07", "1h08")

    set_unit_status(en_route, UnitStatus.ON_SCENE, actor=alice)  # the crew is there
    page.wait_for_selector(f"#unit-{en_route.pk}[data-status='on_scene'] .status:has-text('到达现场')")
    assert page.inner_text(since) in ("00:00", "00:01", "00:02", "00:03")
    wait_until(page, f"document.querySelector('{since}').textContent >= '00:02'", seconds=5)


def test_all_free_busy_and_out_by_buttons_and_by_key(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    page = open_console(browser, live_url, alice, 1366, 768)
    board_ready(page)
    counts = page.locator("#unit-show label").all_inner_texts()
    assert [c.split() for c in counts] == [["全部", "40"], ["可派", "33"], ["任务中", "6"], ["停用", "1"]]

    busy = sorted(u.call_sign for u in shift.busy)
    page.keyboard.press("b")  # free
    wait_until(page, "document.querySelectorAll('#unit-board .unit-tile').length === 33")
    assert set(shown_units(page)) == {u.call_sign for u in shift.free}
    page.keyboard.press("b")  # busy
    wait_until(page, "document.querySelectorAll('#unit-board .unit-tile').length === 6")
    assert sorted(shown_units(page)) == busy
    for unit in shift.busy:
        assert seen_without_scrolling(page, f"#unit-{unit.pk}", "#unit-board")
    page.keyboard.press("B")  # out of service
    wait_until(page, "document.querySelectorAll('#unit-board .unit-tile').length === 1")
    assert shown_units(page) == [shift.out.call_sign]
    page.keyboard.press("b")  # all again
    wait_until(page, "document.querySelectorAll('#unit-board .unit-tile').length === 40")
    assert page.locator("#unit-show input[value=all]").is_checked()

    # The buttons do the same, and the call-sign filter works within what they show.
    page.click("#unit-show label.busy")
    wait_until(page, "document.querySelectorAll('#unit-board .unit-tile').length === 6")
    page.keyboard.press("u")
    # On a loaded machine the key may land a moment later: type only once the filter has the focus.
    wait_until(page, "document.activeElement && document.activeElement.id === 'unit-filter'")
    page.keyboard.type("-3")
    found = [c for c in busy if "-3" in c]
    wait_until(page, f"document.querySelectorAll('#unit-board .unit-tile').length === {len(found)}")
    assert sorted(shown_units(page)) == found
    page.keyboard.press("ArrowDown")  # into the board, then Enter opens the unit
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#unit-dialog[open] h2:text-is('{shown_units(page)[0]}')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#unit-dialog", state="hidden")

    # The help says so.
    page.keyboard.press("Escape")  # out of the filter, keys back to the console
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts[open]")
    assert "车辆看板" in page.locator("#shortcuts dt:has(kbd:text-is('B')) + dd").inner_text()
