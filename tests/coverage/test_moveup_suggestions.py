"""Move-up suggestions on the hand-checked network of tests/support/move_ups.py: the right unit
to the right site with the coverage it restores; none when coverage is complete; the per-unit-
hour limit; a full standby point is no candidate; superseded when the situation changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.coverage import moveup
from dispatch.models import Event, MoveUp, MoveUpState
from tests.support.move_ups import E1, hand_city, place

pytestmark = pytest.mark.usefixtures("fresh_router")


def test_the_nearest_idle_unit_goes_to_the_standby_point_that_covers_the_gap(world, monkeypatch):
    east = hand_city(world, monkeypatch)
    p = moveup.plan()
    assert p is not None
    # T-ALS-1 is 100 m nearer E1 than T-BLS-1; both leave A covered by the other (busy 0)
    assert (p.unit.call_sign, p.site.kind, p.site.id) == ("T-ALS-1", "standby", east.pk)
    assert p.uncovered_before == pytest.approx(0.2)  # node C
    assert p.uncovered_after == pytest.approx(0.0)
    assert p.district == "东区"
    assert 360 < p.eta_s < 370  # 2.92 km at 8 m/s

    assert moveup.refresh() == {"cancelled": 0, "arrived": 0, "proposed": 1, "superseded": 0}
    move = MoveUp.objects.get()
    assert (move.unit, move.to_standby, move.state) == (world.als1, east, MoveUpState.PROPOSED)
    assert move.from_station == world.north
    event = Event.objects.get(kind="move_up.proposed")
    assert event.unit is None  # the control room's: the crew hears of it once accepted
    assert event.data["call_sign"] == "T-ALS-1" and event.data["district"] == "东区"
    # the same situation again keeps the same suggestion (no new row, no event)
    assert moveup.refresh()["proposed"] == 0 and MoveUp.objects.count() == 1


def test_no_suggestion_when_coverage_is_complete(world, monkeypatch):
    hand_city(world, monkeypatch)
    place(world.neg1, *E1)  # C is covered from E1 already
    assert moveup.plan() is None
    assert moveup.refresh()["proposed"] == 0 and not MoveUp.objects.exists()


def test_a_suggestion_is_superseded_when_the_gap_closes(world, monkeypatch):
    hand_city(world, monkeypatch)
    moveup.refresh()
    place(world.neg1, *E1)
    counts = moveup.refresh()
    assert counts["superseded"] == 1 and counts["proposed"] == 0
    move = MoveUp.objects.get()
    assert move.state == MoveUpState.SUPERSEDED and move.end_reason == "coverage restored"
    assert Event.objects.filter(kind="move_up.superseded").count() == 1


def test_a_unit_moved_within_the_hour_is_not_moved_again(world, monkeypatch):
    east = hand_city(world, monkeypatch, capacity=2)
    hour_ago = timezone.now() - timedelta(minutes=40)
    MoveUp.objects.create(
        unit=world.als1,
        to_station=world.north,
        uncovered_before=0.1,
        uncovered_after=0.0,
        eta_s=60,
        state=MoveUpState.DONE,
        decided_at=hour_ago,
        ended_at=hour_ago,
    )
    p = moveup.plan()
    assert p is not None and (p.unit.call_sign, p.site.id) == ("T-BLS-1", east.pk)
    MoveUp.objects.update(decided_at=timezone.now() - timedelta(minutes=61))
    p = moveup.plan()
    assert p is not None and p.unit.call_sign == "T-ALS-1"


def test_only_idle_crewed_units_move(world, monkeypatch):
    hand_city(world, monkeypatch)
    from fleet.models import CrewShift, Unit

    Unit.objects.filter(pk__in=[world.als1.pk, world.bls1.pk]).update(status="returning")
    assert moveup.plan() is None  # returning units cover but do not move
    Unit.objects.filter(pk=world.bls1.pk).update(status="available")
    CrewShift.objects.filter(unit=world.bls1).update(ended_at=timezone.now())
    assert moveup.plan() is None  # nobody on shift to drive it


def test_a_full_standby_point_is_no_candidate(world, monkeypatch):
    hand_city(world, monkeypatch, capacity=1)
    first = moveup.plan()
    assert first is not None
    moveup.refresh()
    move = MoveUp.objects.get()
    MoveUp.objects.filter(pk=move.pk).update(
        state=MoveUpState.DONE, decided_at=timezone.now(), ended_at=timezone.now()
    )
    # T-ALS-1 now waits at E1 (done, still available): E1 is full, though T-ALS-1 is elsewhere
    assert moveup.candidate_sites()[-1].kind == "station"
    assert moveup.plan() is None


def test_a_dismissed_suggestion_is_not_made_again_at_once(world, monkeypatch):
    hand_city(world, monkeypatch)
    moveup.refresh()
    move = MoveUp.objects.get()
    moveup.dismiss_move_up(move, actor=world.alice)
    moveup.refresh()
    again = MoveUp.objects.get(state=MoveUpState.PROPOSED)
    assert again.unit == world.bls1  # the next best, not T-ALS-1 to E1 again
