"""Unit-hour utilisation is the time each unit was committed over the time it was staffed (crew
shifts, overlapping ones counted once), checked against hand-computed unit hours; each
hospital's handover times are exact percentiles over its handovers; diversion hours come
from the diversion events, including a diversion that began before the period."""

from datetime import datetime, timedelta

import pytest

from dispatch.crew.actions import end_shift
from dispatch.handoff.actions import set_diversion
from dispatch.models import Event, Role, User
from fleet.models import CrewShift
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady
from tests.support.roster import on_shift

# steady(): dispatched 45 s after the call, unit available 3005 s after it.
JOB_S = 3005 - 45


@pytest.fixture
def month(world):
    make(world, Job(MARCH + timedelta(hours=1), steady(handover=900.0), unit=world.als1, hospital=world.city))
    make(
        world, Job(MARCH + timedelta(hours=5), steady(handover=1500.0), unit=world.als1, hospital=world.city)
    )
    make(
        world,
        Job(MARCH + timedelta(hours=7), steady(handover=2000.0), unit=world.als2, hospital=world.county),
    )
    # Dispatched half an hour before March began: only its March part counts.
    make(
        world,
        Job(MARCH - timedelta(minutes=30, seconds=45), steady(), unit=world.bls1, hospital=world.county),
    )


def diversion(world, hospital, categories, at):
    set_diversion(hospital, categories, actor=world.dave, reason="满床" if categories else "")
    # A test fixture's licence: the event log is the record, and this puts the record in March.
    last = Event.objects.filter(kind="hospital.diversion").latest("seq")
    Event.objects.filter(pk=last.pk).update(at=at)


def shift(world, unit, start: datetime, end: datetime) -> None:
    """A crew member's shift on the unit, started through the action, with the test's times."""
    crew = User.objects.create_user(f"crew-{unit.call_sign}-{start:%H%M}", role=Role.CREW)
    started = on_shift(crew, unit)
    end_shift(crew)
    CrewShift.objects.filter(pk=started.pk).update(started_at=start, ended_at=end)


@pytest.fixture
def shifts(world):
    hour = timedelta(hours=1)
    # Two crew members on T-ALS-1 whose shifts overlap: 00:00-12:00 and 06:00-18:00 are 18 hours.
    shift(world, world.als1, MARCH, MARCH + 12 * hour)
    shift(world, world.als1, MARCH + 6 * hour, MARCH + 18 * hour)
    # T-ALS-2 staffed only 07:30-08:00, inside its 07:00 job.
    shift(world, world.als2, MARCH + 7.5 * hour, MARCH + 8 * hour)
    # T-NEG-1 staffed ten hours with no job; T-BLS-1 never staffed in March.
    shift(world, world.neg1, MARCH + 2 * hour, MARCH + 12 * hour)


def test_unit_hour_utilisation_is_committed_over_staffed_time(world, month, shifts):
    units = {u["unit"]: u for u in signed_in(world.bob).get(f"/api/reports/units?{MONTH_QUERY}").json()}
    assert units["T-ALS-1"]["jobs"] == 2
    busy = JOB_S + (JOB_S + 600)  # the second job's handover is 600 s longer
    assert units["T-ALS-1"]["busy_h"] == round(busy / 3600, 2)
    # Hand-computed unit hours: both jobs inside the 18 staffed hours.
    assert units["T-ALS-1"]["staffed_h"] == 18.0
    assert units["T-ALS-1"]["uhu"] == round(busy / (18 * 3600), 6)
    # T-ALS-2's job (07:00:45 to 08:08:25) covers its whole half-hour shift: 100%.
    assert units["T-ALS-2"]["staffed_h"] == 0.5 and units["T-ALS-2"]["uhu"] == 1.0
    assert units["T-ALS-2"]["busy_h"] == round((JOB_S + 1100) / 3600, 2)
    # Never staffed: its utilisation is unknown, not 0 and not a share of the month.
    assert units["T-BLS-1"]["busy_h"] == round((JOB_S - 1800) / 3600, 2)
    assert units["T-BLS-1"]["staffed_h"] == 0 and units["T-BLS-1"]["uhu"] is None
    assert units["T-NEG-1"]["jobs"] == 0 and units["T-NEG-1"]["staffed_h"] == 10.0
    assert units["T-NEG-1"]["uhu"] == 0
    stations = signed_in(world.bob).get(f"/api/reports/units?{MONTH_QUERY}&station={world.south.pk}").json()
    assert {u["unit"] for u in stations} == {"T-ALS-2", "T-NEG-1"}


def test_handover_by_hospital_and_diversion_hours(world, month):
    diversion(world, world.county, ["all"], MARCH - timedelta(hours=2))
    diversion(world, world.county, [], MARCH + timedelta(hours=2))
    diversion(world, world.city, ["stroke"], MARCH + timedelta(days=3, hours=10))
    diversion(world, world.city, ["stroke", "trauma"], MARCH + timedelta(days=3, hours=11))
    diversion(world, world.city, [], MARCH + timedelta(days=3, hours=13, minutes=30))
    rows = {h["name"]: h for h in signed_in(world.erin).get(f"/api/reports/hospitals?{MONTH_QUERY}").json()}
    city, county = rows[world.city.name], rows[world.county.name]
    assert city["count"] == 2 and city["median_s"] == 900.0 and city["p90_s"] == 1500.0
    assert [t["within"] for t in city["targets"]] == [1, 2, 2]
    assert county["count"] == 1 and county["p90_s"] == 2000.0  # the February job's handover is not March's
    assert city["diversion_h"] == 3.5
    assert county["diversion_h"] == 2.0
