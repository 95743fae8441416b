"""Esc on a call being taken asks before anything is dropped. Nothing typed: the intake just
closes and nothing is recorded. Once the call has a record: D discards it (closed as abandoned,
"the caller hung up or gave up", never dispatched, gone from the open list), K keeps it open in
the list, Esc goes back to the call with the keyboard where it was."""

import pytest

from dispatch.models import Incident, IncidentStatus
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, no_browser_dialogs, open_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_esc_asks_and_each_answer_does_what_it_says(browser, live_url, world):  # noqa: F811
    page = open_console(browser, live_url, world.alice)
    prompts = no_browser_dialogs(page)
    desk = Desk(page)

    desk.press("n")  # nothing typed: Esc just closes, and nothing is recorded
    page.wait_for_selector("#intake:not([hidden]) #caller-number:focus")
    desk.press("Escape")
    page.wait_for_selector("#intake", state="hidden")
    assert not page.locator("#discard-dialog[open]").count() and not Incident.objects.exists()

    desk.new_call("13800000001")
    desk.leave("Escape")  # back to the call, where it was
    page.wait_for_selector("#intake:not([hidden]) #place-search:focus")
    desk.leave("d")
    discarded = Incident.objects.get(caller_number="13800000001")
    assert (discarded.status, discarded.outcome, discarded.dispatched_at) == (
        IncidentStatus.CLOSED,
        "abandoned",
        None,
    )
    page.wait_for_selector(f"#incident-{discarded.pk}", state="detached")

    desk.new_call("13800000002")
    desk.leave("k")
    kept = Incident.objects.get(caller_number="13800000002")
    assert kept.status == IncidentStatus.OPEN
    page.wait_for_selector(f"#incident-{kept.pk}")

    desk.press("n")  # details typed before any record: discarding leaves nothing behind
    page.wait_for_selector("#intake:not([hidden]) #caller-number:focus")
    desk.press("F4")
    page.wait_for_selector("#intake-details [data-detail='caller_name']:focus")
    page.keyboard.type("张先生")
    desk.leave("d")
    assert Incident.objects.count() == 2
    assert prompts == []
