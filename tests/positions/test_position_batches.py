"""Positions reach consoles in batches, at most one message a second whatever the fix rate, and
only control-room sockets get them: hospital staff and crews never see the whole fleet.
Real Redis channel layer, real consumer, real sender thread."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from dispatch.positions.actions import Fix, record_position
from tests.support.live_sockets import positions_within, ready
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db(transaction=True)

BATCH_KEYS = {"id", "call_sign", "lon", "lat", "position_at", "position_stale", "speed_kmh", "heading"}


@sync_to_async
def record(unit, lon: float, lat: float, seconds_ahead: float = 1.0) -> None:
    at = timezone.now() + timedelta(seconds=seconds_ahead)
    record_position(unit, Fix(lon, lat, at, speed_kmh=40, heading=10), source="simulator")


@sync_to_async
def tracker_get(params: dict) -> dict:
    return Client().get("/api/osmand", params).json()


def test_control_room_gets_positions_hospital_and_crew_do_not(world):
    on_shift(world.carol, world.als2)

    async def scenario():
        console, board, tablet = await ready(world.alice), await ready(world.dave), await ready(world.carol)
        at = int((timezone.now() + timedelta(seconds=1)).timestamp())
        stored = await tracker_get(
            {"id": world.als1.tracker_key, "lat": 24.94, "lon": 119.61, "timestamp": at}
        )
        assert stored["moved"] is True
        await record(world.als2, 119.59, 24.86)
        ids = {world.als1.pk, world.als2.pk}
        got = await positions_within(console, 3, ids)
        rows = {}
        for _, batch in got:
            rows.update(batch)
        assert set(rows) == ids
        assert all(set(row) == BATCH_KEYS for row in rows.values())
        assert (rows[world.als1.pk]["lon"], rows[world.als1.pk]["lat"]) == (119.61, 24.94)
        assert rows[world.als1.pk]["call_sign"] == "T-ALS-1"
        assert rows[world.als1.pk]["position_stale"] is False
        assert await positions_within(board, 1.5, ids) == []
        assert await positions_within(tablet, 0.1, ids) == []  # the same 1.5 s have passed
        for socket in (console, board, tablet):
            await socket.disconnect()

    asyncio.run(scenario())


def test_many_fixes_make_one_message_a_second(world):
    async def scenario():
        console = await ready(world.bob)  # a supervisor: control room too
        units = [world.als1, world.als2, world.bls1, world.neg1]
        ids = {u.pk for u in units}
        await record(world.als1, 119.600, 24.940)
        ((first_at, first),) = await positions_within(console, 3, ids, first_only=True)
        assert set(first) == {world.als1.pk}
        for step in range(1, 4):  # twelve fixes from four units, well inside the next second
            for unit in units:
                await record(unit, 119.600 + step * 0.0003, 24.940, seconds_ahead=1 + step)
        got = await positions_within(console, 2.5, ids)
        assert len(got) == 1, "the fixes after the first message must share the next one"
        second_at, second = got[0]
        assert second_at - first_at >= 0.8
        assert set(second) == ids
        assert all(row["lon"] == pytest.approx(119.6009) for row in second.values())  # the newest
        await console.disconnect()

    asyncio.run(scenario())
