"""Vehicle positions to consoles in batches: at most one group message per second per app
process, never one message per GPS fix per screen (decision 5, docs/decisions/).

After a fix commits, `note_unit_moved` puts the unit's new state in this process's buffer (one
entry per unit, the newest wins) and wakes a small sender thread. The thread sends everything
buffered as one `positions.batch` message to the positions group, then waits out the rest of
the second before it sends again: a quiet fleet gets its first move at once, a busy one one
message a second whatever the fix rate.

Why a thread with its own event loop, and not a task on daphne's loop: fixes commit in sync
threads (under daphne, the trackers' fast-path workers and asgiref's executor; under WSGI or in
tests, the request or test thread), and the same code must work in all of them. A thread started
on first use runs the same way everywhere, and `note_unit_moved` only takes a lock for a dict
update, so a request never waits for Redis. When Redis is down the batch is kept (still
newest-wins per unit, so the buffer never outgrows the fleet) and retried each second; the fix
itself is already in the database, and /api/units has every unit's latest position for a console
that reconnects. Each app node batches its own fixes: behind HAProxy with two nodes a console
gets up to two messages a second.
"""

import asyncio
import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from channels.layers import get_channel_layer
from django.utils import timezone

from dispatch.core.fanout import POSITIONS_GROUP
from fleet.models import Unit

log = logging.getLogger(__name__)

BATCH_SECONDS = 1.0
# A Redis that accepts the connection but never answers must not stall the sender for good.
SEND_TIMEOUT_SECONDS = 5.0


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def batch_row(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A unit's position as the consoles get it: the position fields of /api/units' rows, with
    the stale flag worked out when the batch leaves (Unit.is_position_stale's rule). Rounded to
    what a map can show (6 decimals of a degree is 0.1 m): a third less to encode and send."""
    at = state["position_at"]
    return {
        "id": state["id"],
        "call_sign": state["call_sign"],
        "lon": round(state["lon"], 6),
        "lat": round(state["lat"], 6),
        "position_at": at.isoformat(),
        "position_stale": Unit(position_at=at).is_position_stale(now),
        "speed_kmh": rounded(state["speed_kmh"], 1),
        "heading": rounded(state["heading"], 1),
    }


def batch_frame(states: list[dict[str, Any]], now: datetime) -> str:
    """The WebSocket frame every console gets, encoded once here, off the server's event loop:
    encoding it in each consumer cost a JSON dump per console per second."""
    return json.dumps({"type": "positions", "units": [batch_row(s, now) for s in states]})


class PositionBatcher:
    """The per-process buffer and its sender thread."""

    def __init__(self, interval: float = BATCH_SECONDS) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.pending: dict[int, dict[str, Any]] = {}
        self.thread: threading.Thread | None = None
        self.failing = False

    def note(self, state: dict[str, Any]) -> None:
        """Buffer a unit's new state (the newest fix wins) and wake the sender."""
        with self.lock:
            self.merge(state)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="position-batches", daemon=True)
                self.thread.start()
            self.wake.set()

    def merge(self, state: dict[str, Any]) -> None:
        current = self.pending.get(state["id"])
        if current is None or current["position_at"] <= state["position_at"]:
            self.pending[state["id"]] = state

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            states, self.pending = list(self.pending.values()), {}
            self.wake.clear()
        return states

    def put_back(self, states: list[dict[str, Any]]) -> None:
        """A batch that could not be sent waits for the next one, unless newer fixes came."""
        with self.lock:
            for state in states:
                self.merge(state)
            self.wake.set()

    def run(self) -> None:
        loop = asyncio.new_event_loop()  # the thread's own; channels_redis keeps a pool per loop
        last_sent = float("-inf")
        try:
            while True:
                self.wake.wait()
                delay = last_sent + self.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # fixes arriving meanwhile join this batch
                states = self.take()
                if not states:
                    continue
                last_sent = time.monotonic()
                self.send_or_keep(loop, states)
        finally:
            loop.close()

    def send_or_keep(self, loop: asyncio.AbstractEventLoop, states: list[dict[str, Any]]) -> None:
        try:
            loop.run_until_complete(send_batch(states))
        except Exception:  # Redis down or failing over: keep the states, try again in a second.
            if not self.failing:
                log.warning("position batch of %d units not sent; retrying", len(states), exc_info=True)
            self.failing = True
            self.put_back(states)
            return
        if self.failing:
            log.info("position batches flowing again")
        self.failing = False


async def send_batch(states: list[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "positions.batch", "frame": batch_frame(states, timezone.now())}
    await asyncio.wait_for(layer.group_send(POSITIONS_GROUP, message), SEND_TIMEOUT_SECONDS)


batcher = PositionBatcher()


def note_unit_moved(state: dict[str, Any]) -> None:
    """Called after a fix that moved a unit has committed (see actions.record_position)."""
    batcher.note(state)
