"""Answering (the summary's answer row and its calls figures) read for closed days from the
rollups (dispatch.reports.rollups CALL_ANSWER, CALL_WAIT, CALL_ANSWER_MS; decision 0021): every
figure recomputed here by hand from the calls' own clocks, in whole seconds rounded up, and equal
to what the page's API and the raw path give, for whole months, partial days, day edges in centre
time, the priority filter (calls ignore it) and a range reaching today (read from the rows)."""

import math
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dispatch.reports import ReportFilter, answering, rollups, summary
from dispatch.reports.filters import local_midnight
from tests.support.report_world import MARCH, MONTH_QUERY, signed_in
from tests.support.rollup_history import RungCall, double_every_stored_count, make_calls, ranges

DAY = timedelta(days=1)


@pytest.fixture
def calls(world) -> list[RungCall]:
    made = make_calls()
    # An existing database is brought in by the command (the backfill), as the worker does daily.
    call_command("build_report_rollups", "--start", "2026-02-20", "--end", "2026-03-31")
    return made


def ms_up(start: datetime, end: datetime | None) -> int | None:
    """As the report: milliseconds rounded up; None when missing, out of order or over a day."""
    if end is None or end < start or end - start > DAY:
        return None
    return -(-((end - start) // timedelta(microseconds=1)) // 1000)


def whole(ms: int | None) -> float | None:
    return None if ms is None else float(-(-ms // 1000))


def nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)), 1) - 1]


def by_hand(made: list[RungCall], f: ReportFilter) -> dict:
    period = [
        c for c in made if f.start <= c.rang < f.end and f.hour in (None, timezone.localtime(c.rang).hour)
    ]
    answers = [ms for c in period if (ms := ms_up(c.rang, c.answered)) is not None]
    abandoned = [c for c in period if c.status == "missed" and c.answered is None]
    waits = [whole(ms_up(c.rang, c.ended)) for c in abandoned]
    measured_waits = [w for w in waits if w is not None]
    within = sum(ms <= 10_000 for ms in answers)
    return {
        "offered": len(period),
        "answered": sum(c.answered is not None for c in period),
        "abandoned": len(abandoned),
        "unmeasurable": len(period) - len(answers) - len(abandoned),
        "count": len(answers),
        "median_s": nearest_rank([whole(ms) for ms in answers], 0.5),
        "p90_s": nearest_rank([whole(ms) for ms in answers], 0.9),
        "mean_s": round(sum(answers) / len(answers) / 1000, 3) if answers else None,
        "within": within,
        "wait_median_s": nearest_rank(measured_waits, 0.5),
        "wait_p90_s": nearest_rank(measured_waits, 0.9),
        "wait_max_s": max(measured_waits) if measured_waits else None,
    }


def figures(answer: dict) -> dict:
    calls, row = answer["calls"], answer["interval"]
    return {
        "offered": calls["offered"],
        "answered": calls["answered"],
        "abandoned": calls["abandoned"],
        "unmeasurable": calls["unmeasurable"],
        "count": row["count"],
        "median_s": row["median_s"],
        "p90_s": row["p90_s"],
        "mean_s": row["mean_s"],
        "within": row["targets"][0]["within"],
        "wait_median_s": calls["abandoned_wait_median_s"],
        "wait_p90_s": calls["abandoned_wait_p90_s"],
        "wait_max_s": calls["abandoned_wait_max_s"],
    }


def test_the_closed_days_are_served_from_the_rollups(world, calls):
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    served = rollups.served_days(f, measure=rollups.CALL_ANSWER)
    # The calls ring on 3 to 7 March; 2 March holds only the one rung half a millisecond before
    # 3 March's local midnight.
    assert served == [(MARCH + d * DAY).date() for d in range(1, 7)]


def test_the_answering_figures_from_the_rollups_are_the_calls_own(world, calls):
    march = [*ranges()[:6], ReportFilter(MARCH + 2 * DAY, MARCH + 4 * DAY, hour=0)]
    for f in march:
        rolled, counted = answering(f), answering(f, raw=True)
        assert rolled == counted, f
        assert figures(rolled) == by_hand(calls, f), f
    whole_month = by_hand(calls, ReportFilter(MARCH, MARCH + 31 * DAY))
    # What the history holds: 10.0 s within, 10.0004 s and 10.001 s not (11 s as whole seconds).
    assert (whole_month["offered"], whole_month["answered"], whole_month["abandoned"]) == (95, 70, 20)
    assert (whole_month["unmeasurable"], whole_month["count"], whole_month["within"]) == (15, 60, 14)
    assert whole_month["p90_s"] == 61.0 and whole_month["median_s"] == 11.0


def test_the_page_api_gives_the_rollups_figures(world, calls):
    body = signed_in(world.bob).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    answer = next(row for row in body["intervals"] if row["key"] == "answer")
    expected = by_hand(calls, ReportFilter(MARCH, MARCH + 31 * DAY))
    assert figures({"calls": body["calls"], "interval": answer}) == expected
    (target,) = answer["targets"]
    # Unmeasurable and abandoned calls are outside the target: the denominator is every call.
    assert (target["within"], target["of"]) == (expected["within"], expected["offered"])
    assert answer["unmeasured"] == expected["offered"] - expected["count"]
    # Whole seconds: every percentile is a whole number of seconds.
    assert all(float(v).is_integer() for v in (answer["median_s"], answer["p90_s"]))


def test_the_day_a_call_belongs_to_is_the_centre_day_it_rang(world, calls):
    """A call rung half a millisecond before local midnight is the earlier day's, one at midnight
    the later day's, in the rollups as in the rows."""
    for d in range(2, 7):
        midnight = local_midnight((MARCH + d * DAY).date())
        f = ReportFilter(midnight, midnight + DAY)
        assert figures(answering(f)) == by_hand(calls, f)
        assert rollups.served_days(f, measure=rollups.CALL_ANSWER) == [(MARCH + d * DAY).date()]


def test_the_figures_are_read_from_the_rollups(world, calls):
    """Doubling every stored count doubles the served answer: the closed days are not recounted."""
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    before = answering(f)
    double_every_stored_count()
    after = answering(f)
    assert after["calls"]["offered"] == 2 * before["calls"]["offered"]
    assert after["interval"]["count"] == 2 * before["interval"]["count"]
    assert after["interval"]["mean_s"] == before["interval"]["mean_s"]
    assert answering(f, raw=True) == before


def test_the_summary_takes_its_answer_row_from_the_same_counts(world, calls):
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    rolled, counted = summary(f), summary(f, raw=True)
    assert rolled["calls"] == counted["calls"]
    assert [r for r in rolled["intervals"] if r["key"] == "answer"] == [
        r for r in counted["intervals"] if r["key"] == "answer"
    ]
    double_every_stored_count()  # the summary's own answer row is read from the rollups
    assert summary(f)["calls"]["offered"] == 2 * summary(f, raw=True)["calls"]["offered"] == 190


def test_a_range_reaching_today_counts_the_open_days_from_the_calls(world, calls):
    f = ReportFilter(timezone.now() - 300 * DAY, timezone.now() + DAY)
    assert answering(f) == answering(f, raw=True)
    assert figures(answering(f)) == by_hand(calls, f)


def test_the_worker_fills_the_answer_rollups_of_closed_days(world):
    made = make_calls()
    rollups.catch_up()
    f = ReportFilter(MARCH, MARCH + 31 * DAY)
    assert rollups.served_days(f, measure=rollups.CALL_ANSWER)
    assert figures(answering(f)) == by_hand(made, f)
