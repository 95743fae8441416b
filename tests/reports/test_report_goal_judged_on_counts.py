"""A goal is met when 100 x within >= goal x count, judged on whole numbers wherever a goal is
judged (the API's figures, hospital handovers, the month page, the CSV, priority means): never
on a rounded percentage, which called 17,999 of 20,000 (89.995%) a 90% goal met."""

import csv
import io
import re
from datetime import timedelta

import pytest

from dispatch.reports.figures import target_figures
from dispatch.reports.intervals import Target
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


@pytest.mark.parametrize(
    "within, count, goal, met",
    [
        (17_999, 20_000, 90, False),  # 89.995%: rounds to 90.0
        (18_000, 20_000, 90, True),  # exactly the goal
        (22_499, 25_000, 90, False),  # 89.996%
        (20_000, 20_001, 100, False),  # one miss in 20,001: rounds to 100.0
        (20_001, 20_001, 100, True),
        (923, 1000, 92.3, True),  # the goal as written, not the float just below 92.3
        (922, 1000, 92.3, False),
        (0, 0, 90, False),  # nothing measured meets nothing
    ],
)
def test_a_target_is_met_on_whole_numbers(within, count, goal, met):
    assert target_figures(Target(900, float(goal)), within, count)["met"] is met


@pytest.fixture
def three(world, settings):
    """Three jobs to the city hospital: two reach the scene in 405 s and hand over in 900 s, the
    third takes 2,105 s and 1,000 s. Two of three is 66.666...%, which rounds to 66.67."""
    settings.REPORT_TARGETS_OVERRIDE = "response=900:66.67,1800:66.66; handover=900:66.67"
    jobs = [(300.0, 900.0), (300.0, 900.0), (2000.0, 1000.0)]
    return [
        make(
            world,
            Job(
                MARCH + timedelta(hours=n), steady(travel=t, handover=h), unit=world.als1, hospital=world.city
            ),
        )
        for n, (t, h) in enumerate(jobs)
    ]


def verdicts(targets: list[dict]) -> list[tuple]:
    return [(t["within_s"], t["within"], t["pct"], t["met"]) for t in targets]


def test_the_api_judges_two_of_three_against_66_67_as_missed(world, three):
    client = signed_in(world.bob)
    summary = client.get(f"/api/reports/summary?{MONTH_QUERY}").json()
    response = next(row for row in summary["intervals"] if row["key"] == "response")
    assert response["count"] == 3
    assert verdicts(response["targets"]) == [(900, 2, 66.67, False), (1800, 2, 66.67, True)]
    (city,) = client.get(f"/api/reports/hospitals?{MONTH_QUERY}").json()
    assert verdicts(city["targets"]) == [(900, 2, 66.67, False)]


def badges(html: str, table_id: str, row_label: str) -> list[tuple[str, str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    row = next(tr for tr in re.findall(r"<tr>.*?</tr>", table, re.S) if f">{row_label}<" in tr)
    return re.findall(r'<span class="badge (\w+)">([^<]*)</span>', row)


def test_the_month_page_shows_the_miss_without_rounding_it_up(world, three):
    html = (
        signed_in(world.bob).get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert badges(html, "month-summary", "Response") == [
        ("missed", "66.6% ≤ 15 min (goal 66.67%)"),
        ("met", "66.6% ≤ 30 min (goal 66.66%)"),
    ]


def test_the_csv_says_the_goal_was_missed(world, three):
    response = signed_in(world.bob).get(
        f"/api/reports/export.csv?{MONTH_QUERY}&table=summary", HTTP_ACCEPT_LANGUAGE="en"
    )
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    found = [(r["target (s)"], r["goal (%)"], r["goal met"]) for r in rows if r["interval"] == "response"]
    assert found == [("900", "66.67", "False"), ("1800", "66.66", "True")]


def test_a_priority_mean_half_a_millisecond_over_its_target_is_missed(world):
    """Priority I's mean target is 7 min (420 s): responses of 420.000 s and 420.001 s average
    420.0005 s, which rounded to the millisecond read 420.000, within the target."""
    for n, travel in enumerate((315.0, 315.001)):  # 105 s before the travel
        make(world, Job(MARCH + timedelta(hours=n), steady(travel=travel), priority=1, unit=world.als1))
    client = signed_in(world.bob)
    one = next(p for p in client.get(f"/api/reports/priorities?{MONTH_QUERY}").json() if p["priority"] == 1)
    assert (one["count"], one["target_mean_s"], one["mean_met"], one["p90_met"]) == (2, 420, False, True)
    html = client.get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ("missed", "mean ≤ 7 min") in badges(html, "month-priorities", "I Critical (危重)")
