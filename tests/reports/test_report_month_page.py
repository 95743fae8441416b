"""The printable month report: the month's figures as the API gives them, its data problems
listed, and a print stylesheet (no PDF engine needed)."""

from datetime import timedelta

import pytest

from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


@pytest.fixture
def month(world):
    good = [make(world, Job(MARCH + timedelta(days=n), steady(travel=400.0 + 60 * n))) for n in range(5)]
    broken = steady()
    broken["on_scene_at"] = None
    return good, make(world, Job(MARCH + timedelta(days=6), broken))


def test_month_page_shows_the_figures_and_problems(world, month):
    good, broken = month
    client = signed_in(world.bob)
    response = client.get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    summary = response.context["summary"]
    api = client.get(f"/api/reports/summary?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert summary["intervals"] == api["intervals"]
    assert summary["incidents"] == 6 and summary["with_problems"] == 1
    p90 = next(row for row in response.context["intervals"] if row["key"] == "response")["p90_text"]
    # Five measured responses, 505 s to 745 s: the 90th percentile is the fifth (nearest rank).
    assert p90 == "12:25 min"
    assert p90 in html
    assert broken.number in html and "on scene missing although later times are set" in html
    assert "css/reports.css" in html and "js/reports-month.js" in html
    assert len(response.context["days"]) == 31
    # Response by priority, as the API gives it: the six jobs are priority II (18 and 40 min).
    api_priorities = client.get(f"/api/reports/priorities?{MONTH_QUERY}").json()
    two = next(p for p in response.context["priorities"] if p["priority"] == 2)
    assert two["p90_s"] == next(p for p in api_priorities if p["priority"] == 2)["p90_s"] == 745
    assert two["mean_met"] is True and "mean ≤ 18 min" in html and "90th percentile ≤ 40 min" in html


def test_a_bad_month_is_refused(world):
    response = signed_in(world.erin).get("/reports/month/?month=2026-13")
    assert response.status_code == 400
