"""An incident from call to unit available: every clock is stamped once, by the actions."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.core.actions import ActionError
from dispatch.core.permissions import visible_incidents
from dispatch.incidents.actions import (
    cancel_assignment,
    close_incident,
    create_incident,
    dispatch_unit,
    link_incident,
    locate_incident,
    reassign,
    set_destination,
    triage_incident,
    update_incident_details,
)
from dispatch.models import Event, Incident
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus

JOB = [
    UnitStatus.ACKNOWLEDGED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.PATIENT_CONTACT,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
    UnitStatus.AVAILABLE,
]


@pytest.fixture
def incident(world):
    return create_incident(actor=world.alice, caller_number="+8613800138000")


def test_full_job_stamps_every_clock_in_order(world, incident):
    locate_incident(incident, Point(119.6, 24.9), actor=world.alice, source="pin")
    triage_incident(incident, actor=world.alice, priority=1, chief_complaint="心跳骤停", capability="als")
    assignment = dispatch_unit(incident, world.als1, actor=world.alice, hospital=world.city)
    for status in JOB:
        set_unit_status(world.als1, status, actor=world.carol)
    incident.refresh_from_db()
    assignment.refresh_from_db()
    clocks = [
        incident.call_received_at,
        incident.created_at,
        incident.location_confirmed_at,
        incident.triaged_at,
        incident.dispatched_at,
        incident.acknowledged_at,
        incident.en_route_at,
        incident.on_scene_at,
        incident.patient_contact_at,
        incident.transport_started_at,
        incident.at_hospital_at,
        incident.handover_at,
        incident.unit_available_at,
    ]
    assert None not in clocks
    assert clocks == sorted(clocks)
    assert assignment.cleared_at == incident.unit_available_at
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE
    # Status events for a patient bound to a hospital reach that hospital's board.
    assert Event.objects.filter(kind="unit.status", hospital=world.city).count() == len(JOB)


def test_second_unit_does_not_overwrite_the_first_units_clocks(world, incident):
    dispatch_unit(incident, world.als1, actor=world.alice)
    set_unit_status(world.als1, UnitStatus.EN_ROUTE, actor=world.alice)
    first = Incident.objects.get(pk=incident.pk).en_route_at
    dispatch_unit(incident, world.bls1, actor=world.alice)
    set_unit_status(world.bls1, UnitStatus.EN_ROUTE, actor=world.alice)
    assert Incident.objects.get(pk=incident.pk).en_route_at == first
    assert incident.assignments.live().count() == 2


def test_a_unit_on_its_way_is_stood_down_only_with_a_reason(world, incident):
    assignment = dispatch_unit(incident, world.als1, actor=world.alice)
    with pytest.raises(ActionError) as refused:
        set_unit_status(world.als1, UnitStatus.AVAILABLE, actor=world.alice)
    assert refused.value.code == "bad_transition"
    with pytest.raises(ActionError) as refused:
        cancel_assignment(assignment, actor=world.alice, reason=" ")
    assert refused.value.code == "reason_required"
    cancel_assignment(assignment, actor=world.alice, reason="caller cancelled")
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE
    assignment.refresh_from_db()
    assert assignment.cancelled_at and assignment.cancel_reason == "caller cancelled"
    with pytest.raises(ActionError):
        cancel_assignment(assignment, actor=world.alice, reason="again")


def test_reassign_is_all_or_nothing(world, incident):
    assignment = dispatch_unit(incident, world.als1, actor=world.alice)
    busy = create_incident(actor=world.alice)
    dispatch_unit(busy, world.als2, actor=world.alice)
    with pytest.raises(ActionError) as refused:
        reassign(assignment, world.als2, actor=world.alice, reason="closer unit")
    assert refused.value.code == "unit_busy"
    assignment.refresh_from_db()
    assert assignment.cancelled_at is None  # the stand-down rolled back with the failed dispatch
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.DISPATCHED
    new = reassign(assignment, world.bls1, actor=world.alice, reason="closer unit")
    assert new.unit == world.bls1 and Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE


def test_changing_destination_tells_both_hospitals(world, incident):
    assignment = dispatch_unit(incident, world.als1, actor=world.alice, hospital=world.city)
    set_destination(assignment, world.county, actor=world.alice)
    old, new = Event.objects.filter(kind__in=["assignment.redirected", "assignment.destination"]).order_by(
        "seq"
    )
    assert (old.kind, old.hospital) == ("assignment.redirected", world.city)
    assert (new.kind, new.hospital) == ("assignment.destination", world.county)
    assert list(visible_incidents(world.dave)) == []
    assert list(visible_incidents(world.frank)) == [incident]


def test_duplicate_call_is_linked_and_closed(world, incident):
    duplicate = create_incident(actor=world.bob, caller_number="+8613800138000")
    link_incident(duplicate, incident, actor=world.bob)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.linked_to, duplicate.outcome) == ("closed", incident, "duplicate")
    with pytest.raises(ActionError):
        link_incident(incident, incident, actor=world.bob)


def test_close_needs_outcome_and_no_unit_on_the_job(world, incident):
    dispatch_unit(incident, world.als1, actor=world.alice)
    with pytest.raises(ActionError) as refused:
        close_incident(incident, actor=world.alice, outcome="")
    assert refused.value.code == "outcome_required"
    with pytest.raises(ActionError) as refused:
        close_incident(incident, actor=world.alice, outcome="treated")
    assert refused.value.code == "units_still_assigned"
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.AVAILABLE):
        set_unit_status(world.als1, status, actor=world.alice)
    closed = close_incident(incident, actor=world.alice, outcome="treated on scene")
    assert closed.status == "closed" and closed.closed_at


def test_patient_details_are_checked(world, incident):
    update_incident_details(incident, actor=world.alice, patient_age=67, patient_sex="F")
    with pytest.raises(ActionError):
        update_incident_details(incident, actor=world.alice, patient_age=400)
    with pytest.raises(ActionError):
        update_incident_details(incident, actor=world.alice, is_admin=True)
    incident.refresh_from_db()
    assert (incident.patient_age, incident.patient_sex) == (67, "F")
