"""Alarm events reach the control room's sockets only: never the board of the hospital the unit
is bound for, never the tablet of the unit the alarm is about, neither live nor on catch-up."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from dispatch.alarms.actions import acknowledge_alarm
from dispatch.core.permissions import visible_events
from dispatch.models import Alarm
from tests.support.alarm_helpers import scan_after
from tests.support.crew_tablet import job
from tests.support.live_sockets import connect, receive_events, receive_until_cursor

pytestmark = pytest.mark.django_db(transaction=True)


def raise_and_acknowledge(world, assignment) -> None:
    try:
        scan_after(assignment.dispatched_at, 200)  # not acknowledged, not en route
        for alarm in Alarm.objects.open():
            acknowledge_alarm(alarm, actor=world.alice)
    finally:
        connection.close()  # an executor thread: give its connection back


def test_alarm_events_reach_the_control_room_only(world, settings):
    settings.TARGET_UNIT_ACK_SECONDS, settings.TARGET_TURNOUT_SECONDS = 60, 180
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)

    async def scenario():
        console = await connect(world.alice)
        board = await connect(world.dave)  # the city hospital, where T-ALS-1 is bound
        tablet = await connect(world.carol)  # on T-ALS-1
        for socket in (console, board, tablet):
            await receive_until_cursor(socket)
        await sync_to_async(raise_and_acknowledge)(world, assignment)
        kinds = sorted(e["kind"] for e in await receive_events(console, 4))
        assert kinds == ["alarm.acknowledged"] * 2 + ["alarm.raised"] * 2
        assert await board.receive_nothing(timeout=0.5)
        assert await tablet.receive_nothing(timeout=0.5)
        # A board or tablet that connects later is not given them on catch-up either.
        for user in (world.dave, world.carol):
            late = await connect(user)
            caught_up, _ = await receive_until_cursor(late)
            assert not [e for e in caught_up if e["kind"].startswith("alarm.")]
            await late.disconnect()
        for socket in (console, board, tablet):
            await socket.disconnect()

    asyncio.run(scenario())
    for user in (world.dave, world.carol):
        assert not visible_events(user).filter(kind__startswith="alarm.").exists()
    assert visible_events(world.bob).filter(kind__startswith="alarm.").count() == 4
