"""Every interval's count, mean, median, 90th percentile and compliance equal numpy's on the
same rows, for a hand-made month with ties, missing clocks, out-of-order clocks and values a
fraction of a millisecond either side of a target."""

import math
from datetime import timedelta

import numpy as np
import pytest

from dispatch.reports import INTERVALS, targets
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

DAY_S = 86400


def hand_made_jobs(world) -> list[Job]:
    hour = timedelta(hours=1)
    jobs = []
    # Ties: six identical jobs, and three more sharing their response time.
    for n in range(6):
        jobs.append(Job(MARCH + n * hour, steady()))
    for n in range(3):
        jobs.append(Job(MARCH + (6 + n) * hour, steady(processing=30.0, turnout=70.0)))
    # A spread, with microseconds, some over target.
    for n, (answer, travel) in enumerate([(2.5, 300.123456), (8.75, 512.5), (14.0, 610.0), (3.2, 1200.0)]):
        jobs.append(Job(MARCH + (10 + n) * hour, steady(answer=answer, travel=travel)))
    # Either side of the 10 s answer target by less than a millisecond, and exactly on it.
    for n, answer in enumerate([10.0, 10.0004, 9.9996]):
        jobs.append(Job(MARCH + (20 + n) * hour, steady(answer=answer)))
    # Cancelled before dispatch: only the call clocks. Not a problem, just nothing to measure.
    jobs.append(Job(MARCH + 30 * hour, {"call_answered_at": 6.0}))
    # Missing: on scene never pressed although the transport was.
    missing = steady()
    missing["on_scene_at"] = None
    jobs.append(Job(MARCH + 31 * hour, missing))
    # Out of order: rolling before the dispatch order.
    backwards = steady()
    backwards["en_route_at"] = backwards["dispatched_at"] - 20
    jobs.append(Job(MARCH + 32 * hour, backwards))
    # Impossible: a handover two days long.
    endless = steady(handover=2 * DAY_S)
    jobs.append(Job(MARCH + 33 * hour, endless))
    # Outside the month: must not count.
    jobs.append(Job(MARCH - hour * 3, steady(answer=99.0)))
    return jobs


@pytest.fixture
def month(world):
    jobs = hand_made_jobs(world)
    for job in jobs:
        make(world, job)
    return [job for job in jobs if job.received >= MARCH]


def measured(jobs: list[Job], start: str, end: str) -> tuple[list[float], int]:
    """numpy's input: exact seconds where both clocks exist and the interval is possible."""
    values, impossible = [], 0
    for job in jobs:
        a, b = job.at(start), job.at(end)
        if a is None or b is None:
            continue
        seconds = (b - a) / timedelta(microseconds=1) / 1e6
        if 0 <= seconds <= DAY_S:
            values.append(seconds)
        else:
            impossible += 1
    return values, impossible


# The clocks in job order: one missing while a later one is set is a data problem, and the
# unit's being available again proves the clocks up to on scene.
ORDER = (
    "call_received_at",
    "call_answered_at",
    "dispatched_at",
    "en_route_at",
    "on_scene_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
)


def missing(job: Job, clock: str) -> bool:
    if clock not in ORDER[:-1] or job.at(clock) is not None:
        return False
    later = list(ORDER[ORDER.index(clock) + 1 :])
    if ORDER.index(clock) <= ORDER.index("on_scene_at"):
        later.append("unit_available_at")
    return any(job.at(c) is not None for c in later)


def unmeasured(jobs: list[Job], start: str, end: str) -> int:
    """Incidents that should have the interval but cannot be measured: impossible clocks, its
    start or end missing while a later clock is set, or a handover never completed although
    the unit was available again. Recomputed from the raw clocks, not from the report."""
    count = 0
    for job in jobs:
        a, b = job.at(start), job.at(end)
        impossible = a is not None and b is not None and not 0 <= (b - a).total_seconds() <= DAY_S
        unfinished = (
            end == "handover_at" and a is not None and b is None and job.at("unit_available_at") is not None
        )
        count += impossible or missing(job, start) or missing(job, end) or unfinished
    return count


def up_to_ms(seconds: float) -> float:
    """What the report shows: the value rounded up to the millisecond."""
    microseconds = round(seconds * 1e6)
    return -(-microseconds // 1000) / 1000


def test_figures_match_numpy_on_the_same_rows(world, month):
    body = signed_in(world.bob).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    assert body["incidents"] == len(month)
    by_key = {row["key"]: row for row in body["intervals"]}
    goals = targets()
    # Answering is measured from the calls: test_report_answering_from_calls.py.
    for interval in (iv for iv in INTERVALS if iv.key != "answer"):
        values, impossible = measured(month, interval.start, interval.end)
        outside = unmeasured(month, interval.start, interval.end)
        row = by_key[interval.key]
        assert row["count"] == len(values), interval.key
        assert row["impossible"] == impossible, interval.key
        assert row["unmeasured"] == outside, interval.key
        median, p90 = np.percentile(values, [50, 90], method="inverted_cdf")
        assert row["median_s"] == up_to_ms(median), interval.key
        assert row["p90_s"] == up_to_ms(p90), interval.key
        assert math.isclose(row["mean_s"], float(np.mean(values)), abs_tol=0.001), interval.key
        # Every incident that should have the interval is in the denominator: the unmeasured
        # ones are outside every target.
        every = len(values) + outside
        for target, goal in zip(row["targets"], goals.get(interval.key, ()), strict=True):
            within = int(np.sum(np.array(values) <= goal.within_s))
            assert target["within"] == within, interval.key
            assert target["of"] == every, interval.key
            assert target["pct"] == round(100 * within / every, 2)
            assert target["met"] == (100 * within / every >= goal.goal_pct)


def test_the_month_has_unmeasured_incidents_to_count(world, month):
    """The hand-made month exercises the rule: travel, response, turnout and handover each
    have an incident that cannot be measured."""
    body = signed_in(world.erin).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    by_key = {row["key"]: row["unmeasured"] for row in body["intervals"]}
    assert by_key["travel"] == by_key["response"] == 1  # on scene missing
    assert by_key["turnout"] == 1 and by_key["handover"] == 1  # rolling before dispatch; two days long


def test_the_percentile_is_an_observed_value_not_an_interpolation(world, month):
    """Nearest rank: the reported 90th percentile is one incident's own response time."""
    body = signed_in(world.bob).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    response = next(row for row in body["intervals"] if row["key"] == "response")
    values, _ = measured(month, "call_received_at", "on_scene_at")
    assert response["p90_s"] in {up_to_ms(v) for v in values}
    linear = np.percentile(values, 90)  # numpy's default interpolates between neighbours
    assert up_to_ms(linear) != response["p90_s"]
