"""The live socket: catch-up from the log on connect and reconnect, doorbell delivery, and
confinement. Real Redis channel layer, real database, real consumer."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.gis.geos import Point

from dispatch.incidents.actions import create_incident, dispatch_unit
from tests.support.live_sockets import connect, receive_events, receive_until_cursor

pytestmark = pytest.mark.django_db(transaction=True)


create_incident = sync_to_async(create_incident)


def test_reconnecting_console_misses_nothing(world):
    async def scenario():
        console = await connect(world.alice)
        backlog, cursor = await receive_until_cursor(console)
        assert [e["seq"] for e in backlog] == list(range(1, cursor + 1))  # world set-up events

        await create_incident(actor=world.alice, chief_complaint="live one")
        (live,) = await receive_events(console, 1)
        assert live["kind"] == "incident.created" and live["seq"] == cursor + 1
        await console.disconnect()

        for n in range(3):  # changes while the socket is down
            await create_incident(actor=world.alice, chief_complaint=f"missed {n}")
        again = await connect(world.alice, after=live["seq"])
        caught_up, _ = await receive_until_cursor(again)
        assert [e["data"]["chief_complaint"] for e in caught_up] == ["missed 0", "missed 1", "missed 2"]
        assert [e["seq"] for e in caught_up] == [live["seq"] + 1, live["seq"] + 2, live["seq"] + 3]
        await again.disconnect()

    asyncio.run(scenario())


def test_hospital_socket_gets_only_its_own_hospitals_events(world):
    async def scenario():
        board = await connect(world.dave)
        backlog, _ = await receive_until_cursor(board)
        assert all(e["hospital"] == world.city.pk for e in backlog)

        to_county = await create_incident(
            actor=world.alice, location=Point(119.6, 24.87), location_source="pin"
        )
        to_city = await create_incident(actor=world.alice, location=Point(119.6, 24.9), location_source="pin")
        dispatch = sync_to_async(dispatch_unit)
        await dispatch(to_county, world.als2, actor=world.alice, hospital=world.county)
        await dispatch(to_city, world.als1, actor=world.alice, hospital=world.city)
        (event,) = await receive_events(board, 1)
        assert event["kind"] == "assignment.created" and event["incident"] == to_city.pk
        assert await board.receive_nothing(timeout=0.5)
        await board.disconnect()

    asyncio.run(scenario())


def test_signed_out_socket_is_told_why_and_closed(db):
    async def scenario():
        anonymous = await connect(None)
        message = await anonymous.receive_json_from(timeout=5)
        assert message == {"type": "error", "reason": "login required"}
        closed = await anonymous.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401

    asyncio.run(scenario())
