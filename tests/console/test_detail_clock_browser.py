"""The incident detail's call clock ticks, as the list's does (it stood still at the moment the
detail was drawn)."""

import pytest

from dispatch.incidents.actions import create_incident
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console, show_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_detail_clock_ticks(browser, live_url, world):  # noqa: F811
    incident = create_incident(actor=world.alice, caller_number="13800000001")
    page = open_console(browser, live_url, world.alice)
    show_incident(page, incident.pk)
    first = page.inner_text("#detail-clock")
    page.wait_for_timeout(2200)
    later = page.inner_text("#detail-clock")
    assert first.startswith("☎") and later > first, (first, later)
