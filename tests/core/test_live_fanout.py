"""The live sockets of one app process share one listener (dispatch.core.fanout): one member of
each group in Redis however many screens are open, events handed on in order even when their
doorbells come out of order or not at all, and every screen still sees only what it may.
Real Redis channel layer, real database, real consumers."""

import asyncio
import random

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import EVENTS_GROUP, next_seq, serialize_event
from dispatch.core.fanout import POSITIONS_GROUP, fanout
from dispatch.incidents.actions import create_incident
from dispatch.models import Event
from tests.support.live_sockets import connect, events_in, receive_events, receive_until_cursor

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 6


def group_members(group: str) -> int:
    """How many channels Redis holds in the group (channels_redis keeps a sorted set a group)."""
    layer = get_channel_layer()
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return client.zcard(layer._group_key(group))
    finally:
        client.close()


@sync_to_async
def events_without_doorbells(count: int) -> list[dict]:
    """Events written as an action writes them, but whose doorbells are left to the test."""
    written = []
    for n in range(count):
        with transaction.atomic():
            event = Event.objects.create(seq=next_seq(), kind=EventKind.INCIDENT_UPDATED, data={"n": n})
        written.append(serialize_event(event))
    return written


async def ring(events: list[dict]) -> None:
    layer = get_channel_layer()
    for event in events:
        await layer.group_send(EVENTS_GROUP, {"type": "event.ring", "event": event})


async def open_consoles(user, count: int) -> list:
    sockets = []
    for _ in range(count):
        socket = await connect(user)
        await receive_until_cursor(socket)
        sockets.append(socket)
    return sockets


def test_a_process_is_one_member_of_each_group_whatever_its_screens(world):
    async def scenario():
        before = group_members(EVENTS_GROUP), group_members(POSITIONS_GROUP)
        consoles = await open_consoles(world.alice, SOCKETS)
        board = await connect(world.dave)
        await receive_until_cursor(board)
        assert (group_members(EVENTS_GROUP), group_members(POSITIONS_GROUP)) == (before[0] + 1, before[1] + 1)

        created = await sync_to_async(create_incident)(actor=world.alice, chief_complaint="每台都要")
        for console in consoles:
            (event,) = await receive_events(console, 1)
            assert (event["kind"], event["incident"]) == ("incident.created", created.pk)
        assert await board.receive_nothing(timeout=0.5)  # not its hospital's

        for socket in [*consoles, board]:
            await socket.disconnect()
        await asyncio.sleep(0.2)  # the listener leaves the groups with its last socket
        assert (group_members(EVENTS_GROUP), group_members(POSITIONS_GROUP)) == before

    asyncio.run(scenario())


def test_doorbells_out_of_order_reach_every_screen_in_order(world):
    async def scenario():
        consoles = await open_consoles(world.alice, SOCKETS)
        events = await events_without_doorbells(12)
        shuffled = events[:]
        random.Random(7).shuffle(shuffled)
        await ring(shuffled)
        for console in consoles:
            got = await receive_events(console, len(events))
            assert [e["seq"] for e in got] == [e["seq"] for e in events]
            assert [e["data"]["n"] for e in got] == list(range(12))
        for console in consoles:
            await console.disconnect()

    asyncio.run(scenario())


def test_lost_doorbells_in_a_run_are_read_from_the_table(world):
    async def scenario():
        consoles = await open_consoles(world.alice, 3)
        events = await events_without_doorbells(6)
        await ring([events[0], events[4], events[5]])  # the doorbells of 2, 3 and 4 lost
        for console in consoles:
            got = await receive_events(console, 6)
            assert [e["seq"] for e in got] == [e["seq"] for e in events]
        for console in consoles:
            await console.disconnect()

    asyncio.run(scenario())


def test_a_last_doorbell_lost_is_found_at_the_next_heartbeat(world, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.5

    async def scenario():
        (console,) = await open_consoles(world.alice, 1)
        first, last = await events_without_doorbells(2)
        await ring([first])  # the last one's doorbell never comes, and nothing follows it
        got = await receive_events(console, 2)
        assert [e["seq"] for e in got] == [first["seq"], last["seq"]]
        await console.disconnect()

    asyncio.run(scenario())


def test_a_doorbell_that_comes_while_the_table_is_read_does_not_block_later_gaps(world):
    """The heartbeat's read of the table brings an event whose doorbell then waits in line: it
    must leave the line, or every later gap is read as the empty one before it, for good (a
    failover drill's consoles stopped receiving anything after one such race)."""

    async def scenario():
        (console,) = await open_consoles(world.alice, 1)
        listener = fanout()
        first, *between, late = await events_without_doorbells(4)
        await ring([first])
        await receive_events(console, 1)
        await listener.ring(late)  # ahead of two lost doorbells: it waits for them
        await listener.fill_gap(None)  # meanwhile the heartbeat reads the table up to its end
        assert listener.waiting == {}
        got = await receive_events(console, 3)
        assert [e["seq"] for e in got] == [e["seq"] for e in [*between, late]]
        lost, rung = await events_without_doorbells(2)
        await ring([rung])  # the next gap: read from the table at once, not at a heartbeat
        got = await receive_events(console, 2)
        assert [e["seq"] for e in got] == [lost["seq"], rung["seq"]]
        await console.disconnect()

    asyncio.run(scenario())


def test_a_socket_reads_the_table_itself_when_its_listener_is_stuck(world, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.3

    async def scenario():
        (console,) = await open_consoles(world.alice, 1)
        listener = fanout()
        first = (await events_without_doorbells(1))[0]
        await ring([first])
        await receive_events(console, 1)
        listener.filling = True  # a read of the table under way that does not come back
        lost = await events_without_doorbells(2)  # their doorbells lost too
        got = await receive_events(console, 2)
        assert [e["seq"] for e in got] == [e["seq"] for e in lost]
        assert listener.delivered == first["seq"]  # the socket read them itself
        listener.filling = False
        await console.disconnect()

    asyncio.run(scenario())


def test_a_screen_that_joins_late_gets_its_catch_up_then_the_live_ones(world):
    async def scenario():
        early = await open_consoles(world.alice, 2)
        written = await events_without_doorbells(3)
        await ring(written)
        for console in early:
            await receive_events(console, 3)
        late = await connect(world.alice, after=written[0]["seq"])
        caught_up, cursor = await receive_until_cursor(late)
        assert [e["seq"] for e in caught_up] == [written[1]["seq"], written[2]["seq"]]
        more = await events_without_doorbells(2)
        await ring(more)
        got = await receive_events(late, 2)
        assert [e["seq"] for e in got] == [cursor + 1, cursor + 2] == [e["seq"] for e in more]
        for console in [*early, late]:
            await console.disconnect()

    asyncio.run(scenario())


def test_events_close_together_leave_in_fewer_frames_in_order(world):
    async def scenario():
        (console,) = await open_consoles(world.alice, 1)
        events = await events_without_doorbells(20)
        await ring(events)
        frames = []
        got: list[dict] = []
        while len(got) < len(events):
            frame = await console.receive_json_from(timeout=5)
            frames.append(frame["type"])
            got.extend(events_in(frame))
        assert [e["seq"] for e in got] == [e["seq"] for e in events]
        assert "events" in frames and len(frames) < len(events)
        # After a quiet spell the next one leaves alone, at once.
        await asyncio.sleep(0.3)
        (alone,) = await events_without_doorbells(1)
        await ring([alone])
        frame = await console.receive_json_from(timeout=1)
        assert frame == {"type": "event", "event": alone}
        await console.disconnect()

    asyncio.run(scenario())
