"""The casualty board in Chromium through a mass-casualty incident, in one page: the dispatcher
registers casualties radioed in by key (R, Y, G, B, one after another), a crew registers more on
its tablet (the API) and the board counts them live with no reload, a casualty is re-triaged, the
plan is made, one destination changed and accepted, and an ER's acknowledgement shows. Screenshots
at 1920×1080 (Chinese and English) and 1366×768 go to /tmp/major-shots."""

from pathlib import Path

import pytest

from dispatch.major.actions import (
    acknowledge_casualty,
    declare_major_incident,
    dispatch_units,
    register_casualty,
)
from dispatch.models import Casualty
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import hold_first_read, pump_until, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")


def board(browser, live_url, user, major, width=1920, height=1080, language=""):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    if language:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    page.goto(f"{live_url}/major/{major.pk}/")
    page.wait_for_selector("#major[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    page.evaluate("window.notReloaded = true")
    return page


def casualties_shown(page, n: int) -> None:
    wait_until(page, f"document.getElementById('major').dataset.casualties === '{n}'", seconds=15)


def test_a_mass_casualty_incident_on_one_board(browser, live_url, world, crash):  # noqa: F811
    major = declare_major_incident(crash, level=3, actor=world.alice, casualties_reported=9)
    dispatch_units(crash, [world.als1, world.als2], actor=world.alice, command_unit=world.als1)
    page = board(browser, live_url, world.alice, major)
    assert "T-ALS-1" in page.inner_text("#unit-list") and "指挥" in page.inner_text("#unit-list")
    assert not page.is_hidden("#casualty-empty")

    for n, key in enumerate("RRYGGB", 1):  # six radioed in, one key each, as fast as they come
        page.keyboard.press(key)
        casualties_shown(page, n)
    assert page.inner_text("#tile-red .big") == "2" and page.inner_text("#tile-black .big") == "1"

    for tag in ("green", "yellow", "green"):  # a crew registers on its tablet
        register_casualty(major, tag=tag, actor=world.carol, unit=world.als1)
    casualties_shown(page, 9)
    assert page.inner_text("#tile-green .big") == "4" and page.evaluate("window.notReloaded")

    # Re-triage a green to red from the table.
    green = Casualty.objects.filter(major=major, tag="green").order_by("pk").first()
    page.select_option(f"select.retag[data-id='{green.pk}']", "red")
    wait_until(page, "document.querySelector('#tile-red .big').textContent === '3'", seconds=10)

    page.click("#plan-button")
    page.wait_for_selector("#plan:not([hidden])")
    rows = page.query_selector_all("#plan-rows tr")
    assert len(rows) == 9
    assert "不转运" in page.inner_text("#plan-rows")  # the black tag
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "plan-1920-zh.png"), full_page=True)
    first_to = page.query_selector("select.plan-to")
    chosen = first_to.get_attribute("data-casualty")
    other = next(
        v
        for v in first_to.eval_on_selector_all("option", "os => os.map(o => o.value)")
        if v != first_to.input_value()
    )
    first_to.select_option(other)
    page.click("#plan-accept")
    page.wait_for_selector("#plan", state="hidden")
    assert Casualty.objects.get(pk=chosen).hospital_id == int(other)
    assert Casualty.objects.filter(major=major, hospital__isnull=True).exclude(tag="black").count() == 0
    wait_until(page, "document.querySelectorAll('.hospital-row').length === 2", seconds=10)

    # The city's ER acknowledges one of its patients: the board shows the tick.
    mine = Casualty.objects.filter(major=major, hospital=world.city).first()
    acknowledge_casualty(mine, actor=world.dave)
    wait_until(
        page, f"document.querySelector('tr[data-id=\"{mine.pk}\"]').textContent.includes('✓')", seconds=10
    )
    assert page.evaluate("window.notReloaded")
    page.screenshot(path=str(SHOTS / "board-1920-zh.png"), full_page=True)


def test_the_board_in_english_and_on_a_small_screen(browser, live_url, world, crash):  # noqa: F811
    major = declare_major_incident(crash, level=2, actor=world.bob)
    for tag in ("red", "yellow", "green", "green", "black"):
        register_casualty(major, tag=tag, actor=world.alice)
    page = board(browser, live_url, world.bob, major, language="en")
    assert "Red, immediate" in page.inner_text("#tile-red")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "board-1920-en.png"), full_page=True)
    small = board(browser, live_url, world.bob, major, width=1366, height=768)
    assert small.evaluate("document.documentElement.scrollWidth <= innerWidth")
    small.screenshot(path=str(SHOTS / "board-1366-zh.png"), full_page=True)
    # An admin follows but does not act: no register buttons.
    watcher = board(browser, live_url, world.erin, major)
    assert watcher.is_hidden("#register-form") and watcher.is_hidden("#plan-box")


def test_a_casualty_told_during_a_read_is_read_after_it(browser, live_url, world, crash):  # noqa: F811
    """The board's read of the picture is held in flight (the answer fetched, not yet given to the
    page) while a second casualty is registered and its event reaches the page. The held answer
    predates the second casualty, so the board must read once more after it; a board that drops
    the ask shows one casualty fewer until some later event, which in a quiet minute never comes."""
    major = declare_major_incident(crash, level=3, actor=world.alice, casualties_reported=2)
    dispatch_units(crash, [world.als1], actor=world.alice, command_unit=world.als1)
    page = signed_in_page(browser, live_url, world.alice, viewport={"width": 1366, "height": 768})
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.goto(f"{live_url}/major/{major.pk}/")
    page.wait_for_selector("#major[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    casualties_shown(page, 0)

    held = hold_first_read(page, f"**/api/major/{major.pk}")
    register_casualty(major, tag="red", actor=world.carol, unit=world.als1)
    pump_until(page, lambda: held, "the board never read the picture after the first casualty")
    register_casualty(major, tag="green", actor=world.carol, unit=world.als1)
    pump_until(  # the second casualty's event reaches the page while the read is held
        page,
        lambda: sum('"casualty.registered"' in f for f in frames) >= 2,
        f"the second casualty's event never reached the page: {frames[-3:]}",
    )
    route, answer = held[0]
    route.fulfill(response=answer)
    casualties_shown(page, 2)
    assert page.inner_text("#tile-green .big") == "1"
