"""A supervisor's recorded approval lets a crew member start a shift off the roster: recorded
with the supervisor and the reason, an event on record, valid for a few minutes, used once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.core.actions import ActionError
from dispatch.crew.actions import end_shift, start_shift
from dispatch.models import Event
from dispatch.roster.actions import approve_shift
from fleet.models import CrewShift, RosterEntry, ShiftApproval
from tests.support.crew_tablet import post, signed_in


def test_an_approval_lets_the_shift_start_and_is_on_record(world, tablet):
    status, body = post(
        signed_in(world.bob),
        "/api/roster/approvals",
        {"unit": world.bls1.pk, "user": "carol", "reason": "王医生病假 / sick cover", "hours": 8},
    )
    assert status == 200 and body["approved_by"] == "bob" and body["call_sign"] == "T-BLS-1"
    event = Event.objects.get(kind="roster.approved")
    assert event.actor == world.bob and event.data["reason"] == "王医生病假 / sick cover"
    assert event.unit is None  # the roster is the control room's, not the unit crew's

    status, body = post(tablet, "/api/crew/shift", {"unit": world.bls1.pk})
    assert status == 200
    started = Event.objects.filter(kind="shift.started", data__user="carol").get()
    assert started.data["approval"] == ShiftApproval.objects.get().pk and started.data["approved_by"] == "bob"
    entry = RosterEntry.objects.get(user=world.carol)
    assert entry.source == "approval" and entry.created_by == world.bob
    assert timedelta(hours=7, minutes=59) < entry.planned_end - entry.planned_start <= timedelta(hours=8)


def test_an_approval_is_used_once_and_becomes_a_roster_entry(world):
    approve_shift(world.carol, world.bls1, "cover", actor=world.bob)
    start_shift(world.carol, world.bls1)
    end_shift(world.carol)
    assert ShiftApproval.objects.get().used_at is not None
    # Still rostered by the entry the approval wrote, while it lasts: that is the roster now.
    start_shift(world.carol, world.bls1)
    assert CrewShift.objects.current().filter(user=world.carol, unit=world.bls1).exists()
    with pytest.raises(ActionError):
        start_shift(world.carol, world.als2)


def test_an_approval_expires(world, settings):
    settings.SHIFT_APPROVAL_MINUTES = 15
    now = timezone.now()
    approve_shift(world.carol, world.bls1, "cover", actor=world.bob, now=now)
    with pytest.raises(ActionError) as refused:
        start_shift(world.carol, world.bls1, now=now + timedelta(minutes=16))
    assert refused.value.status == 403
    start_shift(world.carol, world.bls1, now=now + timedelta(minutes=14))


@pytest.mark.parametrize("who", ["alice", "carol", "dave", "erin"])
def test_only_a_supervisor_approves(world, who):
    status, body = post(
        signed_in(getattr(world, who)),
        "/api/roster/approvals",
        {"unit": world.bls1.pk, "user": "carol", "reason": "cover"},
    )
    assert status == 403 and not ShiftApproval.objects.exists()


def test_an_approval_needs_a_reason(world):
    status, body = post(
        signed_in(world.bob),
        "/api/roster/approvals",
        {"unit": world.bls1.pk, "user": "carol", "reason": "  "},
    )
    assert status == 422 and body["code"] == "no_reason" and not ShiftApproval.objects.exists()
