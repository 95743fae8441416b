"""Days and months beyond the years reports cover (2000 to 2100) are refused plainly: a 422 with
a JSON error from every report endpoint, a 400 page naming the filter on the pages. Python's
dates end at 9999-12-31 and 0001-01-01 falls in year 0 in UTC, so these were 500s."""

import pytest

from tests.support.report_world import signed_in

ENDPOINTS = [
    "summary",
    "trend?interval=response&bucket=day",
    "distribution?interval=response",
    "areas?interval=response",
    "units",
    "hospitals",
    "priorities",
    "incidents",
    "export.csv",
    "export.xlsx",
]
# The query, and the filter the page blames (as it names it in English).
OUT_OF_RANGE = [
    ("end=9999-12-31", "end", "last day"),
    ("end=0001-01-01", "end", "last day"),
    ("start=0001-01-01", "start", "first day"),
    ("month=9999-12", "month", "month"),
    ("month=0000-01", "month", "month"),
]


def with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@pytest.mark.parametrize("query, param, label", OUT_OF_RANGE)
def test_every_endpoint_answers_422_with_the_supported_years(world, query, param, label):
    client = signed_in(world.bob)
    for endpoint in ENDPOINTS:
        response = client.get(with_query(f"/api/reports/{endpoint}", query))
        assert response.status_code == 422, (endpoint, response.status_code)
        body = response.json()
        assert body["code"] == "date_out_of_range", endpoint
        assert body["error"].startswith(f"{param} must be in the years 2000 to 2100, not "), body["error"]


@pytest.mark.parametrize("page", ["/reports/", "/reports/month/"])
@pytest.mark.parametrize("query, param, label", OUT_OF_RANGE)
def test_the_pages_answer_400_naming_the_filter_and_the_years(world, page, query, param, label):
    response = signed_in(world.bob).get(with_query(page, query), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 400
    assert f'The filter "{label}" is wrong.' in html
    assert f'<code id="bad-value">{query.partition("=")[2]}</code>' in html
    assert "in the years 2000 to 2100" in html


@pytest.mark.parametrize(
    "query",
    ["start=2000-01-01&end=2000-01-31", "month=2100-12", "end=2000-01-05", "start=2100-12-01&end=2100-12-31"],
)
def test_the_first_and_last_supported_days_still_report(world, query):
    client = signed_in(world.bob)
    assert client.get(f"/api/reports/summary?{query}").status_code == 200
    assert client.get(f"/reports/?{query}").status_code == 200


def test_an_id_too_long_for_the_database_is_a_422_not_a_500(world):
    response = signed_in(world.bob).get("/api/reports/summary?month=2026-03&unit=99999999999999999999")
    assert response.status_code == 422
    assert response.json()["code"] == "bad_id"
