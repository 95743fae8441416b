"""One listener per app process between the channel layer and this process's live sockets.

Every event's doorbell and every positions batch used to reach each socket as a message of its
own: a group of 170 screens meant 170 messages written to Redis, read back, decoded and queued
one by one, and the event encoded once per screen. A centre's worst hour (a call a second and more,
a hundred consoles) spent one app process's whole core on that. Here each process joins the
groups once, with a channel of its own; a message is read once, an event encoded once, and the
frame handed to every local socket that may see it (decision 4 and 5, docs/decisions/).

Doorbells from different writers can arrive out of order. The listener puts them back in order
(for up to REORDER_WAIT_SECONDS), and when one stays missing it reads the gap from the event
table once for the whole process, not once per socket; every heartbeat it also compares the
table's last number with what it delivered, so a lost doorbell (Redis down or failing over)
costs seconds of latency, never an event. The sockets do not rely on the listener alone: one
whose cursor the table has been ahead of for a heartbeat reads the table itself (Fanout.owes).

The listener also reads, once for all of its process's consoles, what a console's list shows of
each incident the events named (its row, as GET /api/incidents/<id> answers a dispatcher) and hands
that on as one frame: a hundred consoles each reading the incident again for every event about it
made a hundred reads of it per event (docs/architecture.md, "Incident rows on the live socket").

One listener per event loop: daphne has one; tests may run several loops, one after another.
The listener starts with its loop's first socket and stops with its last.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import EVENTS_GROUP, last_seq, serialize_event
from dispatch.core.per_loop import PerLoop

log = logging.getLogger(__name__)

# Every unit's position goes to this group, in batches (dispatch.positions.batches).
POSITIONS_GROUP = "positions"
# How long an event that came before its predecessor waits for it before the gap is read.
REORDER_WAIT_SECONDS = 0.15
# Events read from the table at a time when filling a gap.
GAP_LIMIT = 500
RETRY_SECONDS = 1.0
JOIN_WAIT_SECONDS = 5.0
# How long the incidents named by events wait to be read together: the events of one action (a
# dispatch writes several) and of the actions close to it make one read and one frame. Each read
# costs the process some milliseconds and each frame a send to every console; the list's row a
# fifth of a second after the event is soon enough (a crew's tap the console applies at once).
ROWS_GATHER_SECONDS = 0.2
# Incidents read at a time (a gap filled from the table may name hundreds).
ROWS_LIMIT = 100

# What the consoles' list shows of incidents, by their ids: a JSON array of rows, each with its
# "id" (dispatch.incidents.reads.incident_rows, registered by dispatch.apps: this layer reads
# nothing of an incident itself). None: no rows are sent and the consoles read for themselves.
IncidentRowsReader = Callable[[list[int]], str]
incident_rows_reader: IncidentRowsReader | None = None


# The rows are read on a thread of their own. channels' database_sync_to_async runs every
# socket's heartbeat and catch-up of a process on one shared thread; queued behind them in a busy
# hour, a read of rows waited seconds while the consoles' fallback timers ran out.
ROWS_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-rows")


def serve_incident_rows(reader: IncidentRowsReader | None) -> None:
    global incident_rows_reader
    incident_rows_reader = reader


async def incident_rows_frame(ids: list[int], seq: int | None) -> str | None:
    """The consoles' frame of these incidents' rows, read now, after every event up to `seq`
    had committed (so the rows show it): {"type": "incidents", "seq": N, "incidents": [...]}.
    None when no reader is registered or the read failed: each console then reads for itself
    when no row came (static/js/console.js)."""
    reader = incident_rows_reader
    if reader is None or not ids:
        return None
    try:
        rows = await asyncio.get_running_loop().run_in_executor(ROWS_THREAD, read_on_rows_thread, reader, ids)
    except Exception:
        log.warning("live fan-out: incident rows not read; the consoles read them", exc_info=True)
        return None
    return f'{{"type": "incidents", "seq": {json.dumps(seq)}, "incidents": {rows}}}'


def read_on_rows_thread(reader: IncidentRowsReader, ids: list[int]) -> str:
    """As channels' database_sync_to_async does: a connection broken meanwhile (the database
    failed over) is dropped before, and the connection goes back to the pool after."""
    close_old_connections()
    try:
        return reader(ids)
    finally:
        close_old_connections()


def rows_named(events: list[dict[str, Any]]) -> list[list[int]]:
    """The incidents whose rows the consoles want after these events, in reads of at most
    ROWS_LIMIT."""
    ids = sorted({event["incident"] for event in events if names_row_change(event)})
    return [ids[i : i + ROWS_LIMIT] for i in range(0, len(ids), ROWS_LIMIT)]


def names_row_change(event: dict[str, Any]) -> bool:
    """Whether the consoles want the incident's row after this event: not after a crew's tap
    (most of a busy hour's events), whose event says all the list shows of it (the job's status
    and the clocks it stamped); the console applies it itself, and the one console showing the
    incident in its detail reads it."""
    return event.get("incident") is not None and event["kind"] != EventKind.UNIT_STATUS


class LiveSocket(Protocol):
    """What the listener needs of a socket (dispatch.core.live.LiveConsumer)."""

    def deliver_event(self, event: dict[str, Any], encoded: str) -> None: ...

    async def deliver_frame(self, frame: str) -> None: ...

    def deliver_rows(self, frame: str) -> None: ...


@database_sync_to_async
def read_events(after: int, before: int | None) -> list[dict[str, Any]]:
    """The events after `after` (and before `before`, if given) from the table, at most
    GAP_LIMIT of them, up to the last number committed."""
    from dispatch.models import Event

    upto = last_seq()
    rows = Event.objects.filter(seq__gt=after, seq__lte=upto)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    return [serialize_event(e) for e in rows.order_by("seq")[:GAP_LIMIT]]


def events_frame(encoded: list[str]) -> str:
    """One socket's frame for events already encoded (json.dumps of each): one event as
    {"type": "event", "event": ...}, several in order as {"type": "events", "events": [...]}."""
    if len(encoded) == 1:
        return '{"type": "event", "event": ' + encoded[0] + "}"
    return '{"type": "events", "events": [' + ", ".join(encoded) + "]}"


class Fanout:
    """The listener of one event loop."""

    def __init__(self) -> None:
        self.event_sockets: set[LiveSocket] = set()
        self.position_sockets: set[LiveSocket] = set()
        self.row_sockets: set[LiveSocket] = set()  # consoles that asked for incident rows
        self.rows_due: set[int] = set()  # incidents named by events since their rows were read
        self.rows_task: asyncio.Task | None = None
        self.delivered: int | None = None  # the last event number handed on in order
        self.waiting: dict[int, dict[str, Any]] = {}  # events that came before a predecessor
        self.gap_timer: asyncio.TimerHandle | None = None
        self.filling = False
        self.tasks: list[asyncio.Task] = []
        self.channel: str | None = None
        self.listening = asyncio.Event()
        # The table's last event number at the last two heartbeats (watch_table).
        self.table_seqs: deque[int] = deque(maxlen=2)

    @property
    def running(self) -> bool:
        return bool(self.tasks) and not all(t.done() for t in self.tasks)

    async def join(self, socket: LiveSocket, positions: bool, rows: bool = False) -> None:
        """Hand this socket what the groups bring from now on. Returns once the listener is in
        the groups (or after JOIN_WAIT_SECONDS if Redis does not answer: the socket then
        relies on its heartbeat's reads), so a socket's first read of the table misses no
        event whose doorbell came before the listener was listening."""
        self.event_sockets.add(socket)
        if positions:
            self.position_sockets.add(socket)
        if rows:
            self.row_sockets.add(socket)
        if not self.running:
            self.listening = asyncio.Event()
            self.tasks = [
                asyncio.create_task(self.listen(), name="live-fanout"),
                asyncio.create_task(self.watch_table(), name="live-fanout-watch"),
            ]
        try:
            await asyncio.wait_for(self.listening.wait(), JOIN_WAIT_SECONDS)
        except TimeoutError:
            log.warning("live fan-out: not listening after %s s; the socket goes on", JOIN_WAIT_SECONDS)

    async def leave(self, socket: LiveSocket) -> None:
        self.event_sockets.discard(socket)
        self.position_sockets.discard(socket)
        self.row_sockets.discard(socket)
        if not self.event_sockets:
            await self.stop()

    async def stop(self) -> None:
        for task in [*self.tasks, self.rows_task]:
            if task is not None:
                task.cancel()
        self.tasks, self.rows_task = [], None
        self.rows_due.clear()
        if self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        self.waiting.clear()
        self.table_seqs.clear()
        self.delivered = None
        channel, self.channel = self.channel, None
        if channel is not None:
            await self.discard(channel)

    async def discard(self, channel: str) -> None:
        layer = get_channel_layer()
        try:
            for group in (EVENTS_GROUP, POSITIONS_GROUP):
                await layer.group_discard(group, channel)
        except Exception:  # Redis down: the membership expires by itself
            log.debug("fan-out channel %s not discarded", channel, exc_info=True)

    # ------------------------------------------------------------------ the channel layer

    async def listen(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                if self.channel is None:
                    # The default prefix: channels_redis reads one Redis list per prefix under
                    # one lock, so a channel of another prefix waits behind every socket's.
                    self.channel = await layer.new_channel()
                    await self.join_groups()
                    self.listening.set()
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live fan-out: channel layer failed; retrying", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await self.handle(message)

    async def join_groups(self) -> None:
        """Group membership expires in Redis, and is lost with a Redis that failed over: joined
        when the channel is made and again every heartbeat."""
        if self.channel is None:
            return
        layer = get_channel_layer()
        for group in (EVENTS_GROUP, POSITIONS_GROUP):
            await layer.group_add(group, self.channel)

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "event.ring":
            await self.ring(message["event"])
        elif kind == "positions.batch":
            await self.positions(message["frame"])

    async def positions(self, frame: str) -> None:
        for socket in list(self.position_sockets):
            await socket.deliver_frame(frame)

    # ------------------------------------------------------------------ events, in order

    async def ring(self, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if self.delivered is None or seq == self.delivered + 1:
            self.hand_on([event])
            self.hand_on(self.next_waiting())
        elif seq <= self.delivered:
            self.hand_on([event])  # a late or repeated one: sockets behind may want it
        else:
            self.waiting[seq] = event
            if self.gap_timer is None:
                loop = asyncio.get_running_loop()
                self.gap_timer = loop.call_later(REORDER_WAIT_SECONDS, self.gap_overdue)

    def next_waiting(self) -> list[dict[str, Any]]:
        ready: list[dict[str, Any]] = []
        while self.delivered is not None and self.delivered + 1 + len(ready) in self.waiting:
            ready.append(self.waiting.pop(self.delivered + 1 + len(ready)))
        if not self.waiting and self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        return ready

    def gap_overdue(self) -> None:
        self.gap_timer = None
        if self.waiting and not self.filling:
            self.tasks.append(asyncio.get_running_loop().create_task(self.fill_gap(min(self.waiting))))

    async def fill_gap(self, before: int | None) -> None:
        """Read what the doorbells did not bring, once for every socket of this process."""
        self.filling = True
        try:
            while self.delivered is not None:
                events = await read_events(self.delivered, before)
                self.hand_on(events)
                if len(events) < GAP_LIMIT:
                    break
        except Exception:
            log.warning("live fan-out: gap not read; the sockets' heartbeats will", exc_info=True)
            return
        finally:
            self.filling = False
        # What waited and now follows on goes too. A gap the table did not fill either is
        # skipped over: each socket reads its own gaps from the table.
        if self.waiting and self.delivered is not None and min(self.waiting) > self.delivered + 1:
            self.delivered = min(self.waiting) - 1
        self.hand_on(self.next_waiting())
        if self.waiting and self.gap_timer is None:
            self.gap_overdue()

    def hand_on(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            encoded = json.dumps(event)
            for socket in list(self.event_sockets):
                socket.deliver_event(event, encoded)
            if self.delivered is None or event["seq"] > self.delivered:
                self.delivered = event["seq"]
        if self.row_sockets and incident_rows_reader is not None:
            self.rows_due.update(event["incident"] for event in events if names_row_change(event))
            if self.rows_due and (self.rows_task is None or self.rows_task.done()):
                self.rows_task = asyncio.get_running_loop().create_task(self.send_rows(), name="live-rows")
        if self.waiting and self.delivered is not None:
            # A doorbell that came while the table was being read, for an event the read also
            # brought: handed on already. Left waiting, it would stand first in line for good,
            # and every later gap would be read as the empty one before it.
            for seq in [seq for seq in self.waiting if seq <= self.delivered]:
                del self.waiting[seq]

    # ------------------------------------------------------------------ incident rows

    async def send_rows(self) -> None:
        """Read the rows of the incidents events named, once for this process's consoles, and
        hand them on as one frame, until none is due. The frame's "seq" is the last event handed
        on before the read: every event up to it had committed, so the rows show it. Ids gather
        for ROWS_GATHER_SECONDS first; those a full read left over go at once."""
        gather = True
        while self.rows_due:
            if gather:
                await asyncio.sleep(ROWS_GATHER_SECONDS)
            ids = sorted(self.rows_due)[:ROWS_LIMIT]
            self.rows_due.difference_update(ids)
            gather = len(ids) < ROWS_LIMIT
            if not self.row_sockets:
                continue
            frame = await incident_rows_frame(ids, self.delivered)
            if frame is None:
                continue
            for socket in list(self.row_sockets):
                socket.deliver_rows(frame)

    async def watch_table(self) -> None:
        """Every heartbeat: join the groups again, and read the table's last number, the
        safety net for doorbells that were lost."""
        while True:
            await asyncio.sleep(settings.LIVE_HEARTBEAT_SECONDS)
            try:
                await self.join_groups()
            except Exception:
                log.warning("live fan-out: groups not joined; retrying", exc_info=True)
            try:
                upto = await database_sync_to_async(last_seq)()
            except Exception:
                log.warning("live fan-out: last event number not read", exc_info=True)
                continue
            self.table_seqs.append(upto)
            if self.delivered is None or self.filling:
                continue
            if upto > self.delivered and not self.waiting:
                await self.fill_gap(None)

    def owes(self, cursor: int) -> bool:
        """Whether a socket that has everything up to `cursor` misses something: an event this
        listener handed on, or one the table had a heartbeat ago (which the listener should
        have handed on by now). The second is the sockets' own safety net: whatever state the
        listener is in, a socket is never more than about two heartbeats behind the table."""
        if self.delivered is None or self.delivered > cursor:
            return True
        return len(self.table_seqs) == 2 and self.table_seqs[0] > cursor


_fanouts = PerLoop(Fanout)


def fanout() -> Fanout:
    """This event loop's listener."""
    return _fanouts.here()
