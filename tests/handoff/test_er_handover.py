"""Arrival and handover complete are recorded by the ER or the crew, so the handover time
(arrival to handover complete) is measured for every patient; the unit clearing later keeps it."""

import pytest

from dispatch.models import Assignment, Event, Incident
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import post, signed_in
from tests.support.er_helpers import notified, staff_post


@pytest.fixture
def notice(world):
    return notified(world, world.als1, world.city, world.carol)


def test_the_er_records_arrival_and_handover(world, notice):
    status, arrived = staff_post(world.dave, f"/api/er/notices/{notice.pk}/arrived")
    assert status == 200 and arrived["arrived_at"] and arrived["handover_s"] is None
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AT_HOSPITAL  # it was transporting
    status, done = staff_post(world.dave, f"/api/er/notices/{notice.pk}/handover")
    assert status == 200 and done["handover_s"] >= 0
    assignment = Assignment.objects.get(pk=notice.assignment_id)
    assert (assignment.handover_at - assignment.at_hospital_at).total_seconds() == done["handover_s"]
    incident = Incident.objects.get(pk=assignment.incident_id)
    assert incident.handover_at == assignment.handover_at
    completed = Event.objects.get(kind="handover.completed")
    assert completed.hospital == world.city and completed.unit == world.als1
    # the patient is off the board; clearing the unit later keeps the handover time
    assert signed_in(world.dave).get("/api/er/board").json()["notices"] == []
    set_unit_status(world.als1, UnitStatus.AVAILABLE, actor=world.carol)
    assert Assignment.objects.get(pk=assignment.pk).handover_at == assignment.handover_at


def test_the_crew_records_them_from_the_tablet(world, notice):
    tablet = signed_in(world.carol)
    base = f"/api/crew/assignments/{notice.assignment_id}"
    assert post(tablet, f"{base}/arrived")[0] == 200
    status, done = post(tablet, f"{base}/handover")
    assert status == 200 and done["handover_s"] is not None


def test_handover_before_arrival_is_refused(world, notice):
    status, error = staff_post(world.dave, f"/api/er/notices/{notice.pk}/handover")
    assert status == 409 and error["code"] == "not_arrived"
    assert Assignment.objects.get(pk=notice.assignment_id).handover_at is None
    assert not Event.objects.filter(kind="handover.completed").exists()


def test_recording_arrival_twice_changes_nothing(world, notice):
    first = staff_post(world.dave, f"/api/er/notices/{notice.pk}/arrived")[1]
    again = staff_post(world.dave, f"/api/er/notices/{notice.pk}/arrived")[1]
    assert first["arrived_at"] == again["arrived_at"]
    assert Event.objects.filter(kind="handover.arrived").count() == 1
