"""A crew sees and changes only its own unit's assignment, patient record and messages: asking
by another crew's id is the same 404 as asking for an id that does not exist."""

import json

import pytest

from dispatch.core.permissions import visible_incidents
from dispatch.crew.actions import end_shift, record_vitals, send_message, update_patient_record
from dispatch.models import Assignment, Event, Message, PatientRecord, VitalSign
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import crew_member, job, new_key, post, signed_in
from tests.support.roster import on_shift


@pytest.fixture
def jobs(world):
    """Carol (crew A) on T-ALS-1 and Chen (crew B) on T-ALS-2, each on a job; B has a record and
    a message from the control room."""
    chen = crew_member("chen")
    mine = job(world, world.als1, hospital=world.city, crew=world.carol)
    theirs = job(world, world.als2, hospital=world.county, crew=chen, complaint="跌倒")
    update_patient_record(theirs, actor=chen, name="李女士", findings="右髋疼痛")
    record_vitals(theirs, actor=chen, heart_rate=90)
    note = send_message(world.als2, "患者家属在楼下等", actor=world.alice)
    return mine, theirs, note, chen


def test_queries_confine_a_crew_to_its_unit(world, jobs):
    mine, theirs, _, chen = jobs
    assert list(Assignment.objects.for_crew(world.carol)) == [mine]
    assert list(visible_incidents(world.carol)) == [mine.incident]
    assert list(visible_incidents(chen)) == [theirs.incident]
    assert not Message.objects.for_crew(world.carol).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/crew/assignments/{id}",
        "/api/crew/assignments/{id}/patient",
        "/api/crew/assignments/{id}/recommendation",
        "/api/incidents/{incident}",
    ],
)
def test_crew_a_cannot_read_crew_bs_job(world, jobs, path):
    _, theirs, _, _ = jobs
    response = signed_in(world.carol).get(path.format(id=theirs.pk, incident=theirs.incident_id))
    assert response.status_code == 404
    assert "李女士" not in response.content.decode() and response.json()["error"]


def test_another_crews_id_looks_like_no_id_at_all(world, jobs):
    _, theirs, _, _ = jobs
    tablet = signed_in(world.carol)
    foreign = tablet.get(f"/api/crew/assignments/{theirs.pk}/patient").json()
    missing = tablet.get("/api/crew/assignments/999999/patient").json()
    assert foreign["code"] == missing["code"] == "not_found"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/crew/assignments/{id}/patient", {"name": "改掉"}),
        ("/api/crew/assignments/{id}/vitals", {"heart_rate": 60}),
        ("/api/crew/assignments/{id}/destination", {"hospital": "city"}),
        ("/api/crew/assignments/{id}/acknowledge", {}),
        ("/api/crew/status", {"status": "acknowledged", "assignment": "{id}"}),
    ],
)
def test_crew_a_cannot_change_crew_bs_job(world, jobs, path, body):
    _, theirs, _, _ = jobs
    body = {k: {"{id}": theirs.pk, "city": world.city.pk}.get(v, v) for k, v in body.items()}
    before = Event.objects.count()
    status, error = post(signed_in(world.carol), path.format(id=theirs.pk), body)
    assert status == 404 and error["code"] == "not_found"
    assert Event.objects.count() == before
    assert PatientRecord.objects.get(assignment=theirs).name == "李女士"
    assert VitalSign.objects.filter(assignment=theirs).count() == 1
    assert Assignment.objects.get(pk=theirs.pk).hospital == world.county
    assert Unit.objects.get(pk=world.als2.pk).status == UnitStatus.DISPATCHED


def test_crew_a_cannot_read_or_mark_crew_bs_messages(world, jobs):
    _, _, note, _ = jobs
    tablet = signed_in(world.carol)
    assert tablet.get("/api/crew/messages").json() == []
    status, error = post(tablet, f"/api/crew/messages/{note.pk}/read")
    assert status == 404 and error["code"] == "not_found"
    assert Message.objects.get(pk=note.pk).read_at is None
    events = tablet.get("/api/events").json()
    assert events and all(e["unit"] == world.als1.pk for e in events)


def test_a_queued_batch_cannot_reach_another_crew_either(world, jobs):
    _, theirs, note, _ = jobs
    operations = [
        {"key": new_key(), "kind": kind, "client_time": "2026-12-01T08:00:00+08:00", "data": data}
        for kind, data in [
            ("patient", {"assignment": theirs.pk, "findings": "x"}),
            ("vitals", {"assignment": theirs.pk, "spo2": 99}),
            ("message_read", {"message": note.pk}),
        ]
    ]
    response = signed_in(world.carol).post(
        "/api/crew/sync", data=json.dumps({"operations": operations}), content_type="application/json"
    )
    assert [r["status"] for r in response.json()["results"]] == [404, 404, 404]
    assert PatientRecord.objects.get(assignment=theirs).findings == "右髋疼痛"


def test_a_job_finished_before_the_shift_is_not_the_new_crews(world):
    old = job(world, world.bls1, crew=world.carol)
    update_patient_record(old, actor=world.carol, name="赵先生")
    for status in ("en_route", "on_scene", "available"):
        set_unit_status(world.bls1, status, actor=world.carol)
    end_shift(world.carol)
    chen = crew_member("chen")
    on_shift(chen, world.bls1)
    assert not Assignment.objects.for_crew(chen).exists()
    tablet = signed_in(chen)
    assert tablet.get(f"/api/crew/assignments/{old.pk}").status_code == 404
    # Nor do the unit's earlier events, which carry the earlier patient.
    assert [e["kind"] for e in tablet.get("/api/events").json()] == ["shift.started"]
    # The crew that did the job keeps it while on shift... and loses it when the shift ends.
    assert not Assignment.objects.for_crew(world.carol).exists()


def test_other_roles_cannot_use_the_tablet_api(world, jobs):
    mine, _, _, _ = jobs
    for user in (world.alice, world.dave):
        client = signed_in(user)
        assert client.get("/api/crew/assignment").status_code == 403
        assert post(client, f"/api/crew/assignments/{mine.pk}/acknowledge")[0] == 403
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.DISPATCHED
