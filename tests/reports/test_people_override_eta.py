"""Overrides of the recommendation with how much slower the unit chosen was than the top pick.

The dispatch records the top pick's ETA from the server's own ranking at that moment (the
console sends only the chosen unit's rank and ETA, and a client's word is not the record); the
report's per-dispatcher median and per-override difference are recomputed here from the raw
assignment rows. The city is tests/support/road_grids.py's river city around the `world`: the
north station (T-ALS-1, T-BLS-1) on the north bank, the south one (T-ALS-2, T-NEG-1) across.
"""

import math
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Incident, Role, User
from dispatch.recommend.reads import recommend_units
from dispatch.registry.actions import create_unit
from fleet.roads.store import save_network
from tests.support.report_world import signed_in
from tests.support.road_grids import SCENE, river_city
from tests.support.roster import on_shift

EAST = Point(119.65, 24.93, srid=4326)  # north bank too, nearer the bridge


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/reports/test_people_override_eta.py")
    return world


def at(place: Point, by: User) -> Incident:
    return create_incident(actor=by, location=place, location_source="pin")


def ranked(place: Point) -> dict[str, tuple[int, float | None]]:
    """call sign -> (rank, ETA) as the console is shown them now."""
    return {u.call_sign: (u.rank, u.eta_s) for u in recommend_units(place, "").units}


def override(incident: Incident, unit, by: User, claimed_eta_s: float, reason: str) -> Assignment:
    """Send `unit` as the console would, with its rank; the ETA the client claims is given."""
    rank = ranked(incident.location)[unit.call_sign][0]
    assert rank > 1
    return dispatch_unit(
        incident, unit, actor=by, recommended_rank=rank, eta_s=claimed_eta_s, override_reason=reason
    )


def nearest_rank_median(values: list[float]) -> float:
    """percentile_disc(0.5): the smallest value at least half are at or below."""
    ordered = sorted(values)
    return ordered[math.ceil(0.5 * len(ordered)) - 1]


@pytest.mark.django_db(transaction=True)
def test_the_top_picks_eta_comes_from_the_servers_ranking_not_the_client(city) -> None:
    incident = at(SCENE, city.alice)
    shown = ranked(SCENE)
    top = min(shown.values())  # rank 1
    assert shown["T-ALS-2"][0] > 1 and shown["T-ALS-2"][1] > top[1]
    # The client claims the unit chosen was 1 s away: the record keeps the server's figures.
    sent = override(incident, city.als2, city.alice, 1.0, "首选车辆正在加油")
    sent.refresh_from_db()
    assert sent.top_pick_eta_s == pytest.approx(top[1], abs=0.01)
    assert sent.eta_at_dispatch_s == pytest.approx(shown["T-ALS-2"][1], abs=0.01)
    assert sent.eta_at_dispatch_s - sent.top_pick_eta_s > 60  # across the river, by the bridge


@pytest.mark.django_db(transaction=True)
def test_the_top_pick_is_its_own_top_pick_and_no_rank_records_none(city) -> None:
    first = dispatch_unit(at(SCENE, city.alice), city.als1, actor=city.alice, recommended_rank=1, eta_s=450.0)
    plain = dispatch_unit(at(SCENE, city.alice), city.bls1, actor=city.alice)
    assert (first.eta_at_dispatch_s, first.top_pick_eta_s) == (450.0, 450.0)
    assert plain.top_pick_eta_s is None


def test_without_a_road_network_the_difference_is_unknown(fresh_router, world) -> None:
    sent = dispatch_unit(
        at(SCENE, world.alice),
        world.als2,
        actor=world.alice,
        recommended_rank=3,
        eta_s=640.0,
        override_reason="车况",
    )
    sent.refresh_from_db()
    assert sent.top_pick_eta_s is None and sent.eta_at_dispatch_s == 640.0


@pytest.fixture
def overrides(city) -> Any:
    """alice: two overrides with a known difference and one with an unlocated unit (unknown);
    bob: one override. Then the top pick for alice's first, sent by the rule."""
    nowhere = create_unit("T-ALS-9", "als")  # no station, no position: no road time
    on_shift(User.objects.create_user("crew-t-als-9", role=Role.CREW), nowhere)
    override(at(SCENE, city.alice), city.als2, city.alice, 1.0, "=首选车辆在加油")
    override(at(EAST, city.alice), city.neg1, city.alice, 1.0, "车况")
    override(at(SCENE, city.bob), city.bls1, city.bob, 1.0, "<b>熟悉路线</b>")
    blind = at(EAST, city.alice)
    dispatch_unit(blind, nowhere, actor=city.alice, recommended_rank=4, eta_s=900.0, override_reason="车况")
    return city


@pytest.mark.django_db(transaction=True)
def test_report_recomputed_from_the_assignment_rows(overrides) -> None:
    today = timezone.localdate().isoformat()
    body = signed_in(overrides.bob).get(f"/api/reports/people?start={today}").json()
    people = {row["name"]: row for row in body["dispatchers"]}
    for name in ("alice", "bob"):
        rows = Assignment.objects.filter(dispatched_by__username=name, recommended_rank__gt=1)
        slower = [
            a.eta_at_dispatch_s - a.top_pick_eta_s
            for a in rows
            if a.eta_at_dispatch_s is not None and a.top_pick_eta_s is not None
        ]
        person = people[name]
        assert person["overrides"] == rows.count()
        assert person["override_eta_known"] == len(slower)
        assert person["override_slower_median_s"] == pytest.approx(round(nearest_rank_median(slower), 1))
        listed = {o["assignment"]: o for o in person["override_list"]}
        assert set(listed) == {a.pk for a in rows}
        for a in rows:
            o = listed[a.pk]
            assert o["incident"] == a.incident.number and o["unit"] == a.unit.call_sign
            assert o["rank"] == a.recommended_rank and o["reason"] == a.override_reason
            if a.top_pick_eta_s is None:
                assert o["slower_s"] is None and o["top_pick_eta_s"] is None
            else:
                assert o["slower_s"] == pytest.approx(round(a.eta_at_dispatch_s - a.top_pick_eta_s, 1))
    alice = people["alice"]
    assert (alice["overrides"], alice["override_eta_known"]) == (3, 2)
    assert alice["override_slower_median_s"] > 60  # both of hers came from across the river
    assert alice["override_list"][0]["rank"] == 4  # the most recent first


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["median slower than the top pick", "Overrides by alice", "2 of 3 known"]),
        ("zh-hans", ["比首选车辆慢", "alice 未按推荐派车的记录"]),
    ],
)
def test_the_month_page_shows_each_override_and_the_median(overrides, language, words) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(overrides.bob)
    page = client.get(f"/reports/month/?month={timezone.localdate():%Y-%m}").content.decode()
    for word in words:
        assert word in page
    mine = Assignment.objects.filter(dispatched_by=overrides.bob, recommended_rank__gt=1).get()
    slower = mine.eta_at_dispatch_s - mine.top_pick_eta_s
    row = page.split(f'data-assignment="{mine.pk}"')[1].split("</tr>")[0]
    assert mine.incident.number in row and "&lt;b&gt;熟悉路线&lt;/b&gt;" in row
    sign = "+" if slower > 0 else "−" if slower < 0 else "±"
    assert f'<td class="num slower">{sign}' in row
