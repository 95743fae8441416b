"""The details of an incident on the console, by keyboard, at any time while it is open: E into
the form, each field saved as the dispatcher leaves it (Enter goes on), odd characters kept as
typed. A second console shows them without a reload and never loses what its own dispatcher is
typing meanwhile; the crew on the job reads the address detail, access, hazards and notes under
"Dispatcher notes" on its tablet; a closed incident's details are read-only."""

import pytest

from dispatch.incidents.actions import close_incident, create_incident
from dispatch.models import Incident
from fleet.models import CrewShift
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, open_console, show_incident
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = {
    "caller_name": '王<b>先生</b> "老王"',
    "patient_name": "O'Brien 李",
    "patient_sex": "M",
    "patient_age": "0",
    "address_building": "3栋&B座",
    "address_floor": "-1",
    "address_room": "502<script>alert(1)</script>",
    "access_notes": "门禁 #1234；走楼梯",
    "hazards": "大狗 🐕 %(x)s",
    "notes": "家属在楼下\n第二行",
}


def test_details_typed_on_one_console_reach_another_and_the_crew(browser, live_url, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city)
    incident = assignment.incident
    page = open_console(browser, live_url, world.alice)
    other = open_console(browser, live_url, world.bob)
    show_incident(page, incident.pk)
    show_incident(other, incident.pk)
    other.click("#detail-details [data-detail='notes']")
    other.keyboard.type("鲍勃正在输入")  # Bob is typing in the notes, not saved yet

    Desk(page).details(TYPED)
    stored = Incident.objects.get(pk=incident.pk)
    assert {name: getattr(stored, name) for name in TYPED} == {**TYPED, "patient_age": 0}
    assert stored.patient_count == 1  # left as it was

    # Bob's console shows Alice's details live, and keeps what he is typing.
    other.wait_for_selector("#detail .facts dd.hazard:has-text('大狗')")
    assert other.input_value("#detail-details [data-detail='address_room']") == TYPED["address_room"]
    assert other.input_value("#detail-details [data-detail='notes']") == "鲍勃正在输入"
    assert other.locator("script:has-text('alert(1)')").count() == 0  # shown as text, never run

    crew = CrewShift.objects.current().filter(unit=world.als1).first().user
    tablet = signed_in_page(browser, live_url, crew, viewport={"width": 1280, "height": 800})
    tablet.goto(f"{live_url}/tablet/")
    tablet.click("#tabs [data-tab='details']")
    notes = tablet.locator("#details dd").last
    notes.locator(".hazards:has-text('大狗 🐕 %(x)s')").wait_for()
    text = notes.inner_text()
    for words in (
        "3栋&B座",
        "-1",
        "502<script>alert(1)</script>",
        "门禁 #1234；走楼梯",
        "家属在楼下\n第二行",
    ):
        assert words in text, (words, text)


def test_a_closed_incidents_details_are_read_only(browser, live_url, world):  # noqa: F811
    incident = create_incident(actor=world.alice, caller_number="13800000001")
    close_incident(incident, actor=world.alice, outcome="false_call")
    page = open_console(browser, live_url, world.alice)
    page.keyboard.press("f")
    page.keyboard.type("13800000001")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results button.found:focus")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail .closed-banner")
    fields = page.locator("#detail-details [data-detail]")
    assert fields.count() == 12
    assert all(fields.nth(i).is_disabled() for i in range(12))
