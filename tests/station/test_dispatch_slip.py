"""The dispatch slip (派车单) of a station's job: incident number, time, unit, address with the
door, complaint, priority, the triage questions and answers, hazards and the dispatcher; never
the caller's number nor the patient's name; odd characters in the address printed as written;
the page prints itself (its script) and has a print stylesheet."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from dispatch.incidents.actions import triage_incident, update_incident_details
from tests.support.station_screens import ODD_ADDRESS, screen, sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def triaged(world, triage_defaults):
    a = sent(world, world.als1, address=ODD_ADDRESS)
    triage_incident(
        a.incident,
        actor=world.alice,
        priority=1,
        chief_complaint="胸痛 30 分钟",
        answers={"protocol": "chest-pain", "answers": [2, 1, 1]},
    )
    update_incident_details(
        a.incident,
        actor=world.alice,
        hazards="犬只 <凶猛>",
        address_building="3栋",
        address_floor="12楼",
        patient_name="王某某",
        access_notes="门禁 1234#",
    )
    return a


def test_the_slip_has_everything_the_crew_takes_and_nothing_of_the_caller(world, triaged):
    world.alice.first_name = "调度员甲"
    world.alice.save(update_fields=["first_name"])
    client = Client()
    client.force_login(screen(world.north))
    response = client.get(f"/station/slip/{triaged.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    when = timezone.localtime(triaged.dispatched_at).strftime("%Y-%m-%d %H:%M:%S")
    for part in (
        "派车单",
        triaged.incident.number,
        "T-ALS-1",
        when,
        "胸痛 30 分钟",
        "I级 危重",
        "3栋 · 12楼",
        "门禁 1234#",
        "犬只 &lt;凶猛&gt;",
        "调度员甲",
        'id="slip-triage"',
        "清醒，呼吸正常",  # an answer, in the words the dispatcher chose
    ):
        assert part in html, part
    # The address as typed: escaped once, never markup, nothing lost (a 4-byte character too).
    assert "滨海路 &lt;b&gt;88&lt;/b&gt; 号 &amp; &quot;东门&quot; &#x27;A&#x27; 座 ✚ \\ 𠀋" in html
    assert "<b>88</b>" not in html
    assert html.count('<li><span class="slip-q">') == 3  # the three questions answered
    for secret in ("+8613800138000", "13800138000", "王某某"):
        assert secret not in html
    assert "js/station-slip.js" in html and "css/station.css" in html


def test_the_slip_prints_itself_and_the_stylesheet_has_a_print_layout():
    script = (Path(settings.BASE_DIR) / "static/js/station-slip.js").read_text()
    assert "window.print()" in script
    css = (Path(settings.BASE_DIR) / "static/css/station.css").read_text()
    assert "@media print" in css and ".topbar, .slip-tools { display: none; }" in css


def test_a_slip_in_english(world, triaged):
    client = Client()
    client.force_login(screen(world.north))
    html = client.get(f"/station/slip/{triaged.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dispatch slip" in html and "Hazards" in html
