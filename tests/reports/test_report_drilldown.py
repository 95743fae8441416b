"""Every figure drills down to exactly the incidents behind it: a histogram bin, the incidents
over target, a day and an hour of the trend, a map area; and an incident to its timeline."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point

from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

EAST = Point(119.71, 24.91, srid=4326)
WEST = Point(119.51, 24.91, srid=4326)


@pytest.fixture
def month(world):
    """Response times of 505 s, 605 s, ... 1405 s, one a day at 08:00 + n hours, east and west."""
    return [
        make(
            world,
            Job(
                MARCH + timedelta(days=n, hours=8 + n),
                steady(travel=400.0 + 100 * n),
                unit=world.als1,
                hospital=world.city,
                point=EAST if n % 2 else WEST,
            ),
        )
        for n in range(10)
    ]


def numbers(client, extra: str) -> list[str]:
    body = client.get(f"/api/reports/incidents?{MONTH_QUERY}&{extra}").json()
    assert body["total"] == len(body["rows"])
    return sorted(row["number"] for row in body["rows"])


def expected(month, indexes) -> list[str]:
    return sorted(month[n].number for n in indexes)


def test_histogram_bins_hold_their_incidents(world, month):
    client = signed_in(world.bob)
    dist = client.get(f"/api/reports/distribution?{MONTH_QUERY}&interval=response").json()
    assert sum(b["count"] for b in dist["bins"]) == 10
    for b in dist["bins"]:
        bound = f"&max_s={b['to_s']}" if b["to_s"] is not None else ""
        listed = numbers(client, f"interval=response&min_s={b['from_s']}{bound}")
        assert len(listed) == b["count"]


def test_over_target_lists_the_late_ones(world, month):
    client = signed_in(world.bob)
    summary = client.get(f"/api/reports/summary?{MONTH_QUERY}").json()
    response = next(row for row in summary["intervals"] if row["key"] == "response")
    late = numbers(client, "interval=response&over_target=true")
    # Response = 505 + 100 n s; the target is 900 s: n >= 4 are late.
    assert late == expected(month, range(4, 10))
    assert len(late) == response["count"] - response["targets"][0]["within"]


def test_a_day_and_an_hour_of_the_trend(world, month):
    client = signed_in(world.bob)
    days = client.get(f"/api/reports/trend?{MONTH_QUERY}&interval=response&bucket=day").json()
    assert len(days) == 31
    march_4 = next(d for d in days if d["bucket"] == "2026-03-04")
    assert march_4["incidents"] == 1 and march_4["median_s"] == 805.0
    body = client.get("/api/reports/incidents?start=2026-03-04&end=2026-03-04&interval=response").json()
    assert [row["number"] for row in body["rows"]] == [month[3].number]
    hours = client.get(f"/api/reports/trend?{MONTH_QUERY}&interval=response&bucket=hour").json()
    assert [h["incidents"] for h in hours if h["incidents"]] == [1] * 10
    assert numbers(client, "interval=response&hour=10") == expected(month, [2])


def test_a_map_area_holds_its_incidents(world, month):
    client = signed_in(world.bob)
    areas = client.get(f"/api/reports/areas?{MONTH_QUERY}&interval=response").json()
    assert sum(c["incidents"] for c in areas["cells"]) == 10
    east = max(areas["cells"], key=lambda c: c["lon"])
    assert east["incidents"] == 5 and east["median_s"] == 1005.0  # 605, 805, 1005, 1205, 1405
    listed = numbers(
        client, f"interval=response&lon={east['lon']}&lat={east['lat']}&size={areas['cell_deg']}"
    )
    assert listed == expected(month, [1, 3, 5, 7, 9])


def test_an_incident_opens_on_its_timeline(world, month):
    body = signed_in(world.erin).get(f"/api/reports/incidents/{month[0].pk}/timeline").json()
    clocks = [c["clock"] for c in body["clocks"]]
    assert clocks.index("call_received_at") < clocks.index("on_scene_at") < clocks.index("handover_at")
    kinds = [(e["kind"], e["actor"]) for e in body["events"]]
    assert ("incident.created", "alice") in kinds and ("assignment.created", "alice") in kinds
    assert [e["data"]["to"] for e in body["events"] if e["kind"] == "unit.status"][:2] == [
        "en_route",
        "on_scene",
    ]
    assert body["assignments"][0]["unit"] == "T-ALS-1"
