"""Incidents with missing or impossible clocks are listed as data problems, with what is wrong,
left out of the means and percentiles of the intervals they would distort (but not out of the
others), and counted as unmeasured there."""

from datetime import timedelta

import pytest

from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


@pytest.fixture
def problems(world):
    good = make(world, Job(MARCH, steady()))
    no_scene = steady()
    no_scene["on_scene_at"] = None  # transport pressed, on scene never
    missing = make(world, Job(MARCH + timedelta(hours=1), no_scene))
    backwards = steady()
    backwards["en_route_at"] = backwards["dispatched_at"] - 30
    reversed_ = make(world, Job(MARCH + timedelta(hours=2), backwards))
    no_answer = steady()
    no_answer["call_answered_at"] = None
    unanswered = make(world, Job(MARCH + timedelta(hours=3), no_answer))
    cancelled = make(world, Job(MARCH + timedelta(hours=4), {"call_answered_at": 4.0}))
    return good, missing, reversed_, unanswered, cancelled


def test_the_quality_list_names_each_problem(world, problems):
    good, missing, reversed_, unanswered, cancelled = problems
    body = signed_in(world.bob).get(f"/api/reports/incidents?{MONTH_QUERY}&problems=true").json()
    listed = {row["number"]: {p["code"] for p in row["problems"]} for row in body["rows"]}
    assert body["total"] == 3
    assert listed == {
        missing.number: {"missing_on_scene"},
        reversed_.number: {"impossible_turnout"},
        unanswered.number: {"missing_call_answered"},
    }
    assert all(p["text"] for row in body["rows"] for p in row["problems"])


def test_problems_are_counted_but_not_averaged_in(world, problems):
    body = signed_in(world.bob).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    assert body["incidents"] == 5 and body["with_problems"] == 3
    rows = {row["key"]: row for row in body["intervals"]}
    # Turnout: the good, the missing-on-scene and the unanswered jobs; the reversed one is out.
    assert rows["turnout"]["count"] == 3 and rows["turnout"]["impossible"] == 1
    assert rows["turnout"]["median_s"] == 60.0 and rows["turnout"]["mean_s"] == 60.0
    # Travel and response need on scene: the missing one is not measured, and counts outside.
    assert rows["travel"]["count"] == 3 and rows["travel"]["unmeasured"] == 1
    assert rows["turnout"]["unmeasured"] == 1  # the reversed one
    # Answering is measured from the calls (none rang here), never from the incidents' clocks.
    assert rows["answer"]["count"] == 0 and rows["answer"]["median_s"] is None


def test_the_timeline_repeats_the_problem(world, problems):
    reversed_ = problems[2]
    body = signed_in(world.erin).get(f"/api/reports/incidents/{reversed_.pk}/timeline").json()
    assert [p["code"] for p in body["problems"]] == ["impossible_turnout"]
