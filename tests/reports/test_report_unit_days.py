"""Unit-hour utilisation read from the rollups' unit-days (dispatch.reports.rollups,
UNIT_MEASURES) is the utilisation counted from the jobs and shifts, exactly: over a history of
closed March days with overlapping shifts, a job and a shift over midnight, a job still running
and a shift never ended, for periods starting at midnight and in the middle of a day, reaching
into open days, and per station. A job over midnight is counted once in a period holding both
its days. The served days are read from the rollups (doubling the stored counts changes the
figures), days rolled up before the unit-days are rebuilt by the worker, and a job's clock
corrected afterwards makes the days it reaches into stale."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch.crew.actions import end_shift
from dispatch.incidents.actions import update_incident_details
from dispatch.models import Assignment, Role, User
from dispatch.reports import ReportFilter, rollups, utilisation
from fleet.models import CrewShift
from tests.support.report_world import MARCH, Job, make, steady
from tests.support.rollup_history import double_every_stored_count, make_history
from tests.support.roster import on_shift

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
LAST = (MARCH + 30 * DAY).date()


def shift(world, unit, start: datetime, end: datetime | None) -> CrewShift:
    """A crew member's shift on the unit, started and ended through the actions, then given the
    test's times (None: never ended)."""
    crew = User.objects.create_user(f"crew-{unit.call_sign}-{start:%d%H%M}", role=Role.CREW)
    started = on_shift(crew, unit)
    end_shift(crew)
    CrewShift.objects.filter(pk=started.pk).update(started_at=start, ended_at=end)
    return started


@pytest.fixture
def history(world):
    made = make_history(world)
    # Overlapping shifts on T-ALS-1 over 2 to 6 March; one on T-ALS-2 over the night of 3 March.
    for day in range(2, 7):
        shift(world, world.als1, MARCH + day * DAY, MARCH + day * DAY + 12 * HOUR)
        shift(world, world.als1, MARCH + day * DAY + 6 * HOUR, MARCH + day * DAY + 18 * HOUR)
    shift(world, world.als2, MARCH + 3 * DAY + 20 * HOUR, MARCH + 4 * DAY + 8 * HOUR)
    # A shift begun on 5 March and never ended: staffed up to now.
    shift(world, world.neg1, MARCH + 5 * DAY + 9.5 * HOUR, None)
    # A job over midnight (3 to 4 March), inside T-ALS-2's night shift.
    over_midnight = make(world, Job(MARCH + 3 * DAY + 23.5 * HOUR, steady(), unit=world.als2))
    assert made.incidents
    # A job dispatched on 6 March that was never cleared: committed up to now.
    running = make(world, Job(MARCH + 6 * DAY + 10 * HOUR, steady(), unit=world.neg1))
    Assignment.objects.filter(incident=running).update(cleared_at=None, cancelled_at=None)
    rollups.build_range(MARCH.date(), LAST)
    return over_midnight


def periods() -> list[ReportFilter]:
    now = timezone.now()
    return [
        ReportFilter(MARCH, MARCH + 31 * DAY),
        ReportFilter(MARCH + 3 * DAY, MARCH + 5 * DAY),
        ReportFilter(MARCH + 4 * DAY, MARCH + 5 * DAY),
        ReportFilter(MARCH + 3 * DAY + 12 * HOUR, MARCH + 6 * DAY),
        ReportFilter(MARCH + 4 * DAY + 0.25 * HOUR, MARCH + 4 * DAY + 0.5 * HOUR),
        ReportFilter(MARCH + 5 * DAY, now + DAY),
        ReportFilter(now - 300 * DAY, now + DAY),
    ]


def both_ways(f: ReportFilter, now: datetime) -> tuple[list[dict], list[dict]]:
    return utilisation(f, now=now, raw=False), utilisation(f, now=now, raw=True)


def test_the_unit_days_give_the_figures_counted_from_the_jobs_and_shifts(world, history):
    now = timezone.now()
    assert rollups.served_days(periods()[0], now=now, measure=rollups.UNITS_MARKER) == [
        (MARCH + d * DAY).date() for d in range(31)
    ]
    for f in periods():
        served, counted = both_ways(f, now)
        assert served == counted, f
    station = ReportFilter(MARCH, MARCH + 31 * DAY, station=world.south.pk)
    served, counted = both_ways(station, now)
    assert served == counted
    assert {u["unit"] for u in served} == {world.als2.call_sign, world.neg1.call_sign}


