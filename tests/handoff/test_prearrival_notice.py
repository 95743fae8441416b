"""A crew sends the pre-arrival notice to its destination; it is updated as vital signs are
recorded, follows a change of destination, and is refused (with nothing written) when there is
no destination or the job is over. A retried send with the same key is applied once."""

import pytest
from django.core.management import call_command

from dispatch.crew.actions import record_vitals
from dispatch.handoff.actions import send_notice
from dispatch.incidents.actions import set_destination
from dispatch.models import Event, Outbox, PreArrivalNotice
from tests.support.crew_tablet import job, new_key, post, signed_in
from tests.support.er_helpers import staff_get, transporting


@pytest.fixture
def assignment(world):
    return transporting(world, world.als1, world.city, world.carol)


def test_crew_sends_the_notice_once_per_key(world, assignment):
    tablet, key = signed_in(world.carol), new_key()
    url = f"/api/crew/assignments/{assignment.pk}/notice"
    status, body = post(tablet, url, key=key)
    again_status, again = post(tablet, url, key=key)
    assert status == again_status == 200 and body == again
    notice = PreArrivalNotice.objects.get(assignment=assignment)
    assert (body["id"], body["hospital"], body["revision"]) == (notice.pk, world.city.pk, 1)
    assert body["acknowledged_at"] is None
    sent = Event.objects.get(kind="notice.sent")
    assert (sent.hospital, sent.unit, sent.incident_id) == (world.city, world.als1, assignment.incident_id)
    assert sent.data["call_sign"] == "T-ALS-1"
    # the board of the destination has it, unacknowledged
    board = staff_get(world.dave, "/api/er/board")[1]
    assert [n["id"] for n in board["notices"]] == [notice.pk] and board["notices"][0]["acknowledged"] is None


def test_new_vitals_update_the_notice(world, assignment):
    notice = send_notice(assignment, actor=world.carol)
    call_command("run_handoff", once=True)
    assert PreArrivalNotice.objects.get(pk=notice.pk).revision == 1  # nothing changed yet
    record_vitals(assignment, actor=world.carol, heart_rate=128, spo2=90)
    call_command("run_handoff", once=True)
    notice.refresh_from_db()
    assert notice.revision == 2
    updated = Event.objects.get(kind="notice.updated")
    assert updated.hospital == world.city and updated.data["reason"] == "patient_changed"
    row = staff_get(world.dave, "/api/er/board")[1]["notices"][0]
    assert {v["name"]: v["value"] for v in row["latest"]} == {"heart_rate": 128, "spo2": 90}


def test_a_new_destination_withdraws_the_notice_from_the_old_one(world, assignment):
    notice = send_notice(assignment, actor=world.carol)
    set_destination(assignment, world.county, actor=world.carol)
    assert staff_get(world.dave, "/api/er/board")[1]["notices"] == []  # at once, before any resend
    call_command("run_handoff", once=True)
    notice.refresh_from_db()
    assert notice.hospital == world.county and notice.revision == 2
    assert Event.objects.get(kind="notice.withdrawn").hospital == world.city
    assert [n["id"] for n in staff_get(world.frank, "/api/er/board")[1]["notices"]] == [notice.pk]


def test_no_destination_is_refused_and_nothing_is_written(world):
    assignment = job(world, world.als2, crew=world.carol)
    before = (Event.objects.count(), Outbox.objects.count())
    status, error = post(signed_in(world.carol), f"/api/crew/assignments/{assignment.pk}/notice")
    assert status == 409 and error["code"] == "no_destination" and "hospital" in error["error"]
    assert (Event.objects.count(), Outbox.objects.count()) == before
    assert not PreArrivalNotice.objects.exists()


def test_a_job_with_a_patient_and_a_destination_gets_its_notice_by_itself(world, assignment):
    call_command("run_handoff", once=True)
    assert PreArrivalNotice.objects.get(assignment=assignment).sent_by is None


def test_the_dispatcher_can_send_it_too(world, assignment):
    client = signed_in(world.alice)
    response = client.post(f"/api/assignments/{assignment.pk}/notice", content_type="application/json")
    assert response.status_code == 200 and response.json()["hospital_name"] == world.city.name
    assert client.get(f"/api/assignments/{assignment.pk}/notice").json()["deliveries"] == []
