"""Compliance is over every incident that should have the interval: one whose interval cannot
be measured (a clock missing, out of order or over a day, a handover never completed) counts
OUTSIDE the target in "X% within Y", and how many there are is given beside it; an interval
still running (a handover going on) is not counted yet. Clocks on either side of the 60 s
processing target by a millisecond; every figure recomputed by hand."""

from datetime import timedelta

import pytest

from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

DAY_S = 86400


@pytest.fixture
def month(world):
    hour = timedelta(hours=1)
    on_time = make(world, Job(MARCH, steady(processing=60.0)))  # exactly on the target: within
    make(world, Job(MARCH + hour, steady(processing=60.001)))  # a millisecond over: outside
    make(world, Job(MARCH + 2 * hour, steady(processing=59.999)))
    no_answer = steady()
    no_answer["call_answered_at"] = None  # answered clock missing although the unit was sent
    make(world, Job(MARCH + 3 * hour, no_answer))
    make(world, Job(MARCH + 4 * hour, steady(processing=2 * DAY_S)))  # over a day: impossible
    never = steady()
    never["handover_at"] = None  # the unit cleared at the hospital with no handover recorded
    unfinished = make(world, Job(MARCH + 5 * hour, never, unit=world.als1, hospital=world.city))
    going_on = steady()
    going_on["handover_at"] = going_on["unit_available_at"] = None  # still at the hospital
    make(world, Job(MARCH + 6 * hour, going_on, unit=world.als2, hospital=world.city))
    return on_time, unfinished


def rows(world) -> dict:
    body = signed_in(world.bob).get(f"/api/reports/summary?{MONTH_QUERY}").json()
    return {row["key"]: row for row in body["intervals"]}


def test_unmeasurable_incidents_count_outside_the_target(world, month):
    processing = rows(world)["processing"]
    # Measured: 60.0, 60.001, 59.999 and the two hospital jobs' 40 s; unmeasured: the missing
    # answer and the two-day one.
    assert processing["count"] == 5 and processing["unmeasured"] == 2
    (target,) = processing["targets"]
    assert target["within"] == 4 and target["of"] == 7
    assert target["pct"] == round(100 * 4 / 7, 2) == 57.14  # it read 80% (4 of 5)
    assert target["met"] is False


def test_a_handover_never_completed_is_outside_and_one_going_on_is_not_counted(world, month):
    handover = rows(world)["handover"]
    # Five handovers of 900 s; the unfinished one outside; the one going on not yet counted.
    assert handover["count"] == 5 and handover["unmeasured"] == 1
    within_15, within_30, within_60 = handover["targets"]
    assert [t["within"] for t in handover["targets"]] == [5, 5, 5]
    assert all(t["of"] == 6 for t in handover["targets"])
    assert within_30["pct"] == round(100 * 5 / 6, 2) and within_30["met"] is False  # 95% goal
    assert within_15["met"] is True  # 65% goal: 5 of 6
    assert within_60["met"] is False  # 100% goal: it read "met" when the unfinished one was left out


def test_the_hospital_table_counts_the_unfinished_handover(world, month):
    hospitals = signed_in(world.bob).get(f"/api/reports/hospitals?{MONTH_QUERY}").json()
    city = next(h for h in hospitals if h["hospital"] == world.city.pk)
    assert city["count"] == 0 and city["unmeasured"] == 1
    assert [t["within"] for t in city["targets"]] == [0, 0, 0]
    assert all(t["of"] == 1 and t["met"] is False for t in city["targets"])


def test_the_day_trend_uses_the_same_denominator(world, month):
    days = signed_in(world.bob).get(f"/api/reports/trend?{MONTH_QUERY}&interval=processing").json()
    first = next(d for d in days if d["bucket"] == "2026-03-01")
    assert first["count"] == 5 and first["pct"] == round(100 * 4 / 7, 2)


def test_the_unfinished_handover_is_on_the_data_quality_list(world, month):
    _on_time, unfinished = month
    path = f"/api/reports/incidents?{MONTH_QUERY}&problems=true"
    body = signed_in(world.bob).get(path, HTTP_ACCEPT_LANGUAGE="en").json()
    listed = {row["number"]: {p["code"] for p in row["problems"]} for row in body["rows"]}
    assert listed[unfinished.number] == {"unfinished_handover"}
    (problem,) = next(r for r in body["rows"] if r["number"] == unfinished.number)["problems"]
    assert "handover never completed" in problem["text"]


def test_the_csv_summary_gives_the_unmeasured_count(world, month):
    response = signed_in(world.bob).get(f"/api/reports/export.csv?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    processing = next(line.split(",") for line in lines if line.startswith("processing,"))
    assert processing[header.index("unmeasured (outside target)")] == "2"
