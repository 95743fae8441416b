"""A job run entirely through the actions, clocks untouched, lands in the report with the
intervals its own clocks give (the database computes them as the actions write)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Incident
from dispatch.reports import INTERVALS
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.report_world import signed_in

JOB = [
    UnitStatus.ACKNOWLEDGED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
    UnitStatus.AVAILABLE,
]


@pytest.fixture
def finished(world):
    received = timezone.now() - timedelta(seconds=30)
    incident = create_incident(
        actor=world.alice,
        location=Point(119.6, 24.9, srid=4326),
        location_source="pin",
        priority=1,
        call_received_at=received,
        call_answered_at=received + timedelta(seconds=4),
    )
    dispatch_unit(incident, world.als1, actor=world.alice, hospital=world.city)
    for status in JOB:
        set_unit_status(world.als1, status, actor=world.carol)
    return Incident.objects.get(pk=incident.pk)


def test_every_interval_of_a_real_job(world, finished):
    today = timezone.localdate().isoformat()
    body = signed_in(world.bob).get(f"/api/reports/summary?start={today}&end={today}").json()
    assert body["incidents"] == 1 and body["with_problems"] == 0
    rows = {row["key"]: row for row in body["intervals"]}
    # Answering is measured from the calls (test_report_answering_from_calls.py): none rang here.
    for interval in (iv for iv in INTERVALS if iv.key != "answer"):
        start, end = getattr(finished, interval.start), getattr(finished, interval.end)
        assert start is not None and end is not None, interval.key
        # Whole seconds rounded up (decision 0021): the exact interval, ceil.
        expected = float(-(-(end - start) // timedelta(seconds=1)))
        assert rows[interval.key]["count"] == 1, interval.key
        assert rows[interval.key]["median_s"] == rows[interval.key]["p90_s"] == expected, interval.key
    assert rows["processing"]["count"] == 1 and rows["answer"]["count"] == 0


def test_a_dispatch_writes_its_processing_time(world, finished):
    """The stored intervals follow the clocks: the dispatch action's write computes them."""
    today = timezone.localdate().isoformat()
    client = signed_in(world.bob)
    other = create_incident(actor=world.alice, priority=2)
    dispatch_unit(other, world.als2, actor=world.alice)
    body = client.get(f"/api/reports/summary?start={today}&end={today}").json()
    processing = next(row for row in body["intervals"] if row["key"] == "processing")
    assert body["incidents"] == 2 and processing["count"] == 2
