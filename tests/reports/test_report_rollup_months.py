"""Whole closed months read merged (dispatch.reports.rollups, build_months): every figure the
rollups serve is the figure counted from the rows, with March merged; the merged rows are what is
read (doubling them changes the figures); a month is read merged only while its days are as they
were merged (a stale day, or a day rebuilt since, sends the reads back to the day rows until the
worker merges the month again); a month with a day not rolled up, or a stale day, is not merged."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dispatch.incidents.actions import update_incident_details
from dispatch.models import Incident
from dispatch.reports import (
    ReportFilter,
    areas,
    distribution,
    handovers,
    people,
    response_by_priority,
    rollups,
    summary,
    trend,
    utilisation,
)
from tests.support.report_world import MARCH, Job, make, steady
from tests.support.rollup_history import make_history, ranges

DAY = timedelta(days=1)
LAST = (MARCH + 30 * DAY).date()
MONTH = ReportFilter(MARCH, MARCH + 31 * DAY)


def figures(f: ReportFilter, raw: bool, now) -> dict:
    return {
        "summary": summary(f, raw=raw),
        "people": people(f, raw=raw),
        "hospitals": handovers(f, raw=raw),
        "priorities": response_by_priority(f, raw=raw),
        "distribution": distribution(f, "response", raw=raw),
        "trend_day": trend(f, "response", "day", raw=raw),
        "trend_hour": trend(f, "response", "hour", raw=raw),
        "areas": areas(f, "response", raw=raw),
        "units": utilisation(f, now=now, raw=raw),
    }


def same_both_ways(f: ReportFilter) -> None:
    now = timezone.now()
    served, counted = figures(f, False, now), figures(f, True, now)
    for name in served:
        assert served[name] == counted[name], (name, f)


def every_day_of_march(world) -> None:
    """An incident on each March day the history leaves empty: a centre has calls every day, and
    a figure merges a month only when every day of it holds its measure."""
    for day in [*range(0, 2), *range(7, 31)]:
        make(world, Job(MARCH + day * DAY + timedelta(hours=8, seconds=day * 1.7), steady(), unit=world.als1))


@pytest.fixture
def history(world):
    made = make_history(world)
    every_day_of_march(world)
    rollups.build_range((MARCH - 5 * DAY).date(), LAST)
    assert rollups.build_months(MARCH.date(), LAST) == 1  # February has days not rolled up
    return made


def merged(f: ReportFilter = MONTH) -> list:
    return rollups.merged_months(rollups.served_days(f))[0]


def test_merged_months_give_the_figures_counted_from_the_rows(world, history):
    assert merged() == [MARCH.date()]
    assert rollups.merged_months(rollups.served_days(MONTH, measure=rollups.SECONDS_MARKER))[0] == [
        MARCH.date()
    ]
    assert rollups.merged_months(rollups.served_days(ranges()[1])) == ([], rollups.served_days(ranges()[1]))
    for f in ranges():
        same_both_ways(f)


def test_the_merged_rows_are_read(world, history):
    before = summary(MONTH)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rollups.MONTHS} SET vals = vals || vals, counts = counts || counts, "
            "n_null = n_null * 2, n_unmeasured = n_unmeasured * 2"
        )
    after = summary(MONTH)
    assert after["incidents"] == 2 * before["incidents"]
    # A few days of March are read from the day rows, untouched.
    assert summary(ranges()[1]) == summary(ranges()[1], raw=True)


def test_a_stale_day_sends_its_month_back_to_the_days_until_merged_again(world, history):
    incident = history.incidents[2]
    Incident.objects.filter(pk=incident.pk).update(on_scene_at=incident.on_scene_at + timedelta(seconds=77.7))
    update_incident_details(incident, actor=world.alice, notes="更正：到达现场时间")
    assert merged() == []  # the stale day is not served, so March is not whole
    assert rollups.build_months(MARCH.date(), LAST) == 0  # nor merged while a day is stale
    same_both_ways(MONTH)
    assert rollups.catch_up() == {"stale_rebuilt": 1, "built": 0}
    assert merged() == []  # the day rebuilt since the month was merged
    same_both_ways(MONTH)
    out = StringIO()
    call_command("run_report_rollups", "--once", stdout=out)
    assert "months_merged=1" in out.getvalue()
    assert merged() == [MARCH.date()]
    same_both_ways(MONTH)


def test_a_day_rebuilt_by_hand_makes_the_month_stale(world, history):
    rollups.build_days([(MARCH + 10 * DAY).date()])
    assert merged() == []
    assert rollups.build_months(MARCH.date(), LAST) == 1
    assert merged() == [MARCH.date()]
    assert rollups.build_months(MARCH.date(), LAST) == 0  # nothing changed since


def test_the_command_merges_the_whole_months_of_its_range(world):
    make_history(world)
    every_day_of_march(world)
    out = StringIO()
    call_command("build_report_rollups", "--start", "2026-02-20", "--end", str(LAST), stdout=out)
    assert "1 whole months merged" in out.getvalue()
    assert merged() == [MARCH.date()]
