"""The console's alarm list in a browser: a console opened after an alarm was raised shows it
and sounds the alarm tone until it is acknowledged; acknowledging by click and by keyboard
records the dispatcher on every console; the list never covers the incident's head; a run of
alarms in one page is worked through from the keyboard; clicking one shows its incident."""

from pathlib import Path

import pytest

from dispatch.handoff.actions import acknowledge_notice
from dispatch.incidents.actions import create_incident
from dispatch.models import Alarm, AlarmKind
from tests.support.alarm_helpers import alarm_chimes, alarm_console, box, overlaps, scan_now
from tests.support.browser import browser, live_url  # noqa: F401  (fixtures)
from tests.support.er_helpers import notified
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/alarm-shots")


@pytest.fixture
def overdue_now(settings):
    """Every incident without a unit is overdue at once (the scanner runs in this process)."""
    settings.TARGET_PROCESSING_SECONDS = 0


def undispatched(world, count: int) -> list:
    return [create_incident(actor=world.alice, caller_number=f"1380000{n:04d}") for n in range(count)]


def test_a_console_opened_after_the_alarm_was_raised_shows_it_and_rings_until_acknowledged(
    browser,  # noqa: F811
    live_url,  # noqa: F811
    world,
    overdue_now,
):
    (incident,) = undispatched(world, 1)
    scan_now()
    alarm = Alarm.objects.get()
    page = alarm_console(browser, live_url, world.alice)
    row = page.wait_for_selector(f"#alarm-{alarm.pk}")
    assert incident.number in row.inner_text() and "未派车" in row.inner_text()
    assert page.inner_text("#alarm-count") == "1"
    wait_until(page, "() => window.chimes.filter((k) => k === 'alarm').length >= 2", seconds=8)  # it repeats
    page.click(f"#alarm-{alarm.pk} .alarm-ack")
    page.wait_for_selector(f"#alarm-{alarm.pk}.acknowledged .alarm-by:has-text('alice')")
    assert page.inner_text("#alarm-count") == "0"
    rung = alarm_chimes(page)
    page.wait_for_timeout(5500)
    assert alarm_chimes(page) == rung  # acknowledged: silent
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == world.alice


def test_acknowledging_by_click_and_by_keyboard_reaches_every_console(
    browser,  # noqa: F811
    live_url,  # noqa: F811
    world,
    overdue_now,
):
    undispatched(world, 2)
    scan_now()
    first, second = Alarm.objects.order_by("pk")
    alice = alarm_console(browser, live_url, world.alice)
    bob = alarm_console(browser, live_url, world.bob)
    for page in (alice, bob):
        page.wait_for_selector(f"#alarm-{second.pk} .alarm-ack")
    alice.click(f"#alarm-{first.pk} .alarm-ack")
    bob.wait_for_selector(f"#alarm-{first.pk}.acknowledged .alarm-by:has-text('alice')")  # live, elsewhere
    # Bob from the keyboard: L to the alarm waiting, Enter (the help lists the key).
    assert "报警" in (bob.text_content("#shortcuts dl") or "")
    bob.keyboard.press("l")
    assert bob.evaluate("document.activeElement.closest('li')?.id") == f"alarm-{second.pk}"
    assert bob.evaluate("document.activeElement.className") == "alarm-ack"
    bob.keyboard.press("Enter")
    alice.wait_for_selector(f"#alarm-{second.pk}.acknowledged .alarm-by:has-text('bob')")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.acknowledged_by, second.acknowledged_by) == (world.alice, world.bob)
    # A console opened (or reloaded) now shows both as acknowledged, by name.
    alice.reload()
    alice.wait_for_selector("#console[data-ready='1']")
    alice.wait_for_selector(f"#alarm-{second.pk}.acknowledged")
    assert alice.inner_text(f"#alarm-{first.pk} .alarm-by") == "✓ alice"
    assert alice.inner_text(f"#alarm-{second.pk} .alarm-by") == "✓ bob"
    assert alice.inner_text("#alarm-count") == "0"


