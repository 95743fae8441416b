"""The pre-hospital care record (院前急救病历) a receiving hospital keeps: a printable page and a
PDF with the patient's times, triage, findings, vital signs, interventions, drugs and crew,
opened only by that hospital's staff and the control room."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from dispatch.models import Assignment
from tests.support.crew_tablet import crew_member
from tests.support.er_board_world import client_for, handed_over, patient_on_the_way

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def hhmm(value) -> str:
    return timezone.localtime(value).strftime("%H:%M")


@pytest.fixture
def delivered(world, triage_defaults):
    world.carol.first_name = "张医生"
    world.carol.save()
    notice = patient_on_the_way(world, world.als1, world.city, world.carol, name="王先生", triaged=True)
    return handed_over(world, notice, world.dave)


def test_the_pdf_holds_the_times_vitals_and_crew(world, delivered):
    response = client_for(world.dave).get(f"/er/records/{delivered.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    SCREENS.mkdir(parents=True, exist_ok=True)
    (SCREENS / "care_record.pdf").write_bytes(response.content)  # to look at (pdftoppm)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    a = Assignment.objects.select_related("incident").get(pk=delivered.assignment_id)
    assert a.incident.number in text and "T-ALS-1" in text
    for at in (a.dispatched_at, a.on_scene_at, a.transport_started_at, a.at_hospital_at, a.handover_at):
        assert hhmm(at) in text
    for value in ("118", "92/60", "93", "104", "101/66", "96"):  # both sets of vitals
        assert value in text
    assert "胸骨后压榨样疼痛" in text and "阿司匹林" in text and "300 mg" in text and "吸氧" in text
    assert "清醒，呼吸正常" in text  # the triage in words
    assert "张医生" in text and "dave" in text  # the crew and the receiving clinician
    assert "13800138000" not in text and "门禁" not in text  # never the caller nor the dispatcher's notes


def test_the_page_shows_the_same_record(world, delivered):
    response = client_for(world.dave).get(f"/er/records/{delivered.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "院前急救病历" in page and "王先生" in page and "胸骨后压榨样疼痛" in page
    assert 'id="record-vitals"' in page and "118" in page and "104" in page
    assert f"/er/records/{delivered.pk}.pdf" in page
    assert "13800138000" not in page and "门禁" not in page


@pytest.mark.parametrize("suffix", ["/", ".pdf"])
def test_only_the_receiving_hospital_and_the_control_room_open_it(world, delivered, suffix):
    url = f"/er/records/{delivered.pk}{suffix}"
    assert client_for(world.frank).get(url).status_code == 404  # another hospital: as if none
    assert client_for(world.frank).get(f"/er/records/999999{suffix}").status_code == 404
    assert client_for(world.carol).get(url).status_code == 403  # a crew has no ER records
    assert client_for(world.alice).get(url).status_code == 200
    assert client_for(world.dave).get(url).status_code == 200
    anonymous = client_for(crew_member("x"))
    anonymous.logout()
    assert anonymous.get(url).status_code == 302  # to sign-in


def test_a_record_for_a_hospital_without_fhir_or_board(world, triage_defaults):
    world.county.has_board = False
    world.county.fhir_endpoint = ""
    world.county.save()
    notice = patient_on_the_way(world, world.als2, world.county, crew_member("chen"), name="李女士")
    notice = handed_over(world, notice, world.frank)
    response = client_for(world.frank).get(f"/er/records/{notice.pk}.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
