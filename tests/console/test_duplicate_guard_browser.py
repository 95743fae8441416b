"""A call that may repeat an open incident: the console says why in words (the same caller, so
many metres away), never as codes; Enter does not send a unit until the dispatcher either links
the call or says "Not a duplicate"; a linked repeat call shows on the timeline of the incident
it repeats."""

import pytest

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Incident, Role, User
from fleet.models import Unit
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, demo_city, findable_places, open_console  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "13800000001"


def test_enter_waits_for_the_dispatchers_word_on_a_possible_duplicate(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    place, other_place = findable_places(alice, 2)
    first = create_incident(
        actor=alice,
        caller_number=CALLER,
        location=place.point,
        location_source="gazetteer",
        address=place.name,
    )
    dispatch_unit(first, Unit.objects.filter(kind="als").order_by("call_sign").first(), actor=alice)
    page = open_console(browser, live_url, alice)
    desk = Desk(page)

    desk.new_call(CALLER)
    desk.locate(place)
    # the caller's number matches first; the place's distance joins when the scene is set
    why = page.locator("#duplicates .dup-why:has-text('相距 0 米')").inner_text()
    assert "同一号码" in why and "相距 0 米" in why
    assert "same_caller" not in page.inner_text("#duplicates") and "nearby" not in page.inner_text(
        "#duplicates"
    )
    desk.triage("1", "4")
    desk.ready_to_dispatch()
    desk.press("Enter")  # refused: the call may repeat the first incident
    page.wait_for_selector("#intake-error:has-text('可能与未结事件重复')")
    page.wait_for_selector("#duplicates .not-dup:focus")
    repeat = Incident.objects.exclude(pk=first.pk).get(caller_number=CALLER)
    assert not Assignment.objects.filter(incident=repeat).exists()

    desk.press("Enter")  # "Not a duplicate": the box says it was checked, the focus goes to Dispatch
    page.wait_for_selector("#duplicates.resolved")
    desk.dispatch()
    assert Assignment.objects.filter(incident=repeat).count() == 1

    desk.new_call(CALLER)  # the same caller once more: this time it is linked
    desk.locate(other_place)
    page.click(f"#duplicates .link-dup[data-id='{first.pk}']")
    page.wait_for_selector(f"#detail[data-incident='{first.pk}'] #timeline li:has-text('重复呼救已关联至此')")
    third = Incident.objects.exclude(pk__in=[first.pk, repeat.pk]).get(caller_number=CALLER)
    assert third.linked_to == first
    # the timeline is drawn again on each event: wait for the line that names the repeat call
    page.wait_for_selector(f"#detail[data-incident='{first.pk}'] #timeline li:has-text('{third.number}')")
