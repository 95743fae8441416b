"""A station's units sent to cover elsewhere (move-up) show on that station's screen: the events
of the move (accepted, arrived, cancelled) reach its socket and its log, the board says where the
unit went, and no other station hears of it."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client

from dispatch.core.permissions import visible_events
from dispatch.coverage import moveup
from dispatch.models import MoveUp, MoveUpState
from tests.station.test_station_screen_browser import shot, station_page
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.live_sockets import connect, receive_events, receive_until_cursor
from tests.support.move_ups import hand_city
from tests.support.page_waits import wait_until
from tests.support.station_screens import screen

pytestmark = pytest.mark.usefixtures("fresh_router")


def accepted(world, monkeypatch) -> MoveUp:
    """T-ALS-1 (北站) sent to stand by at 东待命点."""
    hand_city(world, monkeypatch)
    moveup.refresh()
    move = MoveUp.objects.get(state=MoveUpState.PROPOSED)
    assert move.unit_id == world.als1.pk
    return moveup.accept_move_up(move, actor=world.alice)


def board_units(user) -> dict[str, dict]:
    client = Client()
    client.force_login(user)
    response = client.get("/api/station/board")
    assert response.status_code == 200, response.content
    return {u["call_sign"]: u for u in response.json()["units"]}


def test_the_board_says_where_a_unit_was_moved_up_and_the_log_has_the_move(world, monkeypatch):
    north, south = screen(world.north), screen(world.south)
    move = accepted(world, monkeypatch)
    units = board_units(north)
    assert units["T-ALS-1"]["status"] == "relocating"
    assert units["T-ALS-1"]["relocating_to"] == {"name": "东待命点", "name_en": "East standby"}
    assert units["T-BLS-1"]["relocating_to"] is None
    assert all(u["relocating_to"] is None for u in board_units(south).values())
    seen = list(visible_events(north).values_list("kind", "unit_id"))
    assert ("move_up.accepted", world.als1.pk) in seen
    assert "move_up.proposed" not in [kind for kind, _ in seen]  # a suggestion is the control room's
    assert not visible_events(south).filter(kind__startswith="move_up.").exists()

    moveup.arrive(move, actor=None, how="crew")
    units = board_units(north)
    assert units["T-ALS-1"]["status"] == "available" and units["T-ALS-1"]["relocating_to"] is None
    assert visible_events(north).filter(kind="move_up.arrived", unit=world.als1).exists()


def test_a_cancelled_move_leaves_the_board(world, monkeypatch):
    north = screen(world.north)
    move = accepted(world, monkeypatch)
    assert moveup.cancel_move(move, "sent to a job")
    assert board_units(north)["T-ALS-1"]["relocating_to"] is None
    assert visible_events(north).filter(kind="move_up.cancelled", unit=world.als1).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_data_back")
def test_the_socket_brings_the_move_to_its_station_only(world, monkeypatch):
    north, south = screen(world.north), screen(world.south)

    def happen() -> None:
        try:
            move = accepted(world, monkeypatch)
            moveup.arrive(move, actor=None, how="gps")
        finally:
            connection.close()

    async def scenario() -> None:
        ours, theirs = await connect(north), await connect(south)
        for socket in (ours, theirs):
            caught_up, _ = await receive_until_cursor(socket)
            assert caught_up == []
        await sync_to_async(happen)()
        events = await receive_events(ours, 2)
        assert [(e["kind"], e["unit"]) for e in events] == [
            ("move_up.accepted", world.als1.pk),
            ("move_up.arrived", world.als1.pk),
        ]
        assert events[0]["data"]["site_name"] == "东待命点"
        assert await theirs.receive_nothing(timeout=0.5)
        for socket in (ours, theirs):
            await socket.disconnect()

    asyncio.run(scenario())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_screen_shows_and_sounds_a_unit_moved_up(browser, live_url, world, monkeypatch):  # noqa: F811
    page = station_page(browser, live_url, screen(world.north))
    page.wait_for_selector("#station-idle:not([hidden])")
    move = accepted(world, monkeypatch)
    tile = f"#station-units li[data-unit='{world.als1.pk}']"
    page.wait_for_selector(f"{tile}.status-relocating .station-unit-site:has-text('前往东待命点')")
    wait_until(page, "window.chimes.includes('notice')", seconds=5)
    assert page.evaluate("window.chimes.filter((k) => k === 'alert').length") == 0  # not a job
    assert page.locator("#station-units .station-unit-site").count() == 1  # T-BLS-1 stays home
    shot(page, "move-up-1920")
    moveup.arrive(move, actor=None, how="crew")
    page.wait_for_selector(f"{tile}.status-available")
    assert page.locator("#station-units .station-unit-site").count() == 0
