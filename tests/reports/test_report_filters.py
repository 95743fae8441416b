"""Each filter narrows the report to the incidents it names (priority, hour of day, unit,
station, district, hospital), and bad parameters get a 400 with a clear message."""

from datetime import timedelta

import pytest

from dispatch.incidents.actions import cancel_assignment, create_incident, dispatch_unit
from dispatch.registry.actions import create_station, create_unit
from tests.support.crew_tablet import crew_member
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady
from tests.support.roster import on_shift


@pytest.fixture
def month(world):
    north = create_station("N2", "北二站", world.north.location, district="北区")
    south = create_station("S2", "南二站", world.south.location, district="南区")
    create_station("E1", "东站", world.north.location, district="东区")
    world.n_als = create_unit("D-ALS-N", "als", home_station=north)
    world.n_bls = create_unit("D-BLS-N", "bls", home_station=north)
    world.s_als = create_unit("D-ALS-S", "als", home_station=south)
    for unit in (world.n_als, world.n_bls, world.s_als):  # a crew on shift, or it is not sent
        on_shift(crew_member(f"crew-{unit.call_sign.lower()}"), unit)
    world.south2 = south
    at = MARCH + timedelta(hours=9)
    return {
        "p1_north_city": make(world, Job(at, steady(), priority=1, unit=world.n_als, hospital=world.city)),
        "p2_south_county": make(
            world, Job(at + timedelta(hours=5), steady(), priority=2, unit=world.s_als, hospital=world.county)
        ),
        "p1_north_bls": make(
            world, Job(at + timedelta(days=1), steady(), priority=1, unit=world.n_bls, hospital=world.city)
        ),
        "p3_no_unit": make(
            world, Job(at + timedelta(days=2, hours=13), {"call_answered_at": 3.0}, priority=3)
        ),
    }


def listed(client, extra: str) -> set[str]:
    body = client.get(f"/api/reports/incidents?{MONTH_QUERY}&{extra}").json()
    summary = client.get(f"/api/reports/summary?{MONTH_QUERY}&{extra}").json()
    assert summary["incidents"] == body["total"]
    return {row["number"] for row in body["rows"]}


def names(month, *keys) -> set[str]:
    return {month[key].number for key in keys}


def test_each_filter_narrows_to_its_incidents(world, month):
    client = signed_in(world.bob)
    assert listed(client, "") == names(month, *month)
    assert listed(client, "priority=1") == names(month, "p1_north_city", "p1_north_bls")
    assert listed(client, "hour=9") == names(month, "p1_north_city", "p1_north_bls")
    assert listed(client, "hour=22") == names(month, "p3_no_unit")
    assert listed(client, f"unit={world.n_bls.pk}") == names(month, "p1_north_bls")
    assert listed(client, f"station={world.south2.pk}") == names(month, "p2_south_county")
    assert listed(client, "district=北区") == names(month, "p1_north_city", "p1_north_bls")
    assert listed(client, "district=东区") == set()
    assert listed(client, f"hospital={world.city.pk}") == names(month, "p1_north_city", "p1_north_bls")
    assert listed(client, f"hospital={world.city.pk}&unit={world.n_als.pk}") == names(month, "p1_north_city")


def test_a_stood_down_unit_does_not_count_for_its_station(world, month):
    incident = create_incident(actor=world.alice, priority=2)
    assignment = dispatch_unit(incident, world.neg1, actor=world.alice)
    cancel_assignment(assignment, actor=world.alice, reason="另一车更近")
    client = signed_in(world.bob)
    today = incident.created_at.date().isoformat()
    body = client.get(f"/api/reports/incidents?start={today}&end={today}&unit={world.neg1.pk}").json()
    assert body["total"] == 0


@pytest.mark.parametrize(
    "query, message",
    [
        ("start=2026-03-10&end=2026-03-01", "must end on or after its first day"),
        ("start=2024-01-01&end=2026-03-01", "at most one year"),
        ("month=2026-13", "YYYY-MM"),
        ("priority=7", "priority"),
        ("hour=24", "hour"),
        ("start=yesterday", "start"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(world, query, message):
    response = signed_in(world.bob).get(f"/api/reports/summary?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (400, 422)
    assert message.lower() in response.json()["error"].lower()


@pytest.mark.parametrize(
    "path, message",
    [
        ("trend?interval=speed", "Unknown interval"),
        ("trend?interval=response&bucket=week", "bucket"),
        ("incidents?min_s=10", "which interval"),
        ("incidents?lon=119.5", "lon, lat and size"),
        ("incidents?interval=on_scene&over_target=true", "no target"),
    ],
)
def test_bad_drill_downs_are_refused_with_a_message(world, path, message):
    response = signed_in(world.bob).get(f"/api/reports/{path}&{MONTH_QUERY}")
    assert response.status_code in (400, 422)
    assert message.lower() in response.json()["error"].lower()
