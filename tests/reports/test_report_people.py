"""Per dispatcher and per seat, for the supervisor: calls answered, incidents dispatched (the
first unit sent), the median processing of those incidents, and overrides of the recommendation
with their reasons and the ETA of the unit chosen; a seat's figures are what its occupant did
while signed on to it. Recomputed by hand from the calls and clocks the test sets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.handover.actions import create_seat, sign_on
from dispatch.incidents.actions import cancel_assignment, dispatch_unit
from dispatch.models import Incident, SeatSession
from tests.support.report_world import signed_in


def taken(call_id: str, by) -> Incident:
    """A call rung and taken by `by` through the call actions: the incident opens."""
    rang = timezone.now() - timedelta(seconds=4)
    call = record_call_event(CallEvent("pbx", call_id, CallEventKind.RINGING, rang))
    take_call(call, actor=by)
    return Incident.objects.get(call=call)


def processing(incident: Incident, answered_at, seconds: float) -> None:
    """The fixture's licence (tests/support/report_world.py): the clocks the test wants."""
    Incident.objects.filter(pk=incident.pk).update(
        call_answered_at=answered_at, dispatched_at=answered_at + timedelta(seconds=seconds)
    )


@pytest.fixture
def shift(world):
    seat = create_seat("调度台 1", actor=world.bob)
    sign_on(seat, actor=world.alice)
    answered_at = timezone.now() - timedelta(minutes=9)
    a1, a2, b1 = taken("c1", world.alice), taken("c2", world.alice), taken("c3", world.bob)
    # alice sends the first unit of a1 (the top pick) and of a2 (the third, with a reason).
    dispatch_unit(a1, world.als1, actor=world.alice, recommended_rank=1, eta_s=300.0)
    dispatch_unit(
        a2, world.als2, actor=world.alice, recommended_rank=3, eta_s=420.0, override_reason="=更近的车在加油"
    )
    # bob sends b1's first unit (the second pick) and stands it down; alice sends another.
    first = dispatch_unit(
        b1, world.bls1, actor=world.bob, recommended_rank=2, eta_s=200.0, override_reason="车况"
    )
    cancel_assignment(first, actor=world.bob, reason="改派")
    dispatch_unit(b1, world.neg1, actor=world.alice, recommended_rank=4, eta_s=600.0, override_reason="车况")
    processing(a1, answered_at, 50.0)
    processing(a2, answered_at, 70.0)
    processing(b1, answered_at, 65.0)
    return seat


def test_per_dispatcher(world, shift):
    today = timezone.localdate().isoformat()
    body = signed_in(world.bob).get(f"/api/reports/people?start={today}").json()
    people = {row["name"]: row for row in body["dispatchers"]}
    alice, bob = people["alice"], people["bob"]
    assert alice["calls_answered"] == 2 and bob["calls_answered"] == 1
    # First units: alice a1 and a2, bob b1 (alice's later unit on b1 is not its first).
    assert alice["incidents_dispatched"] == 2 and bob["incidents_dispatched"] == 1
    assert alice["processing_median_s"] == 50.0  # nearest rank of 50 and 70
    assert bob["processing_median_s"] == 65.0
    # Overrides: alice's rank 3 on a2 and rank 4 on b1; bob's rank 2 on b1.
    assert alice["overrides"] == 2 and bob["overrides"] == 1
    assert alice["override_rank_median"] == 3 and alice["override_eta_median_s"] == 420.0
    assert {(r["reason"], r["count"]) for r in alice["reasons"]} == {("=更近的车在加油", 1), ("车况", 1)}
    assert bob["reasons"] == [{"reason": "车况", "count": 1}]


def test_per_seat(world, shift):
    today = timezone.localdate().isoformat()
    body = signed_in(world.bob).get(f"/api/reports/people?start={today}").json()
    seats = {row["seat"]: row for row in body["seats"]}
    # alice signed on to 调度台 1 before everything; bob never signed on to a seat.
    desk = seats[shift.pk]
    assert desk["name"] == "调度台 1" and desk["calls_answered"] == 2 and desk["incidents_dispatched"] == 2
    assert desk["overrides"] == 2
    nowhere = seats[None]
    assert (nowhere["calls_answered"], nowhere["incidents_dispatched"], nowhere["overrides"]) == (1, 1, 1)


def test_what_was_done_before_signing_on_is_not_the_seats(world, shift):
    SeatSession.objects.filter(user=world.alice).update(signed_on_at=timezone.now())
    today = timezone.localdate().isoformat()
    body = signed_in(world.bob).get(f"/api/reports/people?start={today}").json()
    assert [row["seat"] for row in body["seats"]] == [None]


def test_people_are_for_supervisors(world, shift):
    assert signed_in(world.alice).get("/api/reports/people").status_code == 403
