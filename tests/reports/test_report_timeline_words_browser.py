"""The report's timeline in a real browser speaks as the console does: each event by its label
from the server's catalogue (static/js/shared.js eventLabel), statuses and clocks by name, an
ETA as m:ss and the recommendation's rank in words; never a raw kind ("incident.created"), key
("eta_s") or unrounded number ("307.658"). In Chinese and in English. And a backwards period
gives a 400 page in the user's language with the form kept to correct it."""

import pytest

from dispatch.incidents.actions import dispatch_unit
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.report_world import MARCH, Job, make, steady

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/reports/?start=2026-03-01&end=2026-03-31"
WORDS = {
    # language: (the unit dispatched, a unit's status, en route, its ETA, the rank)
    "zh-hans": ("派车", "车辆状态", "出车途中", "预计到达 5:08", "推荐第 2 位"),
    "en": ("unit dispatched", "unit status", "En route", "ETA 5:08", "recommendation no. 2"),
}


@pytest.fixture
def job(world):
    incident = make(world, Job(MARCH, steady(), unit=world.als1, hospital=world.city))
    # A second unit sent as the second pick, its ETA with the router's fractions of a second.
    dispatch_unit(
        incident, world.als2, actor=world.alice, recommended_rank=2, eta_s=307.658, override_reason="就近"
    )
    return incident


def page_in(browser, live_url, user, language: str):  # noqa: F811
    """A page for `user` in `language`: Django's language cookie, which the browser's own
    Accept-Language (its locale) does not override."""
    page = signed_in_page(browser, live_url, user, viewport={"width": 1400, "height": 1000})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    return page


@pytest.mark.parametrize("language", WORDS)
def test_the_timeline_says_events_in_words(browser, live_url, world, job, language):  # noqa: F811
    page = page_in(browser, live_url, world.bob, language)
    page.goto(f"{live_url}{URL}")
    page.wait_for_selector("#reports[data-ready='1']")
    page.click("#summary tr[data-key='response'] .drill-count")
    page.click(f"#drill-table tbody tr:has-text('{job.number}')")
    page.wait_for_selector("#timeline:not([hidden]) .events tr")
    timeline = page.inner_text("#timeline")
    dispatched, status, en_route, eta, rank = WORDS[language]
    assert dispatched in timeline and status in timeline and en_route in timeline
    assert eta in timeline and rank in timeline
    raw = ("incident.created", "assignment.created", "unit.status", "eta_s", "307.658", "rank:", "en_route")
    assert not [text for text in raw if text in timeline]
    page.context.close()


@pytest.mark.parametrize(
    "language, message, apply",
    [
        ("zh-hans", "时段的结束日期不能早于开始日期", "应用"),
        ("en", "The period must end on or after its first day", "Apply"),
    ],
)
def test_a_backwards_period_is_a_page_to_correct(browser, live_url, world, language, message, apply):  # noqa: F811
    page = page_in(browser, live_url, world.bob, language)
    response = page.goto(f"{live_url}/reports/?start=2026-03-10&end=2026-03-01")
    assert response is not None and response.status == 400
    assert message in page.inner_text("#bad-filter")
    assert page.input_value("#bad-filter-form input[name=start]") == "2026-03-10"
    assert page.input_value("#bad-filter-form input[name=end]") == "2026-03-01"
    # Corrected in place, the report opens.
    page.fill("#bad-filter-form input[name=end]", "2026-03-31")
    page.click(f"#bad-filter-form button:has-text('{apply}')")
    page.wait_for_selector("#reports[data-ready='1']")
    assert "start=2026-03-10" in page.url and "end=2026-03-31" in page.url
    page.context.close()
