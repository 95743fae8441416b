"""Declaring a major incident (群体伤) from the console itself, in one page through a run of calls:
three calls taken and sent with the keyboard, the second given 12 patients in its details; then
Q on it opens the declare dialog with level Ⅲ already chosen (what the rule gives 12 patients),
Enter declares it, and the list and the detail show the 群体伤 badge with the casualty board's
link and the console's map its scene. On the third, declared meanwhile by a supervisor on another
screen, the dialog keeps the server's refusal in Chinese and the badge shows the supervisor's
level; the first stays as it was. The same in English, by the detail's button, on a screen of
1366×768. Screenshots in /tmp/major-shots."""

from pathlib import Path

import pytest

from dispatch.incidents.actions import create_incident, update_incident_details
from dispatch.major.actions import declare_major_incident
from dispatch.models import Incident, MajorIncident, User
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import (  # noqa: F401  (demo_city: a fixture)
    Desk,
    demo_city,
    findable_places,
    incident_of,
    no_browser_dialogs,
    open_console,
    show_incident,
)
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/major-shots")


def shift_of_three(page, places) -> list[Incident]:
    """Three calls, each located, triaged (a road traffic collision) and sent with Enter; the
    second's details get 12 patients."""
    desk = Desk(page)
    incidents = []
    for n, place in enumerate(places, 1):
        caller = f"1390000012{n}"
        desk.new_call(caller)
        desk.locate(place)
        desk.triage("7", "1")
        desk.dispatch()
        if n == 2:
            desk.details({"patient_count": "12"})
            desk.press("Escape")  # out of the notes: the keys are the console's again
        incidents.append(incident_of(caller))
    assert all(incidents) and Incident.objects.get(pk=incidents[1].pk).patient_count == 12
    return incidents


def badge_shown(page, incident: Incident, major: MajorIncident) -> None:
    page.wait_for_selector(f"#incident-{incident.pk} .major-badge[data-major='{major.pk}']")


def test_declared_from_the_console_on_the_second_call_of_a_shift(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role="dispatcher")
    bob = User.objects.create_user("bob", role="supervisor")
    page = open_console(browser, live_url, alice, width=1920, height=1080)
    asked = no_browser_dialogs(page)
    first, second, third = shift_of_three(page, findable_places(alice, 3))

    show_incident(page, second.pk)
    page.keyboard.press("q")
    page.wait_for_selector("#choice-dialog[open] form")
    checked = page.locator("#choice-dialog input[name=choice]:checked")
    assert checked.count() == 1
    label = checked.locator("xpath=..").inner_text()
    assert "Ⅲ级" in label and "较大" in label, label  # 12 patients: the rule's level III
    assert "12" in page.inner_text("#choice-dialog .intro")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-declare-dialog-1920-zh.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#choice-dialog", state="hidden")
    major = MajorIncident.objects.get(incident=second)
    assert (major.level, major.declared_by, major.casualties_reported) == (3, alice, 12)
    badge_shown(page, second, major)
    assert "群体伤 Ⅲ" in page.inner_text(f"#incident-{second.pk} .major-badge")
    link = page.locator(f"#detail .major-line a[href='/major/{major.pk}/']")
    assert link.count() == 1 and "伤员看板" in link.inner_text()
    assert page.locator("#declare-major").count() == 0
    page.wait_for_selector(f"#console-map .major-scene-icon[data-major='{major.pk}']")
    page.keyboard.press("q")  # declared already: Q does nothing
    assert page.locator("#choice-dialog[open]").count() == 0
    page.screenshot(path=str(SHOTS / "console-declared-1920-zh.png"))

    # The third: Q, level IV chosen (one patient); a supervisor declares it meanwhile at level II.
    show_incident(page, third.pk)
    page.keyboard.press("q")
    page.wait_for_selector("#choice-dialog[open] form")
    assert "Ⅳ级" in page.locator("#choice-dialog input[name=choice]:checked").locator("xpath=..").inner_text()
    theirs = declare_major_incident(Incident.objects.get(pk=third.pk), level=2, actor=bob)
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelector('#choice-dialog .error').textContent.includes('已宣布')")
    assert page.locator("#choice-dialog[open]").count() == 1  # the refusal stays until cancelled
    page.keyboard.press("Escape")
    page.wait_for_selector("#choice-dialog", state="hidden")
    badge_shown(page, third, theirs)
    assert "Ⅱ" in page.inner_text(f"#incident-{third.pk} .major-badge")
    assert MajorIncident.objects.filter(incident=third).count() == 1
    assert MajorIncident.objects.get(incident=third).declared_by == bob

    # The first is untouched: no badge, its declare control there.
    show_incident(page, first.pk)
    assert page.locator(f"#incident-{first.pk} .major-badge").count() == 0
    assert page.locator("#declare-major").count() == 1
    assert not MajorIncident.objects.filter(incident=first).exists()
    assert asked == []


def test_declared_by_its_button_in_english_on_a_small_screen(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role="dispatcher")
    place = findable_places(alice, 1)[0]
    incident = create_incident(
        actor=alice,
        caller_number="13900000999",
        location=place.point,
        location_source="gazetteer",
        address=f"{place.name} <北门> & 'B'",
        chief_complaint="大巴侧翻",
    )
    update_incident_details(incident, actor=alice, patient_count=35)
    page = open_console(browser, live_url, alice, width=1366, height=768)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    page.reload()
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    show_incident(page, incident.pk)
    assert "Declare major incident" in page.inner_text("#declare-major")
    page.click("#declare-major")
    page.wait_for_selector("#choice-dialog[open] form")
    assert f"Declare {incident.number} a major incident" in page.inner_text("#choice-dialog h2")
    checked = page.locator("#choice-dialog input[name=choice]:checked").locator("xpath=..").inner_text()
    assert "Level II," in checked, checked  # 35 patients: level II
    assert "<北门>" in page.inner_text("#choice-dialog .intro")  # the address as typed, not as markup
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-declare-dialog-1366-en.png"))
    page.keyboard.press("1")  # the dispatcher judges it graver: level I
    page.keyboard.press("Enter")
    page.wait_for_selector("#choice-dialog", state="hidden")
    major = MajorIncident.objects.get(incident=incident)
    assert major.level == 1
    badge_shown(page, incident, major)
    assert "Major incident Ⅰ" in page.inner_text(f"#incident-{incident.pk} .major-badge")
    assert "Casualty board" in page.inner_text("#detail .major-line")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(SHOTS / "console-declared-1366-en.png"))
