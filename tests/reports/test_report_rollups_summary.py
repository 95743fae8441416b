"""The summary's intervals, the response by priority, the trends by day and by hour of day and
the distribution read from the per-day rollups (dispatch/reports/rollups.py, measures
INTERVAL + n in whole seconds, INTERVAL_MS + n, HOURLY and PROBLEMS) are the figures counted from
the rows, exactly, over the hand-made history of tests/support/rollup_history.py (odd
milliseconds, ties, missing and impossible clocks, unfinished handovers, several priorities), for
several ranges and the priority filter;
also after an edit to a closed day, before and after the worker rebuilds it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch.incidents.actions import update_incident_details
from dispatch.models import Assignment, Incident
from dispatch.reports import ReportFilter, distribution, response_by_priority, rollups, summary, trend
from tests.support.report_world import MARCH
from tests.support.rollup_history import double_every_stored_count, make_history, ranges

FIGURES = {
    "summary": lambda f, raw: summary(f, raw=raw),
    "priorities": lambda f, raw: response_by_priority(f, raw=raw),
    "trend_hour_response": lambda f, raw: trend(f, "response", "hour", raw=raw),
    **{
        f"trend_day_{key}": (lambda k: lambda f, raw: trend(f, k, "day", raw=raw))(key)
        for key in ("response", "answer", "handover", "travel")
    },
    **{
        f"distribution_{key}": (lambda k: lambda f, raw: distribution(f, k, raw=raw))(key)
        for key in ("response", "answer", "handover", "on_scene")
    },
}
LAST = (MARCH + timedelta(days=30)).date()


@pytest.fixture
def history(world):
    made = make_history(world)
    rollups.build_range(MARCH.date(), LAST)
    return made


def same(figure: str, f: ReportFilter) -> None:
    rolled, counted = FIGURES[figure](f, False), FIGURES[figure](f, True)
    assert rolled == counted, (figure, f)


def served(f: ReportFilter) -> list:
    return rollups.served_days(f, measure=rollups.SECONDS_MARKER)


def test_rollups_give_the_raw_figures(world, history):
    # The history's days (2 to 6 March) hold the measure; the empty days are counted from the rows.
    assert served(ranges()[0]) == [(MARCH + timedelta(days=d)).date() for d in range(2, 7)]
    assert summary(ranges()[0])["incidents"] == 52
    for figure in sorted(FIGURES):
        for f in ranges():
            same(figure, f)


def test_the_figures_are_read_from_the_rollups(world, history):
    """Doubling every stored count changes the answers: the served days are not read from the rows."""
    f = ranges()[0]
    before = {name: get(f, False) for name, get in FIGURES.items()}
    double_every_stored_count()
    after = {name: get(f, False) for name, get in FIGURES.items()}
    for name in FIGURES:
        assert after[name] != before[name], name
    assert after["summary"]["incidents"] == 2 * before["summary"]["incidents"]


def test_an_edit_to_a_closed_day_is_counted_at_once_and_rebuilt(world, history):
    """A late clock: the on-scene time and a handover corrected on an incident of 4 March, through
    an action's event. The day is stale at once (read from the rows), then rebuilt by the worker."""
    incident = history.incidents[2]
    day = timezone.localtime(incident.created_at).date()
    f = ranges()[0]
    before = summary(f)
    Incident.objects.filter(pk=incident.pk).update(
        on_scene_at=incident.on_scene_at + timedelta(seconds=333.3337),
        at_hospital_at=incident.at_hospital_at + timedelta(seconds=60),
    )
    Assignment.objects.filter(incident=incident).update(
        handover_at=incident.handover_at + timedelta(seconds=1234.5678)
    )
    update_incident_details(incident, actor=world.alice, notes="更正：到达现场时间")
    assert rollups.stale_days(MARCH.date(), LAST) == [day]
    assert day not in served(f)
    assert summary(f) != before
    for figure in sorted(FIGURES):
        for g in ranges():
            same(figure, g)
    assert rollups.catch_up() == {"stale_rebuilt": 1, "built": 0}
    assert day in served(f)
    for figure in sorted(FIGURES):
        for g in ranges():
            same(figure, g)


def test_other_intervals_by_hour_are_counted_from_the_rows(world, history):
    """Only the response is rolled up by hour of day: another interval's hourly trend reads the
    rows (doubled stored counts do not change it) and is the raw one."""
    f = ranges()[0]
    before = trend(f, "travel", "hour")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE dispatch_report_rollup SET counts = counts || counts, vals = vals || vals")
    assert trend(f, "travel", "hour") == before == trend(f, "travel", "hour", raw=True)
    assert trend(f, "response", "hour") != trend(f, "response", "hour", raw=True)


def test_a_day_rolled_up_before_the_measure_existed_is_counted_from_the_rows(world, history):
    """Rollups built by an older version hold no interval counts: such a day is not served for
    these figures (it would count as empty), but still for the figures it does hold."""
    day = (MARCH + timedelta(days=4)).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM dispatch_report_rollup WHERE day = %s AND measure = ANY(%s)",
            [
                day,
                [*rollups.INTERVAL_MEASURES, *rollups.INTERVAL_MS_MEASURES, rollups.HOURLY, rollups.PROBLEMS],
            ],
        )
    f = ranges()[0]
    for figure in sorted(FIGURES):
        same(figure, f)
    assert day not in served(f)
    assert day in rollups.served_days(f)
