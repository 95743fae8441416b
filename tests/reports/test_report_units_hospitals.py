"""Unit-hour utilisation counts the time each unit was committed inside the period; each
hospital's handover times are exact percentiles over its handovers; diversion hours come
from the diversion events, including a diversion that began before the period."""

from datetime import timedelta

import pytest

from dispatch.handoff.actions import set_diversion
from dispatch.models import Event
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

MARCH_S = 31 * 86400
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


def test_unit_hour_utilisation(world, month):
    units = {u["unit"]: u for u in signed_in(world.bob).get(f"/api/reports/units?{MONTH_QUERY}").json()}
    assert units["T-ALS-1"]["jobs"] == 2
    busy = JOB_S + (JOB_S + 600)  # the second job's handover is 600 s longer
    assert units["T-ALS-1"]["busy_h"] == round(busy / 3600, 2)
    assert units["T-ALS-1"]["uhu"] == round(busy / MARCH_S, 4)
    assert units["T-BLS-1"]["busy_h"] == round((JOB_S - 1800) / 3600, 2)
    assert units["T-NEG-1"]["jobs"] == 0 and units["T-NEG-1"]["uhu"] == 0
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
