"""The demo's history: two days of calls and incidents made through the actions under a
simulated clock, whose report figures agree with what was generated (every call and incident
counted, abandoned ones among the calls, plausible rates), all jobs over and units back, and a
second run that adds nothing."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dispatch.demo.history import HISTORY_PROVIDER, make_history
from dispatch.models import Assignment, Call, Event, Incident
from dispatch.reports import ReportFilter, response_by_priority, summary
from fleet.models import Unit, UnitStatus


@pytest.mark.django_db
def test_two_days_of_history_reach_the_reports_and_a_second_run_adds_nothing(world):
    # A fixed hour of the day: the call curve follows the clock, so an unpinned "now" makes a
    # different history (and a different queue for the fixture's three ambulances) each run.
    now = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    progress = io.StringIO()
    result = make_history(2, calls_per_hour=2, seed=7, progress=progress, now=now)
    assert not result.skipped and result.calls > 60 and result.incidents > 50
    assert "100.0%" in progress.getvalue() and "[" in progress.getvalue()
    calls = Call.objects.filter(provider=HISTORY_PROVIDER)
    assert calls.count() == result.calls
    assert calls.filter(status="missed").count() == result.abandoned
    assert Incident.objects.count() == result.incidents == calls.filter(answered_at__isnull=False).count()
    # Every clock lies in the history, before now; each job is over and every unit back.
    assert Incident.objects.filter(status="open").count() == 0
    assert not Incident.objects.filter(created_at__lt=result.start).exists()
    assert not Incident.objects.filter(closed_at__gt=now).exists()
    assert set(Unit.objects.values_list("status", flat=True)) == {UnitStatus.AVAILABLE}
    assert Event.objects.filter(kind="unit.status", at__lt=result.start).count() == 0
    # The reports count what was made.
    f = ReportFilter(result.start, now)
    report = summary(f)
    assert report["incidents"] == result.incidents
    assert report["calls"]["offered"] == result.calls and report["calls"]["ringing_now"] == 0
    assert report["calls"]["abandoned"] == result.abandoned
    assert report["with_problems"] == 0
    rows = {row["key"]: row for row in report["intervals"]}
    answer = rows["answer"]["targets"][0]
    assert answer["of"] == result.calls and 80 <= answer["pct"] <= 100
    departure = next(t for t in rows["departure"]["targets"] if t["within_s"] == 180)
    assert departure["of"] == result.incidents
    assert departure["pct"] == pytest.approx(departure_share_from_the_rows(180), abs=0.01)
    assert 300 < rows["response"]["median_s"] < 3600
    by_priority = {row["priority"]: row for row in response_by_priority(f)}
    assert sum(row["incidents"] for row in by_priority.values()) == result.incidents
    assert by_priority[3]["incidents"] > by_priority[1]["incidents"]
    # Idempotent.
    again = make_history(2, calls_per_hour=2, seed=7, progress=None, now=timezone.now())
    assert again.skipped and Call.objects.count() == result.calls


def departure_share_from_the_rows(within_s: int) -> float:
    """Answer (the call's own clock) to the first unit rolling (the assignment's), per cent:
    counted here from the rows the actions wrote, not from the report's columns."""
    answered = dict(Incident.objects.values_list("pk", "call__answered_at"))
    rolled: dict[int, object] = {}
    for incident_id, at in Assignment.objects.order_by("dispatched_at").values_list(
        "incident_id", "en_route_at"
    ):
        rolled.setdefault(incident_id, at)
    within = sum((rolled[pk] - answered[pk]).total_seconds() <= within_s for pk in answered)
    return round(100 * within / len(answered), 2)


@pytest.mark.django_db
def test_the_command_prints_its_time_and_adds_nothing_the_second_time(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("make_demo_history", "--days", "0.25", "--calls-per-hour", "4", stdout=out, stderr=err)
    printed = r"history of 0.25 days: \d+ calls \(\d+ abandoned\), \d+ incidents, in [\d.]+ s"
    assert re.search(printed, out.getvalue())
    made = Call.objects.count()
    assert made > 5 and "100.0%" in err.getvalue()
    again = io.StringIO()
    call_command("make_demo_history", stdout=again, stderr=io.StringIO())
    assert "nothing added" in again.getvalue() and Call.objects.count() == made
    with pytest.raises(CommandError):
        call_command("make_demo_history", "--days", "0", stdout=io.StringIO())
