"""Helpers for tests that watch positions batches on a live socket."""

import time

from tests.test_live_socket import connect, receive_until_cursor


async def positions_within(
    socket, seconds: float, unit_ids: set[int], first_only: bool = False
) -> list[tuple[float, dict]]:
    """(arrival time, {unit id: row}) of each positions message naming our units, until timeout
    (or the first such message)."""
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # receive_nothing, not a receive timeout: a timed-out receive cancels the consumer.
        if await socket.receive_nothing(timeout=0.02, interval=0.005):
            continue
        message = await socket.receive_json_from(timeout=1)
        if message["type"] == "positions":
            rows = {row["id"]: row for row in message["units"] if row["id"] in unit_ids}
            if rows:
                found.append((time.monotonic(), rows))
                if first_only:
                    break
    return found


async def ready(user):
    """A signed-in socket past its catch-up, ready for positions."""
    socket = await connect(user)
    await receive_until_cursor(socket)
    return socket
