"""A bad filter on a report page gets a 400 page in the user's language that names the filter,
shows the value given escaped (it was echoed raw as text/html: reflected XSS), says what the
filter should look like and links back to the unfiltered report."""

import pytest

from tests.support.report_world import signed_in

PAYLOAD = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
PAGES = {"/reports/": "/reports/", "/reports/month/": "/reports/month/"}
# Each filter the pages read, with its name on the error page in English and Chinese.
FILTERS = {
    "start": ("first day", "开始日期"),
    "end": ("last day", "结束日期"),
    "month": ("month", "月份"),
    "priority": ("Priority", "分级"),
    "unit": ("Unit", "车辆"),
    "station": ("Station", "急救站"),
    "hospital": ("Hospital", "医院"),
    "hour": ("Hour of day", "时段（小时）"),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("param", FILTERS)
def test_the_value_is_escaped_on_a_400_page_that_names_the_filter(world, page, param):
    response = signed_in(world.bob).get(page, {param: PAYLOAD}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert PAYLOAD not in html
    assert f'<code id="bad-value">{ESCAPED}</code>' in html
    assert f'The filter "{FILTERS[param][0]}" is wrong.' in html
    assert f'href="{PAGES[page]}"' in html and "Open the report without filters" in html
    assert 'class="topbar"' in html  # the site's own page (base.html), styled like the others


@pytest.mark.parametrize(
    "param, looks_like",
    [
        ("start", "a day written YYYY-MM-DD"),
        ("end", "in the years 2000 to 2100"),
        ("month", "a month written YYYY-MM"),
        ("priority", "a priority from 1 to 4"),
        ("hour", "an hour of the day from 0 to 23"),
        ("unit", "one of the choices in the list"),
    ],
)
def test_the_page_says_what_the_filter_should_look_like(world, param, looks_like):
    response = signed_in(world.bob).get("/reports/", {param: "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert looks_like in response.content.decode()


def test_the_page_speaks_chinese_to_a_chinese_browser(world):
    response = signed_in(world.bob).get("/reports/", {"start": PAYLOAD}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert response.status_code == 400
    assert '<html lang="zh-hans">' in html
    assert "无法显示此报表" in html and "筛选条件“开始日期”有误。" in html
    assert "应为" in html and "YYYY-MM-DD" in html and "2000 至 2100 年" in html
    assert "查看不带筛选条件的报表" in html
    assert PAYLOAD not in html and ESCAPED in html


@pytest.mark.parametrize(
    "value, label", [("8", "Priority"), ("24", "Hour of day"), ("9999999999999999999", "Unit")]
)
def test_a_number_out_of_range_names_its_filter(world, value, label):
    param = {"Priority": "priority", "Hour of day": "hour", "Unit": "unit"}[label]
    response = signed_in(world.bob).get("/reports/", {param: value}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 400
    assert f'The filter "{label}" is wrong.' in html and f'<code id="bad-value">{value}</code>' in html


def test_a_backwards_period_says_so_escaped(world):
    response = signed_in(world.bob).get(
        "/reports/", {"start": "2026-03-10", "end": "2026-03-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "The period must end on or after its first day, not run from 2026-03-10 to 2026-03-01." in (
        response.content.decode()
    )


def test_a_period_over_a_year_with_one_day_given_says_so(world):
    response = signed_in(world.bob).get("/reports/", {"start": "2024-01-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert '<p class="error" role="alert">A report covers at most one year.</p>' in response.content.decode()


@pytest.mark.parametrize(
    "language, words",
    [
        ("en", ("The period must end on or after its first day", "Apply", "From")),
        ("zh-hans", ("时段的结束日期不能早于开始日期", "应用", "起")),
    ],
)
def test_a_backwards_period_keeps_the_form_to_correct_it(world, language, words):
    """The dates given stay in the form, and the other filters with them, in the user's language."""
    backwards = {"start": "2026-03-10", "end": "2026-03-01", "priority": "1"}
    response = signed_in(world.bob).get("/reports/", backwards, HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<html lang="{language}">' in html
    assert all(word in html for word in words)
    assert 'id="bad-filter-form"' in html and 'action="/reports/"' in html
    assert 'name="start" value="2026-03-10"' in html and 'name="end" value="2026-03-01"' in html
    assert '<input type="hidden" name="priority" value="1">' in html


def test_a_bad_filter_keeps_the_others_but_not_itself(world):
    response = signed_in(world.bob).get(
        "/reports/", {"start": "2026-03-01", "end": "2026-03-31", "hour": PAYLOAD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'name="start" value="2026-03-01"' in html and 'name="hour"' not in html


def test_the_month_page_keeps_its_month_field(world):
    response = signed_in(world.bob).get("/reports/month/", {"month": "2026-13"}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'action="/reports/month/"' in html and 'name="month" value=""' in html
