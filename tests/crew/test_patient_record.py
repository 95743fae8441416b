"""The crew fills the patient record and vital signs on the way; the receiving ER's board gets
each change as an event; a wrong or oversized value is refused with a clear message and
nothing of it is written."""

import pytest
from django.db import IntegrityError, transaction

from dispatch.core.actions import ActionError
from dispatch.crew.actions import record_vitals
from dispatch.models import Event, PatientRecord, VitalSign
from dispatch.units.actions import set_unit_status
from tests.support.crew_tablet import post, signed_in


def test_fields_sent_change_and_the_rest_stay(tablet, assignment):
    url = f"/api/crew/assignments/{assignment.pk}/patient"
    status, body = post(
        tablet, url, {"name": "王先生", "age": 64, "sex": "M", "findings": "胸骨后压榨样疼痛"}
    )
    assert status == 200 and body["name"] == "王先生"
    drugs = [{"name": "阿司匹林", "dose": "300 mg", "route": "嚼服", "given_at": "2026-12-01T08:20:00+08:00"}]
    status, body = post(tablet, url, {"interventions": "心电监护，吸氧", "drugs": drugs})
    assert status == 200
    record = PatientRecord.objects.get(assignment=assignment)
    assert (record.name, record.age, record.sex, record.findings) == ("王先生", 64, "M", "胸骨后压榨样疼痛")
    assert record.interventions == "心电监护，吸氧"
    assert record.drugs == [{**drugs[0], "given_at": "2026-12-01T08:20:00+08:00"}]
    shown = tablet.get(url).json()
    assert shown["patient"]["drugs"][0]["name"] == "阿司匹林" and shown["vitals"] == []


def test_each_change_reaches_the_receiving_hospital(world, tablet, assignment):
    post(tablet, f"/api/crew/assignments/{assignment.pk}/patient", {"chief_complaint": "胸痛 2 小时"})
    post(tablet, f"/api/crew/assignments/{assignment.pk}/vitals", {"heart_rate": 112, "spo2": 93})
    updated = Event.objects.get(kind="patient.updated")
    vitals = Event.objects.get(kind="vitals.recorded")
    for event in (updated, vitals):
        assert (event.hospital, event.unit, event.incident_id) == (
            world.city,
            world.als1,
            assignment.incident_id,
        )
    assert updated.data["fields"] == {"chief_complaint": "胸痛 2 小时"}
    assert vitals.data["readings"] == {"heart_rate": 112, "spo2": 93}
    board = signed_in(world.dave).get("/api/events").json()
    assert {"patient.updated", "vitals.recorded"} <= {e["kind"] for e in board}
    assert not {"patient.updated", "vitals.recorded"} & {
        e["kind"] for e in signed_in(world.frank).get("/api/events").json()
    }


def test_a_full_set_of_vitals_is_stored_with_both_times(tablet, assignment):
    reading = {
        "taken_at": "2026-12-01T08:15:00+08:00",
        "client_time": "2026-12-01T08:16:00+08:00",
        "heart_rate": 0,
        "systolic_bp": 85,
        "diastolic_bp": 50,
        "spo2": 88,
        "respiratory_rate": 28,
        "temperature_c": 36.4,
        "gcs": 3,
        "glucose_mmol": 2.1,
    }
    status, body = post(tablet, f"/api/crew/assignments/{assignment.pk}/vitals", reading)
    assert status == 201
    stored = VitalSign.objects.get()
    assert (stored.heart_rate, stored.gcs, stored.glucose_mmol) == (0, 3, 2.1)
    assert stored.taken_at.isoformat() == "2026-12-01T00:15:00+00:00"
    assert (
        stored.client_time.isoformat() == "2026-12-01T00:16:00+00:00" and stored.recorded_at > stored.taken_at
    )
    assert body["recorded_at"] and body["taken_at"]


@pytest.mark.parametrize(
    "reading, words",
    [
        ({"heart_rate": 350}, "Heart rate 350 /min is outside 0–300 /min"),
        ({"spo2": 120}, "SpO2 120 % is outside 30–100 %"),
        ({"gcs": 2}, "GCS 2"),
        ({"temperature_c": 98.6}, "Temperature 98.6 °C is outside 25–45 °C"),
        ({"glucose_mmol": 180}, "Blood glucose 180"),
        ({"respiratory_rate": 95}, "Respiratory rate 95"),
        ({"systolic_bp": 120}, "systolic and diastolic blood pressure together"),
        ({"systolic_bp": 80, "diastolic_bp": 120}, "below systolic (80/120)"),
        ({}, "at least one reading"),
        ({"heart_rate": 400, "spo2": 20}, "SpO2 20"),
        ({"taken_at": "2099-01-01T00:00:00Z", "heart_rate": 80}, "in the future"),
    ],
)
def test_impossible_readings_are_refused_and_nothing_is_written(tablet, assignment, reading, words):
    before = Event.objects.count()
    status, error = post(tablet, f"/api/crew/assignments/{assignment.pk}/vitals", reading)
    assert status == 422 and words in error["error"]
    assert VitalSign.objects.count() == 0 and Event.objects.count() == before


@pytest.mark.parametrize(
    "body, words",
    [
        ({"findings": "x" * 4001}, "findings"),
        ({"name": "x" * 61}, "name"),
        ({"age": 151}, "age"),
        ({"sex": "X"}, "sex"),
        ({"drugs": [{"name": ""}]}, "drugs"),
        ({"drugs": [{"name": "肾上腺素", "dose": "1" * 31}]}, "dose"),
        ({"drugs": [{"name": "肾上腺素"}] * 31}, "drugs"),
    ],
)
def test_bad_record_fields_are_refused_and_nothing_is_written(tablet, assignment, body, words):
    status, error = post(
        tablet, f"/api/crew/assignments/{assignment.pk}/patient", {**body, "interventions": "CPR"}
    )
    assert 400 <= status < 500 and words in error["error"]
    assert not PatientRecord.objects.exists() and not Event.objects.filter(kind="patient.updated").exists()


def test_unknown_assignment_is_a_json_404(tablet):
    status, error = post(tablet, "/api/crew/assignments/999999/vitals", {"heart_rate": 70})
    assert status == 404 and error["error"]
    assert tablet.get("/api/crew/assignments/999999/patient").status_code == 404


def test_the_database_refuses_what_the_actions_would(world, assignment):
    with pytest.raises(ActionError):
        record_vitals(assignment, actor=world.carol, gcs=16)
    with pytest.raises(IntegrityError), transaction.atomic():
        VitalSign.objects.create(assignment=assignment, taken_at=assignment.dispatched_at, gcs=16)
    with pytest.raises(IntegrityError), transaction.atomic():
        VitalSign.objects.create(assignment=assignment, taken_at=assignment.dispatched_at)


def test_the_record_can_be_finished_after_the_unit_clears(world, tablet, assignment):
    for status in ("en_route", "on_scene", "transporting", "at_hospital", "available"):
        set_unit_status(world.als1, status, actor=world.carol)
    status, _ = post(tablet, f"/api/crew/assignments/{assignment.pk}/patient", {"findings": "交接完毕"})
    assert status == 200 and PatientRecord.objects.get().findings == "交接完毕"