@pytest.fixture
def night(world):
    """T-ALS-2 alone: a night shift 3 March 20:00 to 4 March 08:00, a job over midnight in it."""
    shift(world, world.als2, MARCH + 3 * DAY + 20 * HOUR, MARCH + 4 * DAY + 8 * HOUR)
    make(world, Job(MARCH + 3 * DAY + 23.5 * HOUR, steady(), unit=world.als2))
    rollups.build_range(MARCH.date(), LAST)


def test_hand_computed_unit_hours_and_a_job_over_midnight_counted_once(world, night):
    now = timezone.now()
    job_s = steady()["unit_available_at"] - steady()["dispatched_at"]
    dispatched = MARCH + 3 * DAY + 23.5 * HOUR + timedelta(seconds=steady()["dispatched_at"])
    before_midnight = (MARCH + 4 * DAY - dispatched).total_seconds()
    expected = {  # period: (jobs, busy s, staffed h)
        (3, 4): (1, before_midnight, 4),
        (4, 5): (1, job_s - before_midnight, 8),
        (3, 5): (1, job_s, 12),
        (1, 31): (1, job_s, 12),
    }
    for (first, end), (jobs, busy_s, staffed_h) in expected.items():
        f = ReportFilter(MARCH + first * DAY, MARCH + end * DAY)
        served, counted = both_ways(f, now)
        assert served == counted
        assert rollups.served_days(f, now=now, measure=rollups.UNITS_MARKER)
        als2 = next(u for u in served if u["unit"] == world.als2.call_sign)
        assert als2["jobs"] == jobs, (first, end)
        assert als2["busy_h"] == round(busy_s / 3600, 2)
        assert als2["staffed_h"] == staffed_h
        assert als2["uhu"] == round(busy_s / (staffed_h * 3600), 6)


def test_the_served_days_are_read_from_the_rollups(world, history):
    now = timezone.now()
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    before = utilisation(f, now=now)
    double_every_stored_count()
    after = {u["unit"]: u for u in utilisation(f, now=now)}
    for unit in before:
        if unit["jobs"]:
            assert after[unit["unit"]]["jobs"] == 2 * unit["jobs"], unit
        if unit["staffed_h"] and unit["unit"] != world.neg1.call_sign:
            assert after[unit["unit"]]["staffed_h"] == pytest.approx(2 * unit["staffed_h"], abs=0.011)
    assert utilisation(f, now=now, raw=True) == before


def test_days_rolled_up_before_the_unit_days_are_built_again(world, history):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            # As built before the unit-days: no rows of theirs, nor of any marker since.
            "DELETE FROM dispatch_report_rollup WHERE measure = ANY(%s)",
            [[*rollups.UNIT_MEASURES, *rollups.MARKERS]],
        )
    days = [(MARCH + d * DAY).date() for d in range(2, 7)]
    assert rollups.missing_days(MARCH.date(), LAST) == days
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    assert rollups.served_days(f, now=now, measure=rollups.UNITS_MARKER) == []
    assert utilisation(f, now=now) == utilisation(f, now=now, raw=True)
    assert rollups.catch_up() == {"stale_rebuilt": 0, "built": len(days)}
    assert rollups.served_days(f, now=now, measure=rollups.UNITS_MARKER) == days
    assert utilisation(f, now=now) == utilisation(f, now=now, raw=True)


def test_a_corrected_job_makes_the_days_it_reaches_into_stale(world, history):
    """The job over midnight's end put a day later, through an action's event on its incident:
    the days it now reaches into (3 to 5 March) are stale at once, then rebuilt."""
    now = timezone.now()
    incident = history
    assignment = Assignment.objects.get(incident=incident)
    Assignment.objects.filter(pk=assignment.pk).update(cleared_at=assignment.cleared_at + DAY)
    update_incident_details(incident, actor=world.alice, notes="更正：车辆空闲时间")
    assert rollups.stale_days(MARCH.date(), LAST) == [(MARCH + d * DAY).date() for d in (3, 4, 5)]
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    assert utilisation(f, now=now) == utilisation(f, now=now, raw=True)
    assert rollups.catch_up() == {"stale_rebuilt": 3, "built": 0}
    assert utilisation(f, now=now) == utilisation(f, now=now, raw=True)
