"""The crew taps its job forward one status at a time: acknowledged, en route, on scene, ...
Each tap is stamped by the server and keeps the tablet's own time; a tap out of order is a
409 that says what may come next, and changes nothing."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.crew.actions import record_vitals, send_message
from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Assignment, Event
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import job, new_key, post
from tests.support.roster import on_shift

JOB = ["en_route", "on_scene", "patient_contact", "transporting", "at_hospital", "available"]
CLIENT_TIME = "2026-12-01T08:00:00+08:00"


def test_current_assignment_has_what_the_crew_needs(tablet, assignment):
    body = tablet.get("/api/crew/assignment").json()
    shown = body["assignment"]
    assert body["shift"]["unit"]["call_sign"] == "T-ALS-1"
    assert shown["id"] == assignment.pk and shown["live"] is True
    incident = shown["incident"]
    assert incident["number"] == assignment.incident.number
    assert incident["address"] == "明湾市滨海路 88 号" and incident["caller_number"] == "+8613800138000"
    assert (incident["lon"], incident["lat"], incident["priority"]) == (119.6, 24.9, 1)
    assert incident["chief_complaint"] == "胸痛"
    assert shown["destination"]["name"] == "市第一人民医院"
    assert shown["unit"]["status"] == "dispatched"
    assert [s["status"] for s in shown["unit"]["next_statuses"]] == ["acknowledged", "en_route"]


def test_acknowledge_then_every_tap_in_job_order(tablet, assignment):
    status, body = post(
        tablet, f"/api/crew/assignments/{assignment.pk}/acknowledge", {"client_time": CLIENT_TIME}
    )
    assert status == 200 and body["unit"]["status"] == "acknowledged"
    for step in JOB:
        status, body = post(
            tablet,
            "/api/crew/status",
            {"status": step, "assignment": assignment.pk, "client_time": CLIENT_TIME},
        )
        assert status == 200, body
        assert body["unit"]["status"] == step and body["assignment"] == assignment.pk
    assignment.refresh_from_db()
    clocks = [
        assignment.dispatched_at,
        assignment.acknowledged_at,
        assignment.en_route_at,
        assignment.on_scene_at,
        assignment.patient_contact_at,
        assignment.transport_started_at,
        assignment.at_hospital_at,
        assignment.handover_at,
        assignment.cleared_at,
    ]
    assert None not in clocks and clocks == sorted(clocks)
    assert assignment.incident.__class__.objects.get(pk=assignment.incident_id).acknowledged_at


def test_client_time_is_kept_beside_the_server_time(tablet, assignment):
    post(tablet, f"/api/crew/assignments/{assignment.pk}/acknowledge", {"client_time": CLIENT_TIME})
    assignment.refresh_from_db()
    assert assignment.client_times == {"acknowledged_at": "2026-12-01T08:00:00+08:00"}
    assert assignment.acknowledged_at.isoformat() != assignment.client_times["acknowledged_at"]
    event = Event.objects.get(kind="unit.status", data__to="acknowledged")
    assert event.data["client_time"] == "2026-12-01T08:00:00+08:00" and event.actor_id is not None
    shown = tablet.get(f"/api/crew/assignments/{assignment.pk}").json()
    assert shown["client_times"]["acknowledged_at"] == "2026-12-01T08:00:00+08:00"
    assert shown["clocks"]["acknowledged_at"]


def test_out_of_order_tap_is_a_clear_409_and_changes_nothing(tablet, assignment):
    before = Event.objects.count()
    status, error = post(tablet, "/api/crew/status", {"status": "on_scene", "assignment": assignment.pk})
    assert status == 409 and error["code"] == "bad_transition"
    assert "T-ALS-1" in error["error"] and "Acknowledged" in error["error"] and "En route" in error["error"]
    assert Unit.objects.get(pk=assignment.unit_id).status == UnitStatus.DISPATCHED
    assignment.refresh_from_db()
    assert assignment.on_scene_at is None and assignment.client_times == {}
    assert Event.objects.count() == before


def test_acknowledging_twice_is_refused_the_second_time(tablet, assignment):
    url = f"/api/crew/assignments/{assignment.pk}/acknowledge"
    assert post(tablet, url)[0] == 200
    first = Assignment.objects.get(pk=assignment.pk).acknowledged_at
    status, error = post(tablet, url)  # a new key: a second tap, not a retry
    assert status == 409 and "Acknowledged" in error["error"]
    assert Assignment.objects.get(pk=assignment.pk).acknowledged_at == first


def test_a_tablet_cannot_dispatch_its_own_unit(tablet, world):
    on_shift(world.carol, world.bls1)
    status, error = post(tablet, "/api/crew/status", {"status": "dispatched"})
    assert status == 409 and error["code"] == "bad_transition"
    assert Unit.objects.get(pk=world.bls1.pk).status == UnitStatus.AVAILABLE


def test_a_job_tap_must_name_its_assignment(tablet, assignment):
    status, error = post(tablet, "/api/crew/status", {"status": "en_route"})
    assert status == 422 and error["code"] == "assignment_required"
    assert Unit.objects.get(pk=assignment.unit_id).status == UnitStatus.DISPATCHED


def test_a_tap_for_a_stood_down_job_does_not_move_the_next_job(world, tablet, assignment):
    cancel_assignment(assignment, actor=world.alice, reason="caller cancelled")
    second = job(world, world.als1, crew=world.carol)
    status, error = post(tablet, "/api/crew/status", {"status": "en_route", "assignment": assignment.pk})
    assert status == 409 and error["code"] == "not_live"
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.DISPATCHED
    assert Assignment.objects.get(pk=second.pk).en_route_at is None


def test_out_of_service_and_back_without_a_job(tablet, world):
    on_shift(world.carol, world.bls1)
    assert (
        post(tablet, "/api/crew/status", {"status": "out_of_service"})[1]["unit"]["status"]
        == "out_of_service"
    )
    _, body = post(tablet, "/api/crew/status", {"status": "available"})
    assert body["unit"]["status"] == "available" and body["assignment"] is None


def test_unknown_status_is_refused(tablet, assignment):
    status, error = post(tablet, "/api/crew/status", {"status": "flying", "assignment": assignment.pk})
    assert status == 422 and "status" in error["error"]


def test_acknowledge_needs_no_body_only_the_key(tablet, assignment):
    response = tablet.post(
        f"/api/crew/assignments/{assignment.pk}/acknowledge",
        data="",
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )
    assert response.status_code == 200 and response.json()["unit"]["status"] == "acknowledged"


def test_my_assignment_costs_the_same_queries_however_long_the_job(
    world, tablet, assignment, django_assert_num_queries
):
    for n in range(5):
        record_vitals(assignment, actor=world.carol, heart_rate=80 + n)
        send_message(world.als1, f"消息 {n}", actor=world.alice)
    # session, user, shift, assignment, triage protocol, messages, patient record, vitals, and
    # the destination's diversion alert (dispatch/crew/diversion.py)
    with django_assert_num_queries(9):
        body = tablet.get("/api/crew/assignment").json()
    assert len(body["assignment"]["vitals"]) == 5 and len(body["assignment"]["messages"]) == 5


def test_a_tap_reads_no_incident_or_hospital_row(tablet, assignment):
    """The crew's most frequent write reads the job's own row and names its incident and
    hospital by the job's keys: their rows (the incident's the widest of all) are never read,
    and the tap's event still names all three."""
    post(tablet, f"/api/crew/assignments/{assignment.pk}/acknowledge")
    with CaptureQueriesContext(connection) as tap:
        status, body = post(tablet, "/api/crew/status", {"status": "en_route", "assignment": assignment.pk})
    assert status == 200, body
    reads = [q["sql"] for q in tap.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    joined = [sql for sql in reads if '"dispatch_incident"' in sql or '"hospitals_hospital"' in sql]
    assert reads and not joined, joined
    event = Event.objects.filter(kind="unit.status").latest("seq")
    assert (event.incident_id, event.unit_id, event.hospital_id) == (
        assignment.incident_id,
        assignment.unit_id,
        assignment.hospital_id,
    )
    assert event.hospital_id is not None and event.data["assignment"] == assignment.pk
