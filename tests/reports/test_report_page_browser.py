"""The report page in a real browser: it opens with every interval, a changed filter narrows
it, and a chart's figure drills down to its incidents and one of them to its timeline."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point

from dispatch.reports import INTERVALS
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.report_world import MARCH, Job, make, steady

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/reports/?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def month(world):
    """Six critical and four emergency jobs over March, two of them slow to reach."""
    incidents = []
    for n in range(10):
        travel = 1500.0 if n in (2, 7) else 300.0 + 20 * n
        job = Job(
            MARCH + timedelta(days=n, hours=n),
            steady(travel=travel),
            priority=1 if n < 6 else 2,
            unit=world.als1 if n % 2 else world.als2,
            hospital=world.city,
            point=Point(119.55 + 0.01 * n, 24.88 + 0.005 * n, srid=4326),
        )
        incidents.append(make(world, job))
    return incidents


def open_report(browser, live_url, user, path=URL):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_url}{path}")
    page.wait_for_selector("#reports[data-ready='1']")
    return page


def test_filter_then_drill_down_to_a_timeline(browser, live_url, world, month):  # noqa: F811
    page = open_report(browser, live_url, world.bob)
    assert page.locator("#summary tbody tr").count() == len(INTERVALS)
    assert page.inner_text("#stat-incidents") == "10"
    assert page.locator("#chart-distribution svg rect.bar").count() > 0
    # Response by priority: one 27-minute critical job puts priority I over both its targets
    # (mean 7 min, 90th percentile 15 min); priority II's slow one stays within 18 and 40 min.
    assert page.locator("#priorities tr[data-priority='1'] .badge.missed").count() == 2
    assert page.locator("#priorities tr[data-priority='2'] .badge.met").count() == 2

    page.select_option("select[name=priority]", "1")
    page.click("#report-filter button[type=submit]")
    page.wait_for_url("**priority=1**")
    page.wait_for_selector("#reports[data-ready='1']")
    assert page.inner_text("#stat-incidents") == "6"

    # The response compliance badge: the critical incidents beyond the 15-minute target.
    page.click("#summary tr[data-key='response'] button[data-over]")
    page.wait_for_selector("#drill:not([hidden]) #drill-table tbody tr")
    slow = {month[2].number}
    assert {
        page.inner_text(f"#drill-table tbody tr:nth-child({n + 1}) td:first-child") for n in range(len(slow))
    } == slow

    page.click(f"#drill-table tbody tr:has-text('{month[2].number}')")
    page.wait_for_selector("#timeline:not([hidden]) .clocks li")
    timeline = page.inner_text("#timeline")
    assert month[2].number in timeline
    assert "派车" in timeline and "assignment.created" not in timeline and "alice" in timeline
    page.context.close()


def test_a_day_on_the_trend_chart_lists_that_days_incidents(browser, live_url, world, month):  # noqa: F811
    page = open_report(browser, live_url, world.erin)
    page.click("#chart-days circle.dot[data-bucket='2026-03-04']")
    page.wait_for_selector("#drill:not([hidden]) #drill-table tbody tr")
    assert page.locator("#drill-table tbody tr").count() == 1
    assert page.inner_text("#drill-table tbody tr td:first-child") == month[3].number
    page.context.close()


def test_a_priority_row_lists_its_incidents(browser, live_url, world, month):  # noqa: F811
    page = open_report(browser, live_url, world.erin)
    page.click("#priorities tr[data-priority='2']")
    page.wait_for_selector("#drill:not([hidden]) #drill-table tbody tr")
    assert page.locator("#drill-table tbody tr").count() == 4
    page.context.close()


def test_a_hospital_row_lists_its_handovers(browser, live_url, world, month):  # noqa: F811
    page = open_report(browser, live_url, world.bob)
    page.click(f"#hospitals tr:has-text('{world.city.name}')")
    page.wait_for_selector("#drill:not([hidden]) #drill-table tbody tr")
    assert page.locator("#drill-table tbody tr").count() == len(month)
    assert world.city.name in page.inner_text("#drill-title")
    page.context.close()
