"""The report's by-area chart in a real browser: the districts by name over the road map, each
with its incidents and compliance, and the incidents outside every district counted beside it;
without districts it says so. Set REPORT_SCREENSHOTS=<folder> to keep PNGs of the page."""

import os
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point

from dispatch.registry.actions import save_district
from tests.reports.test_areas_by_district import square
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.er_helpers import load_grid
from tests.support.report_world import MARCH, Job, make, steady

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/reports/?start=2026-03-01&end=2026-03-31"


def shoot(page, name: str) -> None:
    folder = os.environ.get("REPORT_SCREENSHOTS")
    if folder:
        page.locator("#chart-areas").scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(folder, name))


@pytest.fixture
def month(world, fresh_router):
    load_grid()  # the road map under the districts
    save_district("A1", name="西城区", name_en="West", polygon=square(119.56, 24.85, 119.59, 24.95))
    save_district("B2", name="东港区", name_en="East", polygon=square(119.59, 24.85, 119.62, 24.95))
    spots = [(119.57, 24.90, 300), (119.575, 24.88, 500), (119.58, 24.93, 1500), (119.60, 24.90, 400)]
    spots += [(119.63, 24.90, 700)]  # outside both, a kilometre east of the grid
    for n, (lon, lat, travel) in enumerate(spots):
        make(
            world, Job(MARCH + timedelta(days=n + 1), steady(travel=travel), point=Point(lon, lat, srid=4326))
        )


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_districts_are_drawn_by_name_with_their_figures(browser, live_url, world, month, size):  # noqa: F811
    page = signed_in_page(browser, live_url, world.bob, viewport={"width": size[0], "height": size[1]})
    page.goto(f"{live_url}{URL}")
    page.wait_for_selector("#reports[data-ready='1']")
    chart = page.locator("#chart-areas svg")
    assert chart.locator("text.district-name").all_text_contents() == ["西城区", "东港区"]
    assert chart.locator("text.district-figures[data-code='A1']").text_content().startswith("3 · ")
    assert chart.locator("text.district-figures[data-code='B2']").text_content().startswith("1 · ")
    assert chart.locator("path.road").count() > 0
    assert "1" in chart.locator("text[data-note]").last.text_content()  # outside every district
    shoot(page, f"areas-{size[0]}x{size[1]}.png")


def test_without_districts_the_chart_says_so(browser, live_url, world):  # noqa: F811
    make(world, Job(MARCH + timedelta(days=2), steady(), point=Point(119.57, 24.90, srid=4326)))
    page = signed_in_page(browser, live_url, world.bob, viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_url}{URL}")
    page.wait_for_selector("#reports[data-ready='1']")
    text = page.inner_text("#chart-areas")
    assert "No district boundaries loaded" in text or "未载入行政区边界" in text
    shoot(page, "areas-empty.png")
