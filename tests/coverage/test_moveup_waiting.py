"""A unit that arrived where a move-up sent it is listed (state done) by /api/move-ups for as long
as it waits there, so a console opened or reloaded later still says "在 东待命点 待命"; once its
status changes (a job, a shift's end) it leaves the list."""

import pytest
from django.test import Client

from dispatch.coverage import moveup
from dispatch.models import MoveUp, MoveUpState
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.move_ups import hand_city

pytestmark = pytest.mark.usefixtures("fresh_router")


def listed(user) -> list[tuple[str, str, str]]:
    client = Client()
    client.force_login(user)
    response = client.get("/api/move-ups")
    assert response.status_code == 200, response.content
    return [(r["call_sign"], r["state"], r["site_name"]) for r in response.json()]


def test_a_unit_waiting_at_its_site_stays_listed_until_its_status_changes(world, monkeypatch):
    hand_city(world, monkeypatch)
    moveup.refresh()
    move = moveup.accept_move_up(MoveUp.objects.get(state=MoveUpState.PROPOSED), actor=world.alice)
    assert listed(world.erin) == [("T-ALS-1", "accepted", "东待命点")]
    moveup.arrive(move, actor=None, how="crew")
    assert listed(world.erin) == [("T-ALS-1", "done", "东待命点")]
    assert listed(world.bob) == listed(world.erin)
    set_unit_status(world.als1, UnitStatus.DISPATCHED, actor=None)
    assert listed(world.erin) == []
