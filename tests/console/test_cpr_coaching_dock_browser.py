"""Telephone CPR outlives the intake it started in: dispatch first, coach after.

The metronome is started on a cardiac call and the unit sent: the coaching (beat, clock, count,
instructions) moves to a dock on the console with the incident's number, and keeps going while
the dispatcher takes the next call. That call needs CPR too, but one dispatcher coaches one
caller: its beat cannot start while the first is docked, and closing it leaves the dock alone.
End, reached with the keyboard, is the only way out, and after it the metronome is silent. A
beat started in an intake abandoned with Esc is docked the same way.
It used to vanish with the intake while the clicks went on, with nothing left to stop them.
"""

from pathlib import Path

import pytest
from django.conf import settings

from dispatch.models import Assignment, Role, User
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, demo_city, findable_places, incident_of, open_console  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"
FIRST, SECOND, THIRD = "13700000001", "13700000002", "13700000003"


def clicks_over(desk: Desk, ms: int) -> int:
    """Metronome clicks made to sound during the next `ms` milliseconds."""
    before = desk.cpr_clicks()
    desk.page.wait_for_timeout(ms)
    return desk.cpr_clicks() - before


def screenshots(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1920, 1080), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENS / f"{name}_{width}x{height}.png"))
    page.set_viewport_size({"width": 1920, "height": 1080})


def test_cpr_coaching_stays_docked_after_dispatch_until_ended(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    here, there, elsewhere = findable_places(alice, 3)
    page = open_console(browser, live_url, alice, width=1920, height=1080)
    desk = Desk(page)

    desk.new_call(FIRST)
    desk.locate(here)
    desk.triage("2", "1")  # chest pain; unresponsive, not breathing normally: telephone CPR
    desk.ready_to_dispatch()
    page.click("#triage .cpr-toggle")  # start the beat
    page.wait_for_selector("#triage .cpr.cpr-running")
    assert clicks_over(desk, 1000) >= 1  # 110 a minute, heard
    page.click("#dispatch-button")
    page.wait_for_selector("#intake", state="hidden")

    first = incident_of(FIRST)
    assert Assignment.objects.filter(incident=first).count() == 1
    clicking = clicks_over(desk, 1200)
    assert page.is_visible("#cpr-dock"), (
        f"after dispatch the CPR coaching left the screen, yet the metronome clicked {clicking} "
        "times in the next 1.2 s with nothing on screen to stop it"
    )
    dock = page.locator("#cpr-dock")
    assert first.number in dock.inner_text()
    assert dock.locator(".cpr").get_attribute("data-state") == "running" and clicking >= 1
    assert dock.locator(".cpr-end").is_visible() and dock.locator(".cpr-dock-steps li").count() >= 5

    # The next call, cardiac arrest with CPR again: the first caller's coaching is untouched and
    # the second cannot start a beat of its own while it runs.
    desk.new_call(SECOND)
    desk.locate(there)
    desk.triage("1", "1")
    desk.ready_to_dispatch()
    assert clicks_over(desk, 1000) >= 1
    assert page.is_disabled("#triage .cpr-toggle")
    assert page.locator("#triage .cpr-prompt").inner_text()  # says why
    desk.press("m")  # M acts on the session under way: the docked one pauses
    page.wait_for_selector("#cpr-dock .cpr[data-state='paused']")
    assert clicks_over(desk, 800) == 0
    desk.press("m")
    page.wait_for_selector("#cpr-dock .cpr[data-state='running']")
    screenshots(page, "cpr_dock_during_next_call")
    desk.leave("k")  # the second intake is left (kept open): the dock is the first caller's still
    assert first.number in dock.inner_text() and dock.locator(".cpr").get_attribute("data-state") == "running"
    screenshots(page, "cpr_dock")

    end_with_the_keyboard(desk)

    # The session is free again: a third CPR call starts its own beat (M), and leaving the
    # intake (Esc, then K) does not stop it either: the dock takes it over.
    desk.new_call(THIRD)
    desk.locate(elsewhere)
    desk.triage("1", "1")
    desk.ready_to_dispatch()
    desk.press("m")
    page.wait_for_selector("#triage .cpr[data-state='running']")
    desk.leave("k")
    assert incident_of(THIRD).number in dock.inner_text()
    assert dock.locator(".cpr").get_attribute("data-state") == "running" and clicks_over(desk, 1000) >= 1
    end_with_the_keyboard(desk)

    second = incident_of(SECOND)
    assert second.priority == 1 and not Assignment.objects.filter(incident=second).exists()


def end_with_the_keyboard(desk: Desk) -> None:
    """The dock has the focus once the intake closed; Tab reaches End; after it, silence."""
    page = desk.page
    desk.press("Tab")
    assert page.evaluate("document.activeElement.className") == "cpr-end"
    desk.press("Enter")
    page.wait_for_selector("#cpr-dock", state="detached")
    page.wait_for_timeout(200)  # a click already scheduled on the audio clock may still sound
    beats = desk.cpr_beats()
    assert clicks_over(desk, 1200) == 0 and desk.cpr_beats() == beats
    assert page.locator(".cpr-running, .cpr[data-state='running']").count() == 0
