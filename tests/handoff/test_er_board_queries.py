"""The ER board costs the same number of queries however many patients are on the way, and
lists them soonest first (arrived ones at the top), with the vital signs' trend."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.crew.actions import record_vitals
from dispatch.handoff.actions import record_arrival
from dispatch.handoff.reads import board_rows
from fleet.roads.router import get_router, reset_router
from tests.support.crew_tablet import crew_member
from tests.support.er_helpers import notified


def queries_for_board(world) -> int:
    with CaptureQueriesContext(connection) as captured:
        board_rows(world.city)
    return len(captured)


@pytest.mark.django_db(transaction=True)
def test_queries_do_not_grow_with_the_patients(world, settings, request):
    # The router looks up the active network now and then; keep that out of the count.
    settings.ROAD_ROUTER_CHECK_SECONDS = 3600
    reset_router()
    get_router()
    request.addfinalizer(reset_router)
    first = notified(world, world.als1, world.city, world.carol)
    one = queries_for_board(world)
    for i, unit in enumerate([world.als2, world.bls1, world.neg1]):
        notified(world, unit, world.city, crew_member(f"crew{i}"))
    record_vitals(first.assignment, actor=world.carol, heart_rate=130, spo2=88)
    assert queries_for_board(world) == one


def test_arrived_first_and_the_trend_of_each_reading(world):
    first = notified(world, world.als1, world.city, world.carol)
    second = notified(world, world.als2, world.city, crew_member("chen"))
    record_arrival(second.assignment, actor=world.dave)
    record_vitals(
        first.assignment, actor=world.carol, heart_rate=130, spo2=94, systolic_bp=120, diastolic_bp=70
    )
    rows = board_rows(world.city)
    assert [r["id"] for r in rows] == [second.pk, first.pk]
    trends = {v["name"]: v["trend"] for v in rows[1]["latest"]}
    assert trends == {"heart_rate": "up", "systolic_bp": "down", "diastolic_bp": "down", "spo2": "steady"}
