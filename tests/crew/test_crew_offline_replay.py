"""A tablet that was offline sends its queue as one ordered batch, and may send it again: each
operation is applied once, in order, and answered the same way every time."""

import json

from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Assignment, Event, IdempotencyKey, Message, PatientRecord, VitalSign
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import new_key, op, post, sync


def queue_on_the_way(assignment: Assignment) -> list[dict]:
    a = assignment.pk
    return [
        op("acknowledge", {"assignment": a}, 1),
        op("status", {"status": "en_route", "assignment": a}, 2),
        op("message", {"text": "路上堵车，预计晚到5分钟"}, 5),
        op("status", {"status": "on_scene", "assignment": a}, 9),
        op("patient", {"assignment": a, "name": "王先生", "age": 64, "sex": "M"}, 11),
        op("vitals", {"assignment": a, "heart_rate": 112, "systolic_bp": 90, "diastolic_bp": 60}, 12),
    ]


def effects() -> tuple[int, int, int, int]:
    return (
        Event.objects.count(),
        VitalSign.objects.count(),
        Message.objects.count(),
        PatientRecord.objects.count(),
    )


def test_the_same_batch_twice_and_after_a_gap_applies_once(world, tablet, assignment):
    batch = queue_on_the_way(assignment)
    first = sync(tablet, batch)
    assert [r["status"] for r in first] == [200, 200, 201, 200, 200, 201]
    assert not any(r["replayed"] for r in first)
    after_first = effects()
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.ON_SCENE

    again = sync(tablet, batch)
    # The gap: the job moves on (the dispatcher stands the unit down), then the queue comes again.
    cancel_assignment(assignment, actor=world.alice, reason="patient went by taxi")
    after_gap = sync(tablet, batch)

    for replay in (again, after_gap):
        assert [r["replayed"] for r in replay] == [True] * len(batch)
        assert [(r["key"], r["status"], r["result"]) for r in replay] == [
            (r["key"], r["status"], r["result"]) for r in first
        ]
    events, *rows = effects()
    assert rows == list(after_first[1:])  # no second reading, message or record
    assert events == after_first[0] + 1  # only the stand-down's event is new
    assert Event.objects.filter(kind="unit.status").count() == 3
    assert VitalSign.objects.get().client_time.isoformat() == "2026-12-01T00:12:00+00:00"


def test_a_refused_operation_keeps_those_before_and_after(world, tablet, assignment):
    a = assignment.pk
    batch = [
        op("acknowledge", {"assignment": a}, 1),
        op("status", {"status": "on_scene", "assignment": a}, 2),  # out of order: not yet en route
        op("vitals", {"assignment": a, "heart_rate": 400}, 3),  # impossible reading
        op("status", {"status": "en_route", "assignment": a}, 4),
    ]
    results = sync(tablet, batch)
    assert [r["status"] for r in results] == [200, 409, 422, 200]
    assert [r["ok"] for r in results] == [True, False, False, True]
    assert "cannot go to On scene" in results[1]["error"] and results[1]["code"] == "bad_transition"
    assert "Heart rate 400" in results[2]["error"]
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.EN_ROUTE
    assert VitalSign.objects.count() == 0
    # On scene would be allowed now; its replay must still not apply it out of order.
    replay = sync(tablet, batch)
    assert [r["status"] for r in replay] == [200, 409, 422, 200]
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.EN_ROUTE


def test_a_malformed_operation_is_reported_and_the_rest_run(tablet, assignment):
    batch = [
        op("vitals", {"assignment": assignment.pk, "heart_rate": "fast"}, 1),
        op("teleport", {}, 2),
        op("acknowledge", {"assignment": assignment.pk}, 3),
    ]
    results = sync(tablet, batch)
    assert [r["status"] for r in results] == [422, 422, 200]
    assert "heart_rate" in results[0]["error"] and "teleport" in results[1]["error"]


def test_a_key_sent_directly_then_queued_is_the_same_write(tablet, assignment):
    key = new_key()
    body = {"heart_rate": 88, "client_time": "2026-12-01T08:30:00+08:00"}
    status, direct = post(tablet, f"/api/crew/assignments/{assignment.pk}/vitals", body, key=key)
    assert status == 201
    queued = {
        "key": key,
        "kind": "vitals",
        "client_time": body["client_time"],
        "data": {"assignment": assignment.pk, "heart_rate": 88},
    }
    (result,) = sync(tablet, [queued])
    assert result["replayed"] and result["result"] == direct
    assert VitalSign.objects.count() == 1


def test_replaying_writes_the_key_row_so_it_waits_for_replication(tablet, assignment):
    batch = queue_on_the_way(assignment)[:1]
    sync(tablet, batch)
    row = IdempotencyKey.objects.get(key=batch[0]["key"])
    assert (row.replays, row.operation, row.status_code) == (0, "acknowledge", 200)
    sync(tablet, batch)
    sync(tablet, batch)
    again = IdempotencyKey.objects.get(key=batch[0]["key"])
    assert again.replays == 2 and again.last_seen_at > row.last_seen_at


def test_a_batch_must_not_be_empty_or_huge(tablet):
    for operations in ([], [op("message", {"text": "x"}, 1)] * 201):
        response = tablet.post(
            "/api/crew/sync", data=json.dumps({"operations": operations}), content_type="application/json"
        )
        assert response.status_code == 422 and "operations" in response.json()["error"]
    assert Message.objects.count() == 0


def test_the_schema_documents_the_key_and_the_batch(tablet):
    schema = tablet.get("/api/schema/").json()
    status = schema["paths"]["/api/crew/status"]["post"]
    assert [p["name"] for p in status["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert "message_read" in json.dumps(schema["components"]["schemas"]["OperationIn"])
