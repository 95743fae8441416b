"""A caller's number and position are patient data: call events and caller positions reach
control-room sockets only, never a hospital's board or a crew tablet."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from dispatch.calls.actions import record_call_event, record_caller_location, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.live_sockets import connect, receive_events, receive_until_cursor
from tests.support.roster import on_shift

pytestmark = [pytest.mark.usefixtures("migrated_data_back"), pytest.mark.django_db(transaction=True)]


def ring_and_locate(world) -> None:
    try:
        ring_take_and_locate(world)
    finally:
        connection.close()  # this runs on an executor thread: give its connection back to the pool


def ring_take_and_locate(world) -> None:
    call = record_call_event(
        CallEvent("pbx", "s1", CallEventKind.RINGING, timezone.now(), caller="+8613912345678")
    )
    take_call(call, actor=world.alice)
    record_caller_location(
        source="aml",
        point=Point(119.6, 24.9, srid=4326),
        accuracy_m=9,
        caller_number="+8613912345678",
        call=call,
    )


def test_call_events_reach_the_control_room_only(world):
    on_shift(world.carol, world.als1)

    async def scenario():
        console = await connect(world.alice)
        board = await connect(world.dave)
        tablet = await connect(world.carol)
        for socket in (console, board, tablet):
            await receive_until_cursor(socket)
        await sync_to_async(ring_and_locate)(world)
        kinds = [e["kind"] for e in await receive_events(console, 4)]
        assert kinds == ["call.ringing", "incident.created", "call.answered", "caller.location"]
        assert await board.receive_nothing(timeout=0.5)
        assert await tablet.receive_nothing(timeout=0.5)
        for socket in (console, board, tablet):
            await socket.disconnect()

    asyncio.run(scenario())
