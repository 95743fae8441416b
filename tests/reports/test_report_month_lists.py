"""The printed month says what it leaves out: with more units than it lists it says "the 30
busiest of N" and links to all of them (it listed 30 silently); it gives the calls (offered,
abandoned, waits) and the dispatchers' figures as the API does."""

import pytest

from dispatch.registry.actions import create_unit
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


@pytest.fixture
def fleet(world):
    for n in range(31):
        create_unit(f"T-X-{n:02d}", "bls", home_station=world.north)
    make(world, Job(MARCH, steady(), unit=world.als1))


def test_the_month_says_how_many_units_it_leaves_out(world, fleet):
    client = signed_in(world.bob)
    response = client.get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert len(response.context["units"]) == 30 and response.context["units_total"] == 35
    assert "The 30 busiest of 35 units." in html
    assert response.context["units"][0]["unit"] == "T-ALS-1"  # the one with a job first
    link = response.context["units_all_link"]
    assert "units=all" in link and "month=2026-03" in link
    everything = client.get(link, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert len(everything.context["units"]) == 35
    assert "最忙的" not in everything.content.decode()


def test_a_small_fleet_is_listed_whole_without_a_note(world):
    response = signed_in(world.bob).get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    assert len(response.context["units"]) == 4 and response.context["units_all_link"] == ""
    assert "busiest of" not in response.content.decode()


def test_the_month_gives_the_calls_and_the_dispatchers(world, fleet):
    client = signed_in(world.bob)
    response = client.get(f"/reports/month/?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    api = client.get(f"/api/reports/summary?{MONTH_QUERY}").json()
    assert response.context["calls"]["offered"] == api["calls"]["offered"] == 0
    assert 'id="month-calls"' in html and "挂断前等待：中位数" in html
    people = client.get(f"/api/reports/people?{MONTH_QUERY}").json()
    assert [p["name"] for p in response.context["people"]["dispatchers"]] == [
        p["name"] for p in people["dispatchers"]
    ]
    assert 'id="month-dispatchers"' in html
