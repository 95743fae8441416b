"""Which rolled-up days an event has made stale, read once by the worker (rollups.mark_stale):
an event is seen by the reports at once (the events the worker has not read yet), then as the
day's flag once it has; a report reads only the events after the last the worker read, not every
event since the oldest day was rolled up; a rebuild clears the flag, and an event older than a
day's rebuild does not flag it."""

from datetime import timedelta

import pytest
from django.db import connection

from dispatch.incidents.actions import update_incident_details
from dispatch.models import Incident
from dispatch.reports import ReportFilter, rollups, summary
from tests.support.report_world import MARCH
from tests.support.rollup_history import make_history

DAY = timedelta(days=1)
LAST = (MARCH + 30 * DAY).date()
MONTH = ReportFilter(MARCH, MARCH + 31 * DAY)


@pytest.fixture
def history(world):
    made = make_history(world)
    rollups.build_range(MARCH.date(), LAST)
    rollups.mark_stale()
    return made


def correct(world, incident: Incident) -> None:
    """A late clock on a closed day, through an action's event."""
    Incident.objects.filter(pk=incident.pk).update(on_scene_at=incident.on_scene_at + timedelta(seconds=41.5))
    update_incident_details(incident, actor=world.alice, notes="更正：到达现场时间")


def flagged() -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT day FROM {rollups.DAYS} WHERE stale ORDER BY day")
        return [day for (day,) in cursor.fetchall()]


def watched() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq FROM {rollups.WATCH}")
        return cursor.fetchone()[0]


def test_an_event_is_seen_at_once_then_flagged_by_the_worker(world, history):
    incident = history.incidents[3]
    day = incident.created_at.astimezone(MARCH.tzinfo).date()
    correct(world, incident)
    assert flagged() == []
    assert rollups.stale_days(MARCH.date(), LAST) == [day]  # not read by the worker yet
    assert summary(MONTH) == summary(MONTH, raw=True)
    assert rollups.mark_stale() == 1
    assert flagged() == [day]
    assert rollups.stale_days(MARCH.date(), LAST) == [day]
    assert summary(MONTH) == summary(MONTH, raw=True)
    assert rollups.mark_stale() == 0  # nothing new
    assert rollups.catch_up() == {"stale_rebuilt": 1, "built": 0}
    assert flagged() == [] and rollups.stale_days(MARCH.date(), LAST) == []
    assert summary(MONTH) == summary(MONTH, raw=True)


def test_a_report_reads_only_the_events_after_the_last_the_worker_read(world, history):
    """An event the watermark says was read, but which flagged nothing (as if it touched no day
    then), is not read again by a report: the reports trust the flags up to the watermark."""
    incident = history.incidents[3]
    correct(world, incident)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {rollups.WATCH} SET seq = (SELECT last_seq FROM dispatch_eventcounter)")
    assert rollups.stale_days(MARCH.date(), LAST) == []
    assert rollups.mark_stale() == 0


def test_a_day_rebuilt_after_an_event_is_not_flagged_by_it(world, history):
    incident = history.incidents[3]
    day = incident.created_at.astimezone(MARCH.tzinfo).date()
    correct(world, incident)
    rollups.build_days([day])  # rebuilt from the corrected clocks before the worker read the event
    assert rollups.stale_days(MARCH.date(), LAST) == []
    assert rollups.mark_stale() == 0
    assert flagged() == []
    assert watched() > 0


def test_the_watermark_row_is_made_when_missing(world, history):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rollups.WATCH}")
    incident = history.incidents[3]
    day = incident.created_at.astimezone(MARCH.tzinfo).date()
    correct(world, incident)
    assert rollups.stale_days(MARCH.date(), LAST) == [day]
    assert rollups.mark_stale() == 1
    assert flagged() == [day]
