"""The dispatcher's whole flow in a real browser, keyboard first, on the demo city.

A dispatcher opens a new incident, types the caller's number and part of a landmark's name in
pinyin, picks it, triages cardiac arrest, accepts the recommended ALS unit and hospital, and
a second dispatcher's console, open all along, shows the incident dispatched without a
reload. The dispatcher may use at most 8 keyboard or mouse actions (waiting is not an action).
"""

import pytest
from django.core.management import call_command

from dispatch.models import Assignment, Incident, Place, Role, User
from fleet.models import UnitCapability
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "13912345678"
MAX_ACTIONS = 8


class CountedKeyboard:
    """The page's keyboard, counting each key press and each typed text as one action."""

    def __init__(self, page) -> None:
        self.page = page
        self.actions = 0

    def press(self, key: str) -> None:
        self.actions += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.actions += 1
        self.page.keyboard.type(text)


@pytest.fixture
def demo_city(triage_defaults) -> Place:
    call_command("make_demo_city", verbosity=0)
    return Place.objects.get(name="明湾体育中心")


def open_console(browser, live_url, user):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": 1600, "height": 900})
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    return page


def test_keyboard_dispatch_reaches_a_second_console(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    bob = User.objects.create_user("bob", role=Role.DISPATCHER)
    watching = open_console(browser, live_url, bob)
    page = open_console(browser, live_url, alice)
    keys = CountedKeyboard(page)

    keys.press("n")
    keys.type(CALLER)
    keys.press("Enter")
    keys.type("tiyuzhong")  # part of 明湾体育中心 (mingwan tiyu zhongxin) in pinyin
    page.wait_for_selector("#place-results li.active:has-text('明湾体育中心')")
    keys.press("Enter")
    page.wait_for_selector("#location-line:has-text('明湾体育中心')")
    keys.press("1")  # the first complaint: cardiac arrest
    page.wait_for_selector("#triage .triage-question")
    keys.press("1")  # not responding, not breathing normally
    page.wait_for_selector("#recommendation table.units tbody tr.chosen")
    page.wait_for_selector("#dispatch-button:not([disabled])")
    shown_unit = page.inner_text("#recommendation table.units tbody tr.chosen td:nth-child(2)")
    shown_hospital = page.inner_text("#recommendation table.hospitals tbody tr.chosen td:nth-child(2)")
    keys.press("Enter")

    assert keys.actions <= MAX_ACTIONS
    incident = Incident.objects.get(caller_number=CALLER)
    watching.wait_for_selector(f"#incident-{incident.pk} .chip:has-text('{shown_unit}')")
    page.wait_for_selector(f"#detail:has-text('{shown_unit}')")

    incident.refresh_from_db()
    assert incident.priority == 1
    assert incident.place == demo_city
    assert incident.location_source == "gazetteer"
    assert incident.dispatched_at is not None
    assignment = Assignment.objects.select_related("unit", "hospital").get(incident=incident)
    assert assignment.unit.call_sign == shown_unit
    assert UnitCapability.ALS in assignment.unit.capabilities
    assert assignment.recommended_rank == 1 and assignment.override_reason == ""
    assert assignment.hospital is not None and assignment.hospital.name == shown_hospital
    assert assignment.hospital_rank == 1
    assert assignment.eta_at_dispatch_s and assignment.eta_at_dispatch_s > 0
    # The second console got it live: its list row names the priority and the complaint.
    row = watching.inner_text(f"#incident-{incident.pk}")
    assert "I" in row and incident.chief_complaint in row
