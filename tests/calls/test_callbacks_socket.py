"""The missed-call list lives on the socket: a missed call and its call back reach dispatchers'
and supervisors' consoles, never a hospital's board or a crew tablet (they carry the number)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.live_sockets import connect, receive_events, receive_until_cursor
from tests.support.missed_calls import call_back, missed_call, outcome
from tests.support.roster import on_shift

pytestmark = [pytest.mark.usefixtures("migrated_data_back"), pytest.mark.django_db(transaction=True)]


def miss_and_call_back(world) -> None:
    try:
        call = missed_call("CA-sock", "+8613977778888")
        attempt = call_back(world.alice, call).json()["call_back"]["id"]
        outcome(world.alice, attempt, "reached")
    finally:
        connection.close()


def test_missed_calls_and_call_backs_reach_the_control_room_only(world, fake_twilio):  # noqa: F811
    on_shift(world.carol, world.als1)

    async def scenario():
        console = await connect(world.alice)
        supervisor = await connect(world.bob)
        board = await connect(world.dave)
        tablet = await connect(world.carol)
        for socket in (console, supervisor, board, tablet):
            await receive_until_cursor(socket)
        await sync_to_async(miss_and_call_back)(world)
        for socket in (console, supervisor):
            events = await receive_events(socket, 4)
            assert [e["kind"] for e in events] == [
                "call.ringing",
                "call.ended",
                "call.back_placed",
                "call.back_outcome",
            ]
            assert events[1]["data"]["status"] == "missed"
            done = events[3]["data"]
            assert done["done"] is True and done["caller_number"] == "+8613977778888"
        assert await board.receive_nothing(timeout=0.5)
        assert await tablet.receive_nothing(timeout=0.5)
        for socket in (console, supervisor, board, tablet):
            await socket.disconnect()

    asyncio.run(scenario())
