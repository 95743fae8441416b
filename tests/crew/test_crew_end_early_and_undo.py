"""Ending a job before transport needs a reason, kept on the job and told to the dispatcher; a
status tapped by mistake can be undone within UNDO_STATUS_SECONDS, only back to the status
before it, only by the unit's own crew, recorded as a correction the console sees.

A refusal writes nothing: no status, no clock, no event."""

from datetime import timedelta

import pytest

from dispatch.crew.actions import end_shift
from dispatch.models import Assignment, Event, Incident
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import crew_member, job, op, post, signed_in, sync
from tests.support.roster import on_shift

CLIENT_TIME = "2026-12-01T08:00:00+08:00"


def tap(tablet, assignment, status, **extra):
    body = {"status": status, "assignment": assignment.pk, "client_time": CLIENT_TIME, **extra}
    return post(tablet, "/api/crew/status", body)


def to_patient_contact(tablet, assignment):
    for status in ("en_route", "on_scene", "patient_contact"):
        assert tap(tablet, assignment, status)[0] == 200


def undo(tablet, unit, status, back_to):
    return post(tablet, "/api/crew/status/undo", {"unit": unit.pk, "status": status, "back_to": back_to})


def snapshot(assignment):
    a = Assignment.objects.get(pk=assignment.pk)
    unit = Unit.objects.get(pk=a.unit_id)
    return (Event.objects.count(), unit.status, a.cleared_at, a.end_reason, a.end_note)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({}, "end_reason_required"),
        ({"end_reason": "lunch"}, "bad_end_reason"),
        ({"end_reason": "other"}, "end_note_required"),
        ({"end_reason": "other", "end_note": "   "}, "end_note_required"),
        ({"end_reason": "died", "end_note": "x" * 201}, None),  # too long: the schema's 422
    ],
)
def test_going_available_during_patient_contact_needs_a_good_reason(tablet, assignment, extra, code):
    to_patient_contact(tablet, assignment)
    before = snapshot(assignment)
    status, body = tap(tablet, assignment, "available", **extra)
    assert status == 422, body
    if code:
        assert body["code"] == code
    assert snapshot(assignment) == before  # nothing written: the job goes on
    assert Assignment.objects.live().filter(pk=assignment.pk).exists()


def test_a_reason_ends_the_job_and_the_dispatcher_reads_it(world, tablet, assignment):
    to_patient_contact(tablet, assignment)
    status, body = tap(tablet, assignment, "available", end_reason="other", end_note="家属自行送医 <b>")
    assert status == 200, body
    a = Assignment.objects.get(pk=assignment.pk)
    assert (a.end_reason, a.end_note) == ("other", "家属自行送医 <b>")
    assert a.cleared_at is not None and Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE
    (ended,) = Event.objects.filter(kind="assignment.ended_early")
    assert ended.incident_id == assignment.incident_id and ended.unit_id == world.als1.pk
    assert ended.data["reason"] == "other" and "家属自行送医" in ended.data["text"]
    timeline = signed_in(world.alice).get(f"/api/incidents/{assignment.incident_id}/timeline").json()
    assert "assignment.ended_early" in [e["kind"] for e in timeline]


def test_each_listed_reason_is_accepted_and_from_on_scene_too(world):
    for n, reason in enumerate(["treated_on_scene", "refused_transport", "died", "cancelled"]):
        crew = crew_member(f"medic{n}")
        assignment = job(world, world.bls1, crew=crew)
        tablet = signed_in(crew)
        for status in ("en_route", "on_scene"):
            assert tap(tablet, assignment, status)[0] == 200
        status, body = tap(tablet, assignment, "available", end_reason=reason)
        assert status == 200, body
        assert Assignment.objects.get(pk=assignment.pk).end_reason == reason
        end_shift(crew)


def test_after_transport_no_reason_is_asked(tablet, assignment):
    to_patient_contact(tablet, assignment)
    for status in ("transporting", "at_hospital", "available"):
        assert tap(tablet, assignment, status)[0] == 200
    assert Assignment.objects.get(pk=assignment.pk).end_reason == ""


def test_a_queued_end_without_reason_is_refused_and_the_queue_moves_on(tablet, assignment):
    to_patient_contact(tablet, assignment)
    results = sync(
        tablet,
        [
            op("status", {"status": "available", "assignment": assignment.pk}, 1),
            op("status", {"status": "transporting", "assignment": assignment.pk}, 2),
        ],
    )
    assert [r["status"] for r in results] == [422, 200]
    assert Unit.objects.get(pk=assignment.unit_id).status == UnitStatus.TRANSPORTING


# --- undo -------------------------------------------------------------------------------------


