"""One bad operation never jams a tablet's queue: whatever it fails on (a character the database
cannot store, or a fault of the server's own), it gets an answer the tablet treats as final and
that a resend gets again, and the operations queued behind it are applied."""

from django.db import connection

from dispatch.models import IdempotencyKey, Message, PatientRecord, VitalSign
from tests.support.crew_tablet import op, sync

FAULT = "dispatch_test_vitals_fault"


def test_a_nul_refuses_that_operation_alone_and_is_answered_the_same_way_again(tablet, assignment):
    a = assignment.pk
    batch = [
        op("message", {"text": "出发"}, 1),
        op("patient", {"assignment": a, "name": "王\x00先生", "age": 64}, 2),
        op("message", {"text": "到达"}, 3),
    ]
    first = sync(tablet, batch)
    assert [r["status"] for r in first] == [201, 422, 201]
    refused = first[1]
    assert refused["code"] == "nul_character" and refused["error"].startswith("data.name")
    assert not PatientRecord.objects.filter(name__contains="王").exists()
    assert Message.objects.count() == 2
    # Recorded: the same queue sent again is answered from the record, nothing applied twice.
    again = sync(tablet, batch)
    assert [(r["status"], r["replayed"]) for r in again] == [(201, True), (422, True), (201, True)]
    assert Message.objects.count() == 2
    assert IdempotencyKey.objects.get(key=refused["key"]).status_code == 422


def test_a_fault_of_the_servers_own_is_recorded_as_not_applied_and_the_queue_moves_on(tablet, assignment):
    """A database trigger fails every vital-signs insert, as a bug would: the tablet is told the
    reading was not applied (so the crew can enter it again) instead of resending it forever."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE FUNCTION {FAULT}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ "
            "LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER {FAULT} BEFORE INSERT ON dispatch_vitalsign "
            f"FOR EACH ROW EXECUTE FUNCTION {FAULT}()"
        )
    a = assignment.pk
    batch = [
        op("vitals", {"assignment": a, "heart_rate": 112}, 1),
        op("message", {"text": "血压偏低"}, 2),
    ]
    try:
        first = sync(tablet, batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {FAULT} ON dispatch_vitalsign")
            cursor.execute(f"DROP FUNCTION {FAULT}()")
    assert [r["status"] for r in first] == [422, 201]
    assert first[0]["code"] == "not_applied" and first[0]["ok"] is False
    assert VitalSign.objects.count() == 0 and Message.objects.filter(text="血压偏低").exists()
    # The answer is final: sent again (the trigger is gone now) it is not applied late.
    again = sync(tablet, batch)
    assert [(r["status"], r["code"], r["replayed"]) for r in again][0] == (422, "not_applied", True)
    assert VitalSign.objects.count() == 0
