"""The console shows the server's refusals in the user's language: choosing another unit than
the first recommended and pressing Enter without a reason is refused in Chinese on the Chinese
console (it was English)."""

import pytest

from dispatch.models import Assignment, Role, User
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, demo_city, findable_places, open_console  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_override_refusal_is_in_chinese(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    (place,) = findable_places(alice, 1)
    page = open_console(browser, live_url, alice)
    desk = Desk(page)
    desk.new_call("13800000001")
    desk.locate(place)
    desk.triage("1", "4")
    desk.ready_to_dispatch()
    desk.press("Alt+2")
    page.wait_for_selector("#override-reason:focus")
    desk.press("Enter")
    page.wait_for_selector("#intake-error:has-text('请说明为何未选择首选推荐车辆')")
    assert "Say why" not in page.inner_text("#intake-error")
    assert not Assignment.objects.exists()
