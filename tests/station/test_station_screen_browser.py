"""The station screen in Chromium through a shift: idle with its units, a dispatch rings (the
tone repeating, the frame flashing) and shows the job in large type until someone presses
Acknowledge; the unit rolls and the screen is idle again; after a quiet socket a second
dispatch rings the same page again; two jobs at once queue, each acknowledged on its own; a
dispatch to another station never shows; the Print button opens the job's slip, which prints
itself. Screenshots at 1920×1080 and 1366×768 go to /tmp/station-shots."""

from pathlib import Path

import pytest

from dispatch.models import Event, Role, User
from dispatch.registry.actions import create_unit
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.alarm_helpers import CHIME_PROBE
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift
from tests.support.station_screens import ODD_ADDRESS, screen, sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/station-shots")
# window.open and window.print recorded instead of done (a headless browser has no printer).
OPEN_PROBE = """
window.opened = [];
window.open = (url) => { window.opened.push(url); return null; };
window.printed = 0;
window.print = () => { window.printed += 1; };
"""


def station_page(browser, live_url, user, width=1920, height=1080):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    page.add_init_script(CHIME_PROBE)
    page.add_init_script(OPEN_PROBE)
    page.goto(f"{live_url}/")  # the landing page sends a station screen to its screen
    page.wait_for_selector("#station[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    assert page.url.endswith("/station/")
    return page


def alert_chimes(page) -> int:
    return page.evaluate("window.chimes.filter((kind) => kind === 'alert').length")


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def rings_then_stops(page, button: str) -> None:
    wait_until(page, "window.chimes.filter((k) => k === 'alert').length >= 2", seconds=10)  # it repeats
    assert page.evaluate("document.body.classList.contains('ringing')")
    page.click(button)
    page.wait_for_selector("body.station:not(.ringing)")
    rung = alert_chimes(page)
    page.wait_for_timeout(3500)
    assert alert_chimes(page) == rung  # acknowledged: silent


def test_a_shift_at_the_station_screen(browser, live_url, world):  # noqa: F811
    north = screen(world.north)
    spare = create_unit("T-ALS-9", "als", home_station=world.north)
    on_shift(User.objects.create_user("crew-t-als-9", role=Role.CREW), spare)
    page = station_page(browser, live_url, north)
    page.wait_for_selector("#station-idle:not([hidden])")
    assert page.locator("#station-units li b").all_inner_texts() == ["T-ALS-1", "T-ALS-9", "T-BLS-1"]
    assert page.inner_text("#station-units").count("待命") == 3
    shot(page, "idle-1920")

    first = sent(world, world.als1, address=ODD_ADDRESS, complaint="胸痛 <30 分钟> & 出汗")
    page.wait_for_selector("#station-alert:not([hidden]) .job-unit:has-text('T-ALS-1')")
    assert page.inner_text(".job-address") == ODD_ADDRESS  # as typed, not markup
    assert page.inner_text(".job-complaint") == "胸痛 <30 分钟> & 出汗"
    assert first.incident.number in page.inner_text(".job-meta")
    assert page.inner_text(".job-head .job-priority") == "I 危重"
    assert float(page.evaluate("getComputedStyle(document.querySelector('.job-unit')).fontSize")[:-2]) >= 100
    shot(page, "ringing-1920")
    rings_then_stops(page, "#station-ack")
    page.wait_for_selector(".job-state:has-text('分站已确认')")
    acknowledged = Event.objects.filter(kind="assignment.station_acknowledged")
    assert [e.data["assignment"] for e in acknowledged] == [first.pk]

    page.click("#station-print")
    assert page.evaluate("window.opened") == [f"/station/slip/{first.pk}/"]

    sent(world, world.als2)  # the south station's: never here
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=None)
    set_unit_status(world.als1, UnitStatus.EN_ROUTE, actor=None)
    page.wait_for_selector("#station-idle:not([hidden])")
    page.wait_for_selector("#station-units li.status-en_route:has-text('T-ALS-1')")
    page.wait_for_timeout(12_000)  # a quiet socket, past its heartbeat
    assert page.evaluate("document.querySelector('#station').dataset.jobs") == "0"

    second = sent(world, world.bls1, complaint="跌倒")
    third = sent(world, spare, complaint="呼吸困难")
    page.wait_for_selector("#station-queue li:has-text('T-ALS-9')")
    assert page.inner_text(".job-unit") == "T-BLS-1"  # the older job in front
    shot(page, "queue-1920")
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "queue-1366")
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_until(page, "window.chimes.filter((k) => k === 'alert').length >= 4", seconds=10)
    page.click(f"#station-queue li[data-assignment='{third.pk}'] .queue-ack")
    page.wait_for_selector(f"#station-queue li[data-assignment='{third.pk}']:not(.waiting)")
    assert page.evaluate("document.body.classList.contains('ringing')")  # T-BLS-1 still waits
    rings_then_stops(page, "#station-ack")
    page.click(f"#station-queue li[data-assignment='{third.pk}'] .queue-print")
    assert page.evaluate("window.opened")[-1] == f"/station/slip/{third.pk}/"
    acknowledged = Event.objects.filter(kind="assignment.station_acknowledged")
    assert sorted(e.data["assignment"] for e in acknowledged) == sorted([first.pk, second.pk, third.pk])
    assert "T-ALS-2" not in page.inner_text("#station")


def test_the_slip_prints_itself(browser, live_url, world, triage_defaults):  # noqa: F811
    a = sent(world, world.als1, address=ODD_ADDRESS)
    page = signed_in_page(browser, live_url, screen(world.north), viewport={"width": 1366, "height": 768})
    page.add_init_script(OPEN_PROBE)
    page.goto(f"{live_url}/station/slip/{a.pk}/")
    wait_until(page, "window.printed >= 1")
    assert page.inner_text("#slip-address").startswith(ODD_ADDRESS)
    page.click("#slip-print")
    assert page.evaluate("window.printed") == 2
    shot(page, "slip-1366")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.locator("#slip-print").is_visible()
    shot(page, "slip-print-media")
