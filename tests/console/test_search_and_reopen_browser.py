"""F finds any incident, open or closed, by its number, the caller's phone however it is typed,
the address or a name, and a time range; ↓/Enter opens one in the detail. A closed one says how
it was closed and O reopens it with a reason: it is back in the open list with its history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.incidents.actions import close_incident, create_incident
from dispatch.models import Incident, IncidentStatus
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, open_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def search(page, text: str) -> list[str]:
    """Type in the search (replacing what was there), Enter: the numbers found, focus on the first."""
    field = page.locator("#search-form input[name=q]")
    field.fill("")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results button.found:focus, #search-count:has-text('找到 0 条')")
    return page.locator("#search-results .num").all_inner_texts()


def test_find_a_closed_incident_and_reopen_it(browser, live_url, world):  # noqa: F811
    closed = create_incident(actor=world.alice, caller_number="+8613912345678", address="碧水苑 3 栋")
    close_incident(closed, actor=world.alice, outcome="false_call")
    other = create_incident(actor=world.alice, caller_number="13800000001", address="滨海路 88 号")
    old = create_incident(actor=world.alice, caller_number="13900000009", address="碧水苑 5 栋")
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    page = open_console(browser, live_url, world.alice)

    page.keyboard.press("f")
    page.wait_for_selector("#search-dialog[open] input[name=q]:focus")
    assert search(page, "139-1234-5678") == [closed.number]
    assert search(page, closed.number) == [closed.number]
    assert search(page, "碧水苑") == [closed.number, old.number]
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.evaluate(f"document.querySelector('#search-form [name=since]').value = '{yesterday}'")
    page.dispatch_event("#search-form [name=since]", "change")
    page.focus("#search-form input[name=q]")
    assert search(page, "碧水苑") == [closed.number]
    assert "虚假/误报" in page.inner_text("#search-results button.found")  # how it was closed, in words
    assert other.number not in page.inner_text("#search-results")

    page.keyboard.press("Enter")  # open it
    page.wait_for_selector("#search-dialog", state="hidden")
    page.wait_for_selector(f"#detail-main:has(.incident-number:text-is('{closed.number}')) .closed-banner")
    assert "虚假/误报" in page.inner_text("#detail .closed-banner")
    page.keyboard.press("o")
    Desk(page).choose("1")  # the caller rang back
    page.wait_for_selector(f"#incident-{closed.pk}")
    page.wait_for_selector("#detail .closed-banner", state="detached")
    page.wait_for_selector("#timeline li:has-text('重新开启')")
    closed.refresh_from_db()
    assert (closed.status, closed.outcome) == (IncidentStatus.OPEN, "")
