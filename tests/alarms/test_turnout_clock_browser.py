"""Each unit sent shows its turnout clock in the incident's detail: ticking from the dispatch,
red from TARGET_TURNOUT_SECONDS on (a short one here, in the page's settings and the scanner's),
stopped when the unit goes en route; the scanner raises turnout_exceeded meanwhile and clears it."""

import json
import re
from pathlib import Path

import pytest

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Alarm, AlarmKind
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.alarm_helpers import alarm_console, scan_now
from tests.support.browser import browser, own_daphne  # noqa: F401  (fixtures)
from tests.support.console_desk import show_incident
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TURNOUT_S = 3
CLOCK = ".assignments li[data-assignment] .turnout-clock"


def seconds(text: str) -> int:
    minutes, secs = re.search(r"(\d\d):(\d\d)", text).groups()  # type: ignore[union-attr]
    return int(minutes) * 60 + int(secs)


def test_the_turnout_clock_ticks_turns_red_and_stops_en_route(browser, world, grid, settings):  # noqa: F811
    settings.TARGET_TURNOUT_SECONDS = TURNOUT_S
    settings.TARGET_UNIT_ACK_SECONDS = 3600  # this test is about turnout only
    incident = create_incident(actor=world.alice, caller_number="13800000001", priority=1)
    assignment = dispatch_unit(incident, world.als1, actor=world.alice)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=None)
    with own_daphne({"TARGET_TURNOUT_SECONDS": str(TURNOUT_S)}) as daphne:
        page = alarm_console(browser, daphne.url, world.alice, width=1366, height=768)
        show_incident(page, incident.pk)
        wait_until(page, f"() => /\\d\\d:\\d\\d/.test(document.querySelector('{CLOCK}').textContent)")
        first = page.inner_text(CLOCK)
        # It ticks: the next second shows without any event (waited for, not slept: a loaded
        # machine may deliver the timer late).
        wait_until(page, f"document.querySelector('{CLOCK}').textContent !== {json.dumps(first)}", 10)
        assert seconds(page.inner_text(CLOCK)) > seconds(first)
        page.wait_for_selector(f"{CLOCK}.over")  # red from the target on
        red = page.eval_on_selector(CLOCK, "e => getComputedStyle(e).backgroundColor")
        assert red != "rgb(238, 240, 242)", red  # not the grey of a clock within target
        # The scanner raises turnout_exceeded; the list shows it beside the detail.
        assert scan_now()["raised"] == 1
        alarm = Alarm.objects.get(kind=AlarmKind.TURNOUT_EXCEEDED)
        assert alarm.assignment_id == assignment.pk
        page.wait_for_selector(f"#alarm-{alarm.pk}:has-text('T-ALS-1')")
        Path("/tmp/alarm-shots").mkdir(exist_ok=True)
        page.screenshot(path="/tmp/alarm-shots/turnout-1366x768.png")
        # En route: the clock stops at the time it took, and the alarm clears.
        set_unit_status(world.als1, UnitStatus.EN_ROUTE, actor=None)
        page.wait_for_selector(f"{CLOCK}.stopped")
        stopped = page.inner_text(CLOCK)
        page.wait_for_timeout(1500)
        assert page.inner_text(CLOCK) == stopped
        assert seconds(stopped) >= TURNOUT_S
        assert scan_now()["cleared"] == 1
        page.wait_for_selector(f"#alarm-{alarm.pk}", state="detached")
        page.wait_for_selector("#alarm-list .alarm-none")
        page.screenshot(path="/tmp/alarm-shots/turnout-stopped-no-alarms-1366x768.png")