def test_undo_puts_the_status_and_its_clocks_back(world, tablet, assignment):
    for status in ("en_route", "on_scene"):
        assert tap(tablet, assignment, status)[0] == 200
    incident = Incident.objects.get(pk=assignment.incident_id)
    assert incident.on_scene_at is not None
    status, body = undo(tablet, world.als1, "on_scene", "en_route")
    assert status == 200, body
    assert body["unit"]["status"] == "en_route"
    a = Assignment.objects.get(pk=assignment.pk)
    assert a.on_scene_at is None and "on_scene_at" not in a.client_times and a.en_route_at is not None
    assert Incident.objects.get(pk=incident.pk).on_scene_at is None
    (correction,) = Event.objects.filter(kind="unit.status_corrected")
    assert (correction.data["from"], correction.data["to"]) == ("on_scene", "en_route")
    assert correction.data["clocks"] == ["on_scene_at"] and correction.incident_id == incident.pk
    timeline = signed_in(world.alice).get(f"/api/incidents/{incident.pk}/timeline").json()
    assert "unit.status_corrected" in [e["kind"] for e in timeline]
    # On scene again: a fresh clock.
    assert tap(tablet, assignment, "on_scene")[0] == 200
    assert Assignment.objects.get(pk=assignment.pk).on_scene_at is not None


def test_undoing_an_early_end_brings_the_job_back(world, tablet, assignment):
    to_patient_contact(tablet, assignment)
    assert tap(tablet, assignment, "available", end_reason="died")[0] == 200
    status, body = undo(tablet, world.als1, "available", "patient_contact")
    assert status == 200, body
    a = Assignment.objects.get(pk=assignment.pk)
    assert a.cleared_at is None and a.end_reason == "" and a.patient_contact_at is not None
    assert Incident.objects.get(pk=a.incident_id).unit_available_at is None
    assert tablet.get("/api/crew/assignment").json()["assignment"]["id"] == a.pk
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.PATIENT_CONTACT


def test_undo_after_the_window_is_409(world, tablet, assignment, settings):
    settings.UNDO_STATUS_SECONDS = 20
    assert tap(tablet, assignment, "en_route")[0] == 200
    last = Event.objects.filter(kind="unit.status").order_by("-seq").first()
    Event.objects.filter(pk=last.pk).update(at=last.at - timedelta(seconds=21))
    before = snapshot(assignment)
    status, body = undo(tablet, world.als1, "en_route", "dispatched")
    assert (status, body["code"]) == (409, "undo_too_late")
    assert snapshot(assignment) == before
    assert Assignment.objects.get(pk=assignment.pk).en_route_at is not None


def test_undo_only_back_to_the_status_before(world, tablet, assignment):
    for status in ("en_route", "on_scene"):
        assert tap(tablet, assignment, status)[0] == 200
    before = snapshot(assignment)
    for tapped, back_to in [
        ("on_scene", "dispatched"),
        ("en_route", "dispatched"),
        ("on_scene", "available"),
    ]:
        status, body = undo(tablet, world.als1, tapped, back_to)
        assert (status, body["code"]) == (409, "not_last_change")
    assert snapshot(assignment) == before
    # Twice: the second finds nothing to undo.
    assert undo(tablet, world.als1, "on_scene", "en_route")[0] == 200
    assert undo(tablet, world.als1, "on_scene", "en_route")[0] == 409


def test_undo_by_another_units_crew_is_403(world, tablet, assignment):
    assert tap(tablet, assignment, "en_route")[0] == 200
    other = crew_member("olga")
    on_shift(other, world.als2)
    before = snapshot(assignment)
    status, body = undo(signed_in(other), world.als1, "en_route", "dispatched")
    assert status == 403, body
    assert snapshot(assignment) == before


def test_a_change_the_crew_did_not_tap_is_not_theirs_to_undo(world, tablet, assignment):
    from dispatch.units.actions import set_unit_status

    set_unit_status(world.als1, "en_route", actor=world.alice)  # the dispatcher, by radio
    status, body = undo(tablet, world.als1, "en_route", "dispatched")
    assert (status, body["code"]) == (409, "not_a_crew_tap")
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.EN_ROUTE


def test_undo_through_the_queue_right_after_the_tap(world, tablet, assignment):
    results = sync(
        tablet,
        [
            op("status", {"status": "en_route", "assignment": assignment.pk}, 1),
            op("status_undo", {"unit": world.als1.pk, "status": "en_route", "back_to": "dispatched"}, 1),
        ],
    )
    assert [r["status"] for r in results] == [200, 200]
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.DISPATCHED
    assert Assignment.objects.get(pk=assignment.pk).en_route_at is None
