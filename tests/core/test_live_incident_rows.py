"""Incident rows on the live socket: after events about an incident, each app process reads the
incident once and hands its row (what GET /api/incidents/<id> answers a dispatcher) to every
console that asked for rows, instead of every console reading it again for every event. Only the
control room gets them. Real Redis channel layer, real database, real consumers."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.gis.geos import Point
from django.db import transaction
from django.test import Client

from dispatch.core import fanout
from dispatch.incidents.actions import create_incident, locate_incident
from dispatch.incidents.reads import incident_rows
from dispatch.units.actions import set_unit_status
from tests.support.crew_tablet import job
from tests.support.live_sockets import connect, events_in, frames_for, receive_until_cursor

pytestmark = pytest.mark.django_db(transaction=True)

SCENE = Point(119.60, 24.90, srid=4326)


async def frames_within(socket, seconds: float) -> list[dict]:
    """Every frame the socket gets for `seconds` (positions batches left out)."""
    return [frame async for _at, frame in frames_for(socket, seconds) if frame["type"] != "positions"]


def rows_frames(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "incidents"]


async def opened(user, rows: bool):
    socket = await connect(user, rows=rows)
    await receive_until_cursor(socket)
    return socket


def api_row(user, incident_id: int) -> dict:
    client = Client()
    client.force_login(user)
    response = client.get(f"/api/incidents/{incident_id}")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_console_gets_the_incidents_row_as_the_api_answers_it_and_no_one_else_does(world):
    async def scenario():
        consoles = [await opened(world.alice, rows=True), await opened(world.bob, rows=True)]
        map_page = await opened(world.alice, rows=False)  # did not ask
        er_board = await opened(world.dave, rows=True)  # asked, but hospital staff
        crew = await opened(world.carol, rows=True)  # asked, but a crew
        assignment = await sync_to_async(job)(world, world.als1, hospital=world.city, crew=world.carol)
        seen = {id(s): await frames_within(s, 1.5) for s in [*consoles, map_page, er_board, crew]}
        expected = await sync_to_async(api_row)(world.alice, assignment.incident_id)
        assert expected["assignments"][0]["unit"] == world.als1.pk

        for console in consoles:
            frames = seen[id(console)]
            events = [e for f in frames for e in events_in(f)]
            assert {e["kind"] for e in events} >= {"incident.created", "assignment.created"}
            rows = rows_frames(frames)
            assert rows, [f["type"] for f in frames]
            last = rows[-1]
            assert last["seq"] >= max(e["seq"] for e in events)
            assert [r["id"] for r in last["incidents"]] == [assignment.incident_id]
            assert last["incidents"][0] == expected
            # the row comes after the events it shows, on the same socket
            assert frames.index(last) > max(i for i, f in enumerate(frames) if events_in(f))

        assert not rows_frames(seen[id(map_page)])
        assert any(events_in(f) for f in seen[id(map_page)])  # its events still came
        for outsider in (er_board, crew):
            assert not rows_frames(seen[id(outsider)])
            assert any(events_in(f) for f in seen[id(outsider)])  # its own hospital's, its own unit's
            assert "caller_number" not in str(seen[id(outsider)])
        for socket in [*consoles, map_page, er_board, crew]:
            await socket.disconnect()

    asyncio.run(scenario())


def test_a_burst_of_changes_is_read_once_for_every_console(world):
    """Five corrections of one incident committed together: one read and one frame for all
    three consoles (not one a console, nor one an event), showing the last correction."""
    incident = create_incident(actor=world.alice, location=SCENE, location_source="pin", address="起点")

    def five_corrections():
        with transaction.atomic():
            for n in range(1, 6):
                locate_incident(incident, SCENE, actor=world.alice, source="pin", address=f"滨海路 {n} 号")

    async def scenario():
        consoles = [await opened(world.alice, rows=True) for _ in range(3)]
        await sync_to_async(five_corrections)()
        for console in consoles:
            frames = await frames_within(console, 1.0)
            assert sum(e["kind"] == "incident.located" for f in frames for e in events_in(f)) == 5
            rows = rows_frames(frames)
            assert len(rows) == 1, [r["seq"] for r in rows]
            assert rows[0]["incidents"][0]["address"] == "滨海路 5 号"
            await console.disconnect()

    asyncio.run(scenario())


def test_a_crews_tap_brings_no_row(world):
    """A tap's event names all the list shows of it; the consoles apply it themselves, and a
    busy hour's taps (most of its events) cost no read."""
    assignment = job(world, world.als1, hospital=world.city)

    async def scenario():
        console = await opened(world.alice, rows=True)
        await sync_to_async(set_unit_status)(world.als1, "acknowledged", actor=world.alice)
        frames = await frames_within(console, 1.0)
        events = [e for f in frames for e in events_in(f)]
        assert [(e["kind"], e["incident"]) for e in events] == [("unit.status", assignment.incident_id)]
        assert not rows_frames(frames)
        await console.disconnect()

    asyncio.run(scenario())


def test_when_the_rows_cannot_be_read_the_events_still_come(world):
    """A failed read sends no rows (each console then reads the incident itself) and stops
    nothing: the events go out, and the next change's rows come again."""

    def broken(ids):
        raise RuntimeError("database gone")

    async def scenario():
        console = await opened(world.alice, rows=True)
        fanout.serve_incident_rows(broken)
        try:
            first = await sync_to_async(create_incident)(actor=world.alice, address="一号")
            frames = await frames_within(console, 1.0)
            assert [e["incident"] for f in frames for e in events_in(f)] == [first.pk]
            assert not rows_frames(frames)
        finally:
            fanout.serve_incident_rows(incident_rows)
        second = await sync_to_async(create_incident)(actor=world.alice, address="二号")
        rows = rows_frames(await frames_within(console, 1.0))
        assert [r["id"] for f in rows for r in f["incidents"]] == [second.pk]
        await console.disconnect()

    asyncio.run(scenario())
