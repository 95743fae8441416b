"""From the incident's detail, by keyboard: R redirects a unit to another hospital (the one it
is bound for now cannot be chosen again), A sends another unit instead of it with a reason (the
first is stood down and the second sent in one step), P sends the pre-arrival notice to its
hospital and then shows whether the hospital has acknowledged it."""

import pytest

from dispatch.models import Assignment, Event, PreArrivalNotice
from fleet.models import Unit, UnitStatus
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, no_browser_dialogs, open_console, show_incident
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def index_of(page, name: str) -> int:
    """The key (1-9) of the choice whose label starts with `name`."""
    labels = page.locator("#choice-dialog .choice-label").all_inner_texts()
    return next(i for i, label in enumerate(labels, 1) if label.startswith(name))


def test_redirect_send_another_and_the_notice(browser, live_url, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city)
    page = open_console(browser, live_url, world.alice)
    prompts = no_browser_dialogs(page)
    desk = Desk(page)
    show_incident(page, assignment.incident_id)

    page.keyboard.press("r")
    page.wait_for_selector("#choice-dialog[open] .choices li")
    current = index_of(page, world.city.name)
    assert page.locator("#choice-dialog input[name=choice]").nth(current - 1).is_disabled()
    desk.choose(str(index_of(page, world.county.name)))
    page.wait_for_selector(f"#detail .assignments li.live:has-text('{world.county.name}')")
    assert Assignment.objects.get(pk=assignment.pk).hospital == world.county
    page.wait_for_selector(f"#timeline li:has-text('{world.city.name} → {world.county.name}')")

    page.keyboard.press("p")
    page.wait_for_selector(f"#notice-{assignment.pk}:has-text('{world.county.name}')")
    notice = PreArrivalNotice.objects.get(assignment=assignment)
    assert notice.hospital == world.county
    # The next event draws the pane again; the line must keep saying it rather than go blank.
    page.wait_for_selector(f"#notice-{assignment.pk}:has-text('医院尚未确认')")

    page.keyboard.press("a")
    page.wait_for_selector("#choice-dialog[open] .choices li")
    labels = page.locator("#choice-dialog .choice-label").all_inner_texts()
    assert not any(label.startswith("T-ALS-1") for label in labels)  # not the unit being replaced
    page.keyboard.press(str(index_of(page, "T-ALS-2")))
    page.keyboard.press("Enter")  # a reason is needed
    page.wait_for_selector("#choice-dialog .error:has-text('请输入原因')")
    desk.choose(text="T-ALS-1 车辆故障")
    page.wait_for_selector("#detail .assignments li.live:has-text('T-ALS-2')")
    page.wait_for_selector("#detail .assignments li.cancelled:has-text('T-ALS-1')")
    new = Assignment.objects.get(incident_id=assignment.incident_id, cancelled_at__isnull=True)
    assert (new.unit, new.hospital) == (world.als2, world.county)
    assert Assignment.objects.get(pk=assignment.pk).cancel_reason == "T-ALS-1 车辆故障"
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE
    assert Event.objects.filter(kind="assignment.created", incident_id=assignment.incident_id).count() == 2
    assert prompts == []
