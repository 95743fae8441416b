"""A unit whose position is stale is sent only after the dispatcher confirms it by radio: Enter
on the recommendation opens the confirmation, Esc sends nothing, and the confirmed choice sends
the unit. A unit whose position is fresh goes at once, as before."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.models import Assignment, Role, User
from fleet.models import Unit
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, demo_city, findable_places, no_browser_dialogs, open_console  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_unit_waits_for_the_radio_and_a_fresh_one_does_not(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    first_place, second_place = findable_places(alice, 2)
    Unit.objects.update(position_at=timezone.now() - timedelta(minutes=20))  # every tracker silent
    page = open_console(browser, live_url, alice)
    prompts = no_browser_dialogs(page)
    desk = Desk(page)

    desk.new_call("13800000001")
    desk.locate(first_place)
    desk.triage("1", "4")
    desk.ready_to_dispatch()
    desk.press("Enter")
    page.wait_for_selector("#choice-dialog[open] h2:has-text('请用电台确认')")
    desk.press("Escape")  # not heard yet: nothing is sent
    page.wait_for_selector("#choice-dialog", state="hidden")
    assert not Assignment.objects.exists()

    desk.press("Enter")
    page.wait_for_selector("#choice-dialog[open]")
    desk.press("1")
    desk.press("Enter")
    page.wait_for_selector("#intake", state="hidden")
    assert Assignment.objects.count() == 1

    Unit.objects.update(position_at=timezone.now())  # trackers back: the next call goes at once
    desk.new_call("13800000002")
    desk.locate(second_place)
    desk.triage("1", "4")
    desk.ready_to_dispatch()
    desk.press("Enter")
    page.wait_for_selector("#intake", state="hidden")
    assert Assignment.objects.count() == 2
    assert page.locator("#choice-dialog[open]").count() == 0 and prompts == []
