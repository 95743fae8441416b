"""A shift ends by itself SHIFT_END_GRACE_MINUTES after its planned end: one event each, the
unit then has nobody on shift and is not recommended; a unit still on a job keeps its crew
until the job is done; back-to-back entries make one long shift. "Now" is passed in."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from dispatch.core.actions import ActionError
from dispatch.crew.actions import end_shift, start_shift
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Event, User
from dispatch.recommend.reads import recommend_units
from dispatch.roster.actions import add_roster_entry, end_overdue_shifts, remove_roster_entry
from dispatch.units.actions import set_unit_status
from fleet.models import CrewShift, RosterEntry
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, river_city


def carol_on_bls1(world: Any, hours: float = 2) -> tuple:
    """Carol rostered on T-BLS-1 from an hour ago for `hours` more, joining its world crew."""
    now = timezone.now()
    end = now + timedelta(hours=hours)
    add_roster_entry(world.bls1, world.carol, now - timedelta(hours=1), end, actor=world.bob)
    start_shift(world.carol, world.bls1)
    return now, end


def test_the_shift_ends_after_the_grace_period_with_an_event(world, settings):
    settings.SHIFT_END_GRACE_MINUTES = 30
    now, end = carol_on_bls1(world)
    assert end_overdue_shifts(end + timedelta(minutes=29)) == 0
    assert CrewShift.objects.current().filter(user=world.carol).exists()
    frozen = end + timedelta(minutes=30)
    assert end_overdue_shifts(frozen) == 1
    shift = CrewShift.objects.get(user=world.carol)
    assert shift.ended_at == frozen
    event = Event.objects.get(kind="shift.ended", data__user="carol")
    assert event.unit == world.bls1 and event.actor is None
    assert event.data["automatic"] is True and event.data["ended_at"] == frozen.isoformat()
    assert event.data["planned_end"] == end.isoformat()
    # The unit's other crew member is rostered longer (tests/conftest.py: 12 h) and stays.
    assert CrewShift.objects.current().filter(unit=world.bls1, user__username="crew-t-bls-1").exists()
    assert end_overdue_shifts(frozen + timedelta(minutes=1)) == 0  # ended once


def test_back_to_back_entries_are_one_shift(world, settings):
    settings.SHIFT_END_GRACE_MINUTES = 30
    now, day_end = carol_on_bls1(world)
    night_end = day_end + timedelta(hours=12)
    add_roster_entry(world.bls1, world.carol, day_end, night_end, actor=world.bob)
    assert end_overdue_shifts(day_end + timedelta(hours=1)) == 0
    assert end_overdue_shifts(night_end + timedelta(minutes=30)) >= 1
    assert not CrewShift.objects.current().filter(user=world.carol).exists()


def test_a_unit_on_a_job_keeps_its_crew_until_the_job_is_done(world, settings):
    settings.SHIFT_END_GRACE_MINUTES = 30
    now, end = carol_on_bls1(world)
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin", priority=1)
    dispatch_unit(incident, world.bls1, actor=world.alice)
    late = end + timedelta(hours=1)
    assert end_overdue_shifts(late) == 0
    for status in ("en_route", "on_scene", "available"):
        set_unit_status(world.bls1, status, actor=world.carol)
    assert end_overdue_shifts(late) == 1


def test_an_entry_under_an_open_shift_cannot_be_removed(world):
    carol_on_bls1(world)
    entry = RosterEntry.objects.get(user=world.carol)
    with pytest.raises(ActionError) as refused:
        remove_roster_entry(entry, actor=world.bob)
    assert refused.value.code == "on_shift" and RosterEntry.objects.filter(pk=entry.pk).exists()
    end_shift(world.carol)
    remove_roster_entry(entry, actor=world.bob)
    assert Event.objects.filter(kind="roster.removed", data__id=entry.pk).exists()


def test_the_loop_command_ends_what_is_due(world):
    now = timezone.now()
    add_roster_entry(
        world.bls1, world.carol, now - timedelta(hours=13), now - timedelta(hours=1), actor=world.bob
    )
    start_shift(world.carol, world.bls1, now=now - timedelta(hours=12))
    call_command("run_shift_ends", "--once", verbosity=0)
    assert not CrewShift.objects.current().filter(user=world.carol).exists()


@pytest.mark.django_db(transaction=True)
def test_a_unit_whose_shift_ended_by_itself_is_not_recommended(fresh_router, world, settings):
    settings.SHIFT_END_GRACE_MINUTES = 30
    save_network(river_city(), "river city", "tests/roster/test_shift_ends_by_itself.py")
    assert recommend_units(SCENE, "als").units[0].call_sign == "T-ALS-1"
    als1_crew = User.objects.get(username="crew-t-als-1")
    end = RosterEntry.objects.get(user=als1_crew).planned_end
    # Only T-ALS-1's crew is due: the others' entries run an hour longer.
    for other in RosterEntry.objects.exclude(user=als1_crew):
        add_roster_entry(
            other.unit, other.user, other.planned_end, other.planned_end + timedelta(hours=1), actor=None
        )
    assert end_overdue_shifts(end + timedelta(minutes=30)) == 1
    result = recommend_units(SCENE, "als")
    unstaffed = next(u for u in result.units if u.call_sign == "T-ALS-1")
    assert result.units[-1].call_sign == "T-ALS-1"
    assert not unstaffed.dispatchable and not unstaffed.crew_on_shift
