"""The crew tablet in a real browser, through a network drop, on the demo city.

A crew member on shift gets an assignment with its alert (sound and vibration), acknowledges,
goes en route, loses the network, taps on scene and records vital signs (the screen says it is
offline with two changes waiting), and comes back online: the queue drains in order, the
database has every change once with the tablet's own times, and a dispatcher's console shows
the unit's statuses in that order in the incident's timeline.
"""

import time

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.dateparse import parse_datetime

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Event, Place, Role, User, VitalSign
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital
from tests.support.browser import browser, eventually, signed_in_page  # noqa: F401  (fixtures)
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Record what the page asks of the speaker and the vibration motor.
RECORDER = """
window.__vibrations = [];
navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
window.__chimes = [];
document.addEventListener("chime", (event) => window.__chimes.push(event.detail));
"""


@pytest.fixture
def crew_on_shift():
    call_command("make_demo_city", verbosity=0)
    free = Unit.objects.filter(status=UnitStatus.AVAILABLE, position__isnull=False)
    unit = free.order_by("call_sign").first()
    tina = User.objects.create_user("tina", role=Role.CREW)
    on_shift(tina, unit)
    return tina, unit


def open_tablet(browser, live_url, crew, unit):  # noqa: F811
    page = signed_in_page(
        browser,
        live_url,
        crew,
        viewport={"width": 1280, "height": 800},
        has_touch=True,
        geolocation={"latitude": unit.position.y, "longitude": unit.position.x, "accuracy": 10},
        permissions=["geolocation"],
    )
    page.add_init_script(RECORDER)
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] #idle:not([hidden])")
    return page


def test_a_job_through_a_network_drop(browser, live_url, crew_on_shift):  # noqa: F811
    crew, unit = crew_on_shift
    page = open_tablet(browser, live_url, crew, unit)
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    place = Place.objects.get(name="明湾体育中心")
    incident = create_incident(
        actor=alice,
        caller_number="+8613912345678",
        location=place.point,
        location_source="gazetteer",
        address="明湾体育中心 东门",
        priority=1,
        chief_complaint="胸痛",
    )
    assignment = dispatch_unit(incident, unit, actor=alice, hospital=Hospital.objects.first())

    # The alert: on screen, highlighted, with sound and vibration, until acknowledged.
    # The test process cannot ring the doorbell (Playwright's loop runs in this thread), so
    # the tablet hears of the job from the socket's 10 s catch-up or its own 15 s poll.
    page.wait_for_selector("#alert:not([hidden]):has-text('胸痛')", timeout=20_000)
    assert "alert" in page.evaluate("window.__chimes")
    assert page.evaluate("window.__vibrations.length") >= 1
    assert page.is_hidden("#job")
    page.tap("#ack")
    page.wait_for_selector("#alert", state="hidden")
    assert eventually(lambda: Assignment.objects.get(pk=assignment.pk).acknowledged_at)
    page.tap(".status-button.next[data-status='en_route']")
    assert eventually(lambda: Assignment.objects.get(pk=assignment.pk).en_route_at)
    page.wait_for_selector("#offline", state="hidden")
    # The route to the scene from our own roads, and the hand-off to the phone's navigation.
    page.wait_for_selector("#job-eta:not(:empty)")
    assert page.get_attribute("#navigate", "href").startswith(f"geo:{place.point.y},{place.point.x}")

    page.context.set_offline(True)
    page.tap(".status-button.next[data-status='on_scene']")
    page.tap("#tabs [data-tab='vitals']")
    form = page.locator("#vitals-form")
    form.locator("[name=heart_rate]").fill("112")
    form.locator("[name=systolic_bp]").fill("90")
    form.locator("[name=diastolic_bp]").fill("60")
    form.locator("[name=spo2]").fill("94")
    form.locator("button[type=submit]").tap()
    page.wait_for_selector("#net.net-off:has-text('离线')")
    assert page.locator("#queue-list li").count() == 2
    assert "待发送" in page.inner_text("#unit-status")  # the tap shows at once, marked waiting
    assert page.locator("#vitals-list li.waiting").count() == 1
    time.sleep(1)
    assert Assignment.objects.get(pk=assignment.pk).on_scene_at is None
    assert not VitalSign.objects.exists()

    page.context.set_offline(False)
    page.wait_for_selector("#offline", state="hidden", timeout=20_000)
    page.wait_for_selector("#net.net-on")

    assignment.refresh_from_db()
    statuses = Event.objects.filter(kind="unit.status", unit=unit, seq__gt=assignment_seq(assignment))
    assert [e.data["to"] for e in statuses.order_by("seq")] == ["acknowledged", "en_route", "on_scene"]
    server = [assignment.acknowledged_at, assignment.en_route_at, assignment.on_scene_at]
    assert None not in server and server == sorted(server)
    tapped = {name: parse_datetime(value) for name, value in assignment.client_times.items()}
    assert set(tapped) == {"acknowledged_at", "en_route_at", "on_scene_at"}
    assert tapped["on_scene_at"] < assignment.on_scene_at  # tapped offline, applied on return
    (vitals,) = VitalSign.objects.filter(assignment=assignment)
    assert (vitals.heart_rate, vitals.systolic_bp, vitals.diastolic_bp, vitals.spo2) == (112, 90, 60, 94)
    assert vitals.client_time is not None and vitals.client_time < vitals.recorded_at
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.ON_SCENE

    console = signed_in_page(browser, live_url, alice, viewport={"width": 1600, "height": 900})
    console.goto(f"{live_url}/console/")
    console.wait_for_selector("#console[data-ready='1']")
    console.click(f"#incident-{incident.pk}")
    with translation.override("zh-hans"):
        labels = [f"{unit.call_sign} {UnitStatus(s).label}" for s in ("acknowledged", "en_route", "on_scene")]
    console.wait_for_selector(f"#timeline li:has-text('{labels[-1]}')")
    lines = console.locator("#timeline li").all_inner_texts()
    where = [next(n for n, line in enumerate(lines) if line.endswith(label)) for label in labels]
    assert where == sorted(where)


def assignment_seq(assignment: Assignment) -> int:
    return Event.objects.get(kind="assignment.created", data__assignment=assignment.pk).seq