@pytest.mark.parametrize("width,height", [(1920, 1080), (1366, 768)])
def test_the_alarm_list_never_covers_the_incident_title_number_or_clock(
    browser,  # noqa: F811
    live_url,  # noqa: F811
    world,
    overdue_now,
    width,
    height,
):
    incidents = undispatched(world, 6)
    scan_now()
    page = alarm_console(browser, live_url, world.alice, width=width, height=height)
    page.wait_for_selector(f"#alarm-list li.alarm >> nth={len(incidents) - 1}")
    last = Alarm.objects.order_by("pk").last()
    assert last is not None
    page.click(f"#alarm-{last.pk} .alarm-open")  # clicking an alarm shows its incident
    page.wait_for_selector(f"#detail[data-incident='{last.incident_id}'] #detail-clock")
    assert page.inner_text("#detail .work-head .incident-number") == last.incident.number
    alarm_list = box(page, "#alarms")
    for head in ("#detail .work-head h2", "#detail .work-head .incident-number", "#detail-clock"):
        assert not overlaps(alarm_list, box(page, head)), head
        # Nothing else on top of it either: the element at its middle is its own.
        middle = box(page, head)
        x, y = middle["x"] + middle["width"] / 2, middle["y"] + middle["height"] / 2
        assert page.evaluate(
            f"(() => {{ const hit = document.elementFromPoint({x}, {y}); "
            f"return Boolean(hit && hit.closest('{head.split()[-1]}, #detail .work-head')); }})()"
        ), head
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"alarms-{width}x{height}.png"))


def test_a_run_of_alarms_worked_through_in_one_page(
    browser,  # noqa: F811
    live_url,  # noqa: F811
    world,
    grid,  # a road network, so the map has a centre to draw the units on
    overdue_now,
):
    world.city.name = '急诊 <b>&"第一"</b>'
    world.city.phone = "+862088880120"
    world.city.save()
    page = alarm_console(browser, live_url, world.alice, width=1366, height=768)
    page.wait_for_selector("#alarm-list .alarm-none")
    incidents = undispatched(world, 4)
    notice = notified(world, world.als1, world.city, world.carol)
    from django.test import override_settings

    with override_settings(NOTICE_ACK_ALERT_SECONDS=0):
        scan_now()
    assert Alarm.objects.open().count() == 5
    page.wait_for_selector("#alarm-list li.alarm >> nth=4")
    assert page.inner_text("#alarm-count") == "5"
    notice_row = Alarm.objects.get(kind=AlarmKind.NOTICE_UNACKNOWLEDGED)
    text = page.inner_text(f"#alarm-{notice_row.pk}")
    assert '急诊 <b>&"第一"</b>' in text and "T-ALS-1" in text and "+862088880120" in text
    assert page.get_attribute(f"#alarm-{notice_row.pk} .alarm-phone", "href") == "tel:+862088880120"
    # Walk them: L, then ↓ ↑; Esc leaves the list.
    page.keyboard.press("l")
    first_id = page.evaluate("document.activeElement.closest('li').id")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('li').id") != first_id
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.closest('li').id") == first_id
    page.keyboard.press("Escape")
    assert page.evaluate("!document.activeElement.closest('#alarm-list')")
    # Enter, Enter, ...: each acknowledges and moves on to the next waiting.
    page.keyboard.press("l")
    for left in (4, 3, 2, 1, 0):
        page.keyboard.press("Enter")
        wait_until(page, f"() => document.getElementById('alarm-count').textContent === '{left}'")
    assert not Alarm.objects.unacknowledged().exists()
    assert set(Alarm.objects.values_list("acknowledged_by__username", flat=True)) == {"alice"}
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "alarms-run-1366x768.png"))
    # The ER acknowledges and an incident is closed: the scanner clears them from every list.
    acknowledge_notice(notice, actor=world.dave)
    from dispatch.incidents.actions import close_incident

    close_incident(incidents[0], actor=world.alice, outcome="false_call")
    scan_now()
    page.wait_for_selector(f"#alarm-{notice_row.pk}", state="detached")
    wait_until(page, "() => document.querySelectorAll('#alarm-list li.alarm').length === 3")
