"""Standing a unit down from the incident's detail is the console's own dialog, never the
browser's prompt(): S opens it (with two units on the incident, which one first), 1-9 pick a
common reason, more words may follow, Enter stands it down; Esc, or Enter with nothing chosen,
writes nothing."""

import pytest

from dispatch.incidents.actions import dispatch_unit
from dispatch.models import Assignment, Event
from fleet.models import Unit, UnitStatus
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, no_browser_dialogs, open_console, show_incident
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_unit_is_stood_down_through_the_dialog(browser, live_url, world):  # noqa: F811
    first = job(world, world.als1, hospital=world.city)
    second = dispatch_unit(first.incident, world.bls1, actor=world.alice)
    page = open_console(browser, live_url, world.alice)
    prompts = no_browser_dialogs(page)
    desk = Desk(page)
    show_incident(page, first.incident_id)

    page.keyboard.press("s")  # two units: which one?
    page.wait_for_selector("#choice-dialog[open] h2:has-text('哪一辆车')")
    page.keyboard.press("Escape")  # changed my mind: nothing happens
    page.wait_for_selector("#choice-dialog", state="hidden")
    assert not Assignment.objects.filter(cancelled_at__isnull=False).exists()

    page.keyboard.press("s")
    desk.choose("2", then_another=True)  # T-BLS-1
    page.wait_for_selector("#choice-dialog[open] .choices li:has-text('另有车辆更近')")
    page.keyboard.press("Enter")  # nothing chosen yet: the dialog says so and stays
    page.wait_for_selector("#choice-dialog .error:has-text('请选择一项')")
    desk.choose("3", text='"救护车2" 更近 <b>')  # "Another unit is closer", and more
    page.wait_for_selector("#detail .assignments li.cancelled:has-text('T-BLS-1')")

    second.refresh_from_db()
    assert second.cancel_reason == '另有车辆更近: "救护车2" 更近 <b>'
    assert Unit.objects.get(pk=world.bls1.pk).status == UnitStatus.AVAILABLE
    assert Assignment.objects.get(pk=first.pk).cancelled_at is None
    assert Event.objects.filter(kind="assignment.cancelled").count() == 1
    page.wait_for_selector("#timeline li:has-text('另有车辆更近')")
    assert prompts == []


def test_the_reason_may_be_the_dispatchers_own_words(browser, live_url, world):  # noqa: F811
    assignment = job(world, world.als1)
    page = open_console(browser, live_url, world.alice)
    prompts = no_browser_dialogs(page)
    show_incident(page, assignment.incident_id)
    page.click(f"[data-cancel='{assignment.pk}']")
    Desk(page).choose(text="车辆爆胎")
    page.wait_for_selector("#detail .assignments li.cancelled")
    assignment.refresh_from_db()
    assert assignment.cancel_reason == "车辆爆胎" and prompts == []
