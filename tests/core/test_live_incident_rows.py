"""Incident rows on the live socket: after events about an incident, each app process reads the
incident once and hands its row (what GET /api/incidents/<id> answers a dispatcher) to every
console that asked for rows, instead of every console reading it again for every event. Only the
control room gets them. Real Redis channel layer, real database, real consumers."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test import Client

from dispatch.core import fanout
from dispatch.core.events import last_seq
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
    """A socket as a page opens it: from the number its snapshot showed (nothing to catch up)."""
    socket = await connect(user, after=await sync_to_async(last_seq)(), rows=rows)
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


def test_a_reconnected_console_gets_the_rows_of_what_it_caught_up_on(world):
    """An app node dies; its consoles reconnect to another and catch up from the log. The
    incidents the caught-up events changed come as rows right after the catch-up, read once for
    the socket and showing everything up to its cursor: no console reads each of them itself, all
    at once, while a node is down. A tap needs no row; a screen that did not ask, or is not the
    control room's, gets none."""
    corrected = create_incident(actor=world.alice, location=SCENE, location_source="pin", address="旧址")
    tapped = job(world, world.als1, hospital=world.city)
    away_from = last_seq()
    locate_incident(corrected, SCENE, actor=world.alice, source="pin", address='滨海路 9 号 <b>&"')
    created = create_incident(actor=world.alice, address="新的")
    set_unit_status(world.als1, "acknowledged", actor=world.alice)

    async def scenario():
        console = await connect(world.alice, after=away_from, rows=True)
        events, cursor = await receive_until_cursor(console)
        assert {(e["kind"], e["incident"]) for e in events} >= {
            ("incident.located", corrected.pk),
            ("incident.created", created.pk),
            ("unit.status", tapped.incident_id),
        }
        frame = await console.receive_json_from(timeout=5)
        assert frame["type"] == "incidents" and frame["seq"] == cursor
        assert [r["id"] for r in frame["incidents"]] == sorted([corrected.pk, created.pk])
        for row in frame["incidents"]:
            assert row == await sync_to_async(api_row)(world.alice, row["id"])
        assert frame["incidents"][[r["id"] for r in frame["incidents"]].index(corrected.pk)]["address"] == (
            '滨海路 9 号 <b>&"'
        )
        assert not rows_frames(await frames_within(console, 0.5))  # once, not again by the listener
        for user, rows in ((world.alice, False), (world.dave, True), (world.carol, True)):
            other = await connect(user, after=away_from, rows=rows)
            await receive_until_cursor(other)
            assert not rows_frames(await frames_within(other, 0.5))
            await other.disconnect()
        await console.disconnect()

    asyncio.run(scenario())


def test_a_long_catch_up_reads_its_rows_in_parts(world, monkeypatch):
    """More incidents than one read takes: every one of them comes, in reads of ROWS_LIMIT."""
    monkeypatch.setattr(fanout, "ROWS_LIMIT", 2)
    away_from = last_seq()
    made = [create_incident(actor=world.alice, address=f"{n} 号").pk for n in range(5)]

    async def scenario():
        console = await connect(world.alice, after=away_from, rows=True)
        _events, cursor = await receive_until_cursor(console)
        frames = [await console.receive_json_from(timeout=5) for _ in range(3)]
        assert [f["type"] for f in frames] == ["incidents"] * 3
        assert [[r["id"] for r in f["incidents"]] for f in frames] == [made[:2], made[2:4], made[4:]]
        assert {f["seq"] for f in frames} == {cursor}
        await console.disconnect()

    asyncio.run(scenario())


def test_rows_do_not_wait_behind_the_sockets_shared_database_thread(world):
    """Every socket's heartbeat and catch-up of a process queue on channels' one database
    thread; the rows are read on a thread of their own, so a busy shared thread (held here for 3
    s) does not hold them back past the consoles' wait for them."""

    def created_elsewhere():
        try:
            return create_incident(actor=world.alice, address="三号")
        finally:
            connection.close()

    async def scenario():
        console = await opened(world.alice, rows=True)
        held = asyncio.ensure_future(database_sync_to_async(time.sleep)(3))
        await asyncio.sleep(0.1)
        incident = await asyncio.to_thread(created_elsewhere)
        started = time.monotonic()
        frames = await frames_within(console, 1.5)
        assert not held.done()
        rows = rows_frames(frames)
        assert [r["id"] for f in rows for r in f["incidents"]] == [incident.pk], [f["type"] for f in frames]
        assert time.monotonic() - started < 2.5
        await held
        await console.disconnect()

    asyncio.run(scenario())
