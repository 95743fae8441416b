"""The crew tablet through a shift, on a tablet (1280×800) and on a phone (390×844), on the demo
city: two jobs one after the other in one page.

Job one: a status tapped by mistake is undone from the button that counts down after each tap
(the console's timeline shows the correction); "available" during patient contact opens a
dialog that asks why (a reason is required) instead of ending the job; once on scene the ETA
line says how long on scene, never "to the scene 1 min · 0.0 km". Job two: a STEMI whose
destination goes on diversion for chest pain while the patient is on board: the banner names
the next best hospital and one tap redirects; the console shows the alert. The ER records the
handover: the handover step is done, the button now says returning. Messages are signed with
the call sign, the caller instruction is shown by name. On the phone the map is in view without
scrolling past the buttons.

The shift list (40 units) filters as the crew types: call sign, station, pinyin initials.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from dispatch.handoff.actions import record_handover, set_diversion
from dispatch.incidents.actions import create_incident, dispatch_unit, triage_incident
from dispatch.locate.gazetteer import search_keys
from dispatch.models import Assignment, CallerInstruction, Event, Message, Place, Role, User
from fleet.models import Station, Unit, UnitStatus
from hospitals.models import Hospital
from tests.support.browser import browser, eventually, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"tablet": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
FIRST = "明湾市第一人民医院"
# The tablet hears of changes made here from its socket's 10 s catch-up or its 15 s poll.
HEAR = 25_000


@pytest.fixture
def city(triage_defaults):
    call_command("make_demo_city", verbosity=0)
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    return alice


def crew_on(unit_call_sign: str = "") -> tuple[User, Unit]:
    free = Unit.objects.filter(status=UnitStatus.AVAILABLE, position__isnull=False)
    unit = free.get(call_sign=unit_call_sign) if unit_call_sign else free.order_by("call_sign").first()
    tina = User.objects.create_user("tina", role=Role.CREW)
    on_shift(tina, unit)
    return tina, unit


def open_tablet(browser, live_url, crew, unit, size):  # noqa: F811
    page = signed_in_page(
        browser,
        live_url,
        crew,
        viewport=SIZES[size],
        has_touch=True,
        geolocation={"latitude": unit.position.y, "longitude": unit.position.x, "accuracy": 10},
        permissions=["geolocation"],
    )
    page.goto(f"{live_url}/tablet/")
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"tablet-shift-{name}.png"))


def new_job(alice, unit, complaint, *, hospital=None, answers=None, priority=1):
    place = Place.objects.get(name="明湾体育中心")
    incident = create_incident(
        actor=alice,
        caller_number="+8613912345678",
        location=place.point,
        location_source="gazetteer",
        address="明湾体育中心 东门",
        priority=priority,
        chief_complaint=complaint,
    )
    if answers is not None:
        triage_incident(incident, actor=alice, priority=priority, chief_complaint=complaint, answers=answers)
    return dispatch_unit(incident, unit, actor=alice, hospital=hospital)


def tap(page, status):
    page.tap(f".status-button[data-status='{status}']:not([disabled])")


def unit_status(unit):
    return Unit.objects.get(pk=unit.pk).status


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_two_jobs_in_one_shift(browser, live_url, city, size):  # noqa: F811
    alice = city
    crew, unit = crew_on()
    page = open_tablet(browser, live_url, crew, unit, size)
    page.wait_for_selector("#tablet[data-ready='1'] #idle:not([hidden])")
    console = signed_in_page(browser, live_url, alice, viewport={"width": 1600, "height": 900})
    console.goto(f"{live_url}/console/")
    console.wait_for_selector("#console[data-ready='1']")

    # --- job one: an undo, then ending it before transport, with a reason -------------------
    first = new_job(alice, unit, "腹痛", answers={"instruction": "cpr"}, priority=2)
    page.wait_for_selector("#alert:not([hidden])", timeout=HEAR)
    if size == "phone":
        shot(page, f"{size}-alert")
    page.tap("#ack")
    page.wait_for_selector("#undo-bar:not([hidden])")
    tap(page, "en_route")
    assert eventually(lambda: unit_status(unit) == UnitStatus.EN_ROUTE)
    tap(page, "on_scene")
    page.wait_for_selector("#undo-bar:not([hidden]) #undo-count:has-text('秒')")
    assert eventually(lambda: unit_status(unit) == UnitStatus.ON_SCENE)
    shot(page, f"{size}-undo")
    page.tap("#undo")  # on scene by mistake, still driving
    assert eventually(lambda: unit_status(unit) == UnitStatus.EN_ROUTE)
    page.wait_for_selector("#undo-bar", state="hidden")
    assert Assignment.objects.get(pk=first.pk).on_scene_at is None
    correction = Event.objects.get(kind="unit.status_corrected")
    assert (correction.data["from"], correction.data["to"]) == ("on_scene", "en_route")
    page.wait_for_selector(".status-button.next[data-status='on_scene']")

    tap(page, "on_scene")
    tap(page, "patient_contact")
    assert eventually(lambda: unit_status(unit) == UnitStatus.PATIENT_CONTACT)
    # On scene: how long, not the way there.
    page.wait_for_selector("#job-eta:has-text('到场于')")
    assert "到现场" not in page.inner_text("#job-eta")
    # The instruction by its name, not its code.
    page.tap("#tabs [data-tab='details']")
    cpr = CallerInstruction.objects.get(code="cpr")
    details = page.inner_text("#details")
    assert cpr.title in details and "cpr" not in details.lower().replace(cpr.title.lower(), "")

    # A stray tap on available asks first; going back leaves the job as it was.
    tap(page, "available")
    page.wait_for_selector("#end-dialog[open]")
    shot(page, f"{size}-end-dialog")
    page.tap("#end-cancel")
    page.wait_for_selector("#end-dialog:not([open])", state="attached")
    assert unit_status(unit) == UnitStatus.PATIENT_CONTACT
    tap(page, "available")
    page.tap("#end-confirm")  # no reason chosen
    page.wait_for_selector("#end-error:has-text('原因')")
    page.tap("#end-dialog input[value=other]")
    page.tap("#end-confirm")  # other needs words
    page.wait_for_selector("#end-error:not(:empty)")
    page.fill("#end-note", "家属<自行>送医")
    page.tap("#end-confirm")
    assert eventually(lambda: Assignment.objects.get(pk=first.pk).cleared_at)
    ended = Assignment.objects.get(pk=first.pk)
    assert (ended.end_reason, ended.end_note) == ("other", "家属<自行>送医")
    page.wait_for_selector("#idle:not([hidden])")
    page.wait_for_selector("#undo-bar:not([hidden])")  # ending it can be undone too, briefly

    # --- job two: a STEMI whose destination goes on diversion -------------------------------
    heart = Hospital.objects.get(name=FIRST)
    second = new_job(alice, unit, "胸痛 STEMI", hospital=heart, answers={"hospital_capability": "chest_pain"})
    page.wait_for_selector("#alert:not([hidden])", timeout=HEAR)
    page.tap("#ack")
    for status in ("en_route", "on_scene", "patient_contact", "transporting"):
        page.wait_for_selector(f".status-button.next[data-status='{status}']")
        tap(page, status)
    assert eventually(lambda: unit_status(unit) == UnitStatus.TRANSPORTING)

    # Crew messages are signed with the call sign, the person beneath.
    page.tap("#tabs [data-tab='messages']")
    page.fill("#message-text", "STEMI，请通知导管室 <b>")
    page.tap("#message-form button[type=submit]")
    assert eventually(lambda: Message.objects.filter(text="STEMI，请通知导管室 <b>").exists())
    page.wait_for_selector(f"#message-list li.to_control:not(.waiting) .from:text-is('{unit.call_sign}')")
    assert "tina" in page.inner_text("#message-list li.to_control .who")

    set_diversion(heart, ["chest_pain"], actor=None, reason="导管室检修")
    alert = Event.objects.get(kind="assignment.destination_diverting")
    other = alert.data["alternative"]
    assert other and other["id"] != heart.pk
    page.wait_for_selector("#diversion:not([hidden])", timeout=HEAR)
    assert FIRST in page.inner_text("#diversion-text")
    shot(page, f"{size}-diversion")
    console.wait_for_selector(f".destination-alert:has-text('{unit.call_sign}')", timeout=HEAR)
    page.tap("#diversion-go")
    assert eventually(lambda: Assignment.objects.get(pk=second.pk).hospital_id == other["id"])
    page.wait_for_selector("#diversion", state="hidden")

    # The ER records the handover: that step is done; what is left is leaving.
    tap(page, "at_hospital")
    assert eventually(lambda: unit_status(unit) == UnitStatus.AT_HOSPITAL)
    nurse = User.objects.create_user("nurse", role=Role.HOSPITAL, hospital_id=other["id"])
    record_handover(Assignment.objects.get(pk=second.pk), actor=nurse)
    returning = page.locator(".status-button[data-status='returning']")
    page.wait_for_selector(".status-button[data-status='returning'] small:has-text('急诊')", timeout=HEAR)
    assert "交接" not in returning.locator("span").inner_text()
    shot(page, f"{size}-handed-over")
    tap(page, "returning")
    assert eventually(lambda: unit_status(unit) == UnitStatus.RETURNING)
    assert Assignment.objects.get(pk=second.pk).end_reason == ""

    # --- the console: the correction, the reason, the diversion on the timelines ------------
    console.click(f"#incident-{first.incident_id}")
    console.wait_for_selector("#timeline li[data-kind='unit.status_corrected']")
    lines = console.inner_text("#timeline")
    assert "撤销误点" in lines and "家属<自行>送医" in lines
    console.click(f"#incident-{second.incident_id}")
    console.wait_for_selector("#timeline li[data-kind='assignment.destination_diverting']")
    shot(console, f"{size}-console")


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_the_phone_shows_the_map_without_scrolling(browser, live_url, city, size):  # noqa: F811
    alice = city
    crew, unit = crew_on()
    page = open_tablet(browser, live_url, crew, unit, size)
    page.wait_for_selector("#tablet[data-ready='1'] #idle:not([hidden])")
    new_job(alice, unit, "胸痛", hospital=Hospital.objects.get(name=FIRST))
    page.wait_for_selector("#alert:not([hidden])", timeout=HEAR)
    page.tap("#ack")
    page.wait_for_selector(".status-button.next[data-status='en_route']")
    tap(page, "en_route")
    page.wait_for_selector("#job-eta:not(:empty)", timeout=HEAR)
    shot(page, f"{size}-en-route")
    height = SIZES[size]["height"]
    width = SIZES[size]["width"]
    box = page.locator("#tablet-map").bounding_box()
    assert box and box["y"] < height - 120, box  # the map starts on the first screen
    assert box["height"] >= 160
    # Every tab reachable: none beyond the right edge without a way to get there.
    tabs = page.locator("#tabs")
    assert tabs.evaluate(
        "(t) => t.scrollWidth <= t.clientWidth + 1 || getComputedStyle(t).overflowX !== 'visible'"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    # The next step is on the first screen too. Measured in one go in the page: the buttons are
    # drawn again whenever the job is read again, so an element located first may be gone by the
    # time its box is asked for (the box is then None).
    page.wait_for_selector(".status-button.next[data-status='on_scene']")
    bottom = page.evaluate(
        "document.querySelector('.status-button.next')?.getBoundingClientRect().bottom ?? null"
    )
    assert bottom is not None and bottom <= height, bottom


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_the_shift_list_filters_as_the_crew_types(browser, live_url, city, size):  # noqa: F811
    tina = User.objects.create_user("tina", role=Role.CREW)
    page = open_tablet(browser, live_url, tina, Unit.objects.filter(position__isnull=False).first(), size)
    page.wait_for_selector("#shift:not([hidden]) #unit-pick [data-unit]")
    total = Unit.objects.count()
    assert page.locator("#unit-pick [data-unit]").count() == total >= 40
    unit = Unit.objects.filter(home_station__isnull=False).order_by("call_sign").first()
    station: Station = unit.home_station
    initials = search_keys(station.name)[1]
    page.fill("#unit-search", initials)
    wait_until(page, f"document.querySelectorAll('#unit-pick [data-unit]').length < {total}")
    shown = page.locator("#unit-pick [data-unit] b").all_inner_texts()
    assert unit.call_sign in shown
    same_station = Unit.objects.filter(home_station=station).values_list("call_sign", flat=True)
    assert set(same_station) <= set(shown)
    shot(page, f"{size}-shift-search")
    page.fill("#unit-search", unit.call_sign.lower())
    wait_until(page, "document.querySelectorAll('#unit-pick [data-unit]').length === 1")
    if unit.plate:  # the plate's letters and digits, as read off the vehicle
        page.fill("#unit-search", unit.plate[1:])
        wait_until(page, "document.querySelectorAll('#unit-pick [data-unit]').length === 1")
    page.fill("#unit-search", "没有这辆车")
    page.wait_for_selector("#unit-pick li.muted")
    page.fill("#unit-search", "")
    wait_until(page, f"document.querySelectorAll('#unit-pick [data-unit]').length === {total}")
