"""Helpers for tests that watch positions batches on a live socket."""

import time

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dispatch.asgi import application


async def frames_for(socket, seconds: float):
    """(arrival time, frame) of each frame the socket gets for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # receive_nothing, not a receive timeout: a timed-out receive cancels the consumer.
        if await socket.receive_nothing(timeout=0.02, interval=0.005):
            continue
        frame = await socket.receive_json_from(timeout=1)
        yield time.monotonic(), frame


async def positions_within(
    socket, seconds: float, unit_ids: set[int], first_only: bool = False
) -> list[tuple[float, dict]]:
    """(arrival time, {unit id: row}) of each positions message naming our units, until timeout
    (or the first such message)."""
    found = []
    async for at, message in frames_for(socket, seconds):
        if message["type"] == "positions":
            rows = {row["id"]: row for row in message["units"] if row["id"] in unit_ids}
            if rows:
                found.append((at, rows))
                if first_only:
                    break
    return found


async def ready(user):
    """A signed-in socket past its catch-up, ready for positions."""
    socket = await connect(user)
    await receive_until_cursor(socket)
    return socket


# A page of this site opens the socket: the Origin and the Host agree (dispatch/core/origin.py).
SITE = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return [(b"cookie", cookie.encode()), *SITE]


async def connect(user, after: int = 0, rows: bool = False) -> WebsocketCommunicator:
    """A socket as a page opens it; `rows`: asking for incident rows, as the console does."""
    headers = await sync_to_async(session_headers)(user) if user else list(SITE)
    path = f"/ws/live/?after={after}" + ("&rows=1" if rows else "")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def events_in(message: dict) -> list[dict]:
    """The events a frame carries: one ("event") or several that came close together ("events")."""
    if message["type"] == "event":
        return [message["event"]]
    if message["type"] == "events":
        return message["events"]
    return []


async def receive_until_cursor(communicator) -> tuple[list[dict], int]:
    """Events sent during catch-up, and the cursor the server closes it with."""
    events = []
    while True:
        message = await communicator.receive_json_from(timeout=5)
        events.extend(events_in(message))
        if message["type"] == "cursor":
            return events, message["seq"]


async def receive_events(communicator, count: int) -> list[dict]:
    events: list[dict] = []
    while len(events) < count:
        message = await communicator.receive_json_from(timeout=5)
        events.extend(events_in(message))
    return events
