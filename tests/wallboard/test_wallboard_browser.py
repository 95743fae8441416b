"""The wallboard in Chromium at 1920×1080 through a quiet spell: a call rings and the board
counts it waiting, its wait clock running; after 40 s in which nothing happens (the socket only
beats), the call is taken (an incident opens) and the board moves on, all without a reload or a
touch. A socket the server drops comes back and the page reads its figures again. Screenshots at
1920×1080 (Chinese and English) and 3840×2160 go to /tmp/wallboard-shots; neither scrolls, and no
figure overflows its tile."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dispatch.alarms.actions import raise_alarm
from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.handoff.actions import set_diversion
from dispatch.models import AlarmKind, Role, User
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until
from tests.support.station_screens import sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/wallboard-shots")
FITS = (
    "document.documentElement.scrollHeight <= innerHeight"
    " && document.documentElement.scrollWidth <= innerWidth"
    " && [...document.querySelectorAll('.wb-tile, .wb-priority')].every(t => t.scrollWidth <= t.clientWidth)"
)


def board_page(browser, live_url, user, width=1920, height=1080, language=""):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    if language:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    page.goto(f"{live_url}/")  # the landing page sends the wallboard screen to its board
    page.wait_for_selector("#wallboard[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    assert page.url.endswith("/wallboard/")
    page.evaluate("window.notReloaded = true")
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def text(page, element: str) -> str:
    return page.inner_text(f"#{element}").strip()


def test_the_board_follows_the_centre_through_a_quiet_minute(browser, live_url, world):  # noqa: F811
    wall = User.objects.create_user("wall", role=Role.WALLBOARD, first_name="大屏")
    page = board_page(browser, live_url, wall)
    assert text(page, "wb-calls") == "0" and text(page, "wb-waiting") == "0"
    assert text(page, "wb-longest") == "–"

    call = record_call_event(
        CallEvent("pbx", "wb-1", CallEventKind.RINGING, timezone.now(), caller="+8613800138000")
    )
    wait_until(page, "document.getElementById('wb-waiting').textContent === '1'", seconds=10)
    assert text(page, "wb-calls") == "1"
    assert page.evaluate("document.getElementById('tile-waiting').classList.contains('missed')")
    first = text(page, "wb-longest")
    page.wait_for_timeout(2100)
    assert text(page, "wb-longest") != first  # the wait clock runs by itself

    page.wait_for_timeout(40_000)  # a quiet spell: nothing happens, the socket only beats
    assert page.evaluate("window.notReloaded") and text(page, "wb-waiting") == "1"
    take_call(call, actor=world.alice)
    wait_until(page, "document.getElementById('wb-waiting').textContent === '0'", seconds=10)
    assert "1" in text(page, "wb-calls-sub")  # one answered, one incident
    # A unit goes out: one fewer free at the north station.
    before = text(page, "wb-free-total")
    sent(world, world.als1)
    wait_until(page, f"document.getElementById('wb-free-total').textContent !== '{before}'", seconds=10)
    assert page.evaluate("window.notReloaded")
    assert "+8613800138000" not in page.content()


def test_screenshots_fit_both_screens_in_both_languages(browser, live_url, world):  # noqa: F811
    wall = User.objects.create_user("wall", role=Role.WALLBOARD, first_name="大屏")
    now = timezone.now()
    for n, seconds in enumerate((95, 12)):
        record_call_event(
            CallEvent("pbx", f"s-{n}", CallEventKind.RINGING, now - timedelta(seconds=seconds), caller="+861")
        )
    answered = now - timedelta(minutes=5)
    record_call_event(CallEvent("pbx", "s-a", CallEventKind.RINGING, answered, caller="+861"))
    record_call_event(CallEvent("pbx", "s-a", CallEventKind.ANSWERED, answered + timedelta(seconds=4)))
    a = sent(world, world.als1)
    set_diversion(world.county, ["stroke"], actor=None, reason="CT")
    raise_alarm(AlarmKind.UNIT_NOT_ACKNOWLEDGING, a.incident, assignment=a)
    for lang, width, height in (("zh-hans", 1920, 1080), ("en", 1920, 1080), ("zh-hans", 3840, 2160)):
        page = board_page(browser, live_url, wall, width, height, language=lang)
        assert page.evaluate(FITS), (lang, width)
        big = float(page.evaluate("getComputedStyle(document.getElementById('wb-calls')).fontSize")[:-2])
        assert big >= height / 10  # read across the room
        assert page.inner_text("#wb-answer") == "100.0%"
        shot(page, f"wallboard-{lang}-{width}")
        page.context.close()


# Counts the page's reads of its figures.
READS_PROBE = """
window.reads = 0;
const originalFetch = window.fetch;
window.fetch = (...args) => {
  if (String(args[0]).includes("/wallboard/figures/")) window.reads += 1;
  return originalFetch(...args);
};
"""


def test_a_dropped_socket_reads_the_figures_again_when_it_is_back(browser, live_url, world):  # noqa: F811
    wall = User.objects.create_user("wall", role=Role.WALLBOARD, first_name="大屏")
    page = signed_in_page(browser, live_url, wall, viewport={"width": 1920, "height": 1080})
    page.add_init_script(READS_PROBE)
    page.goto(f"{live_url}/wallboard/")
    page.wait_for_selector("#conn.conn-live")
    page.evaluate("window.samePage = true")
    page.wait_for_timeout(3500)
    before = page.evaluate("window.reads")
    # What the socket was opened for changed (here the account's station): the server closes it
    # at its next beat (dispatch/core/live.py, CLOSE_CHANGED) and the page connects again.
    User.objects.filter(pk=wall.pk).update(station=world.north)
    wait_until(page, "document.getElementById('conn').classList.contains('conn-reconnecting')", seconds=25)
    page.wait_for_selector("#conn.conn-live")
    wait_until(page, f"window.reads > {before}", seconds=10)
    assert page.evaluate("window.samePage")  # read again by the page, not by a reload
