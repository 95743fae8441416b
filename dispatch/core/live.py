"""The live socket every screen uses: authenticate, catch up from the log, then forward.

The page renders a snapshot and the sequence number it reflects; the socket sends every
visible event after that number, in order, then new ones as the doorbell rings. A doorbell
that arrives out of order or not at all is covered by reading the table (decision 4, docs/decisions/).
"""

import asyncio
import logging
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import last_seq, serialize_event
from dispatch.core.fanout import POSITIONS_GROUP, events_frame, fanout, incident_rows_frame, rows_named
from dispatch.core.permissions import (
    crew_unit_id,
    hears_doorbell_only,
    is_control_room,
    is_crew,
    is_event_visible,
    receives_positions,
    station_unit_ids,
    visible_events,
)
from dispatch.core.two_factor import session_owes

log = logging.getLogger(__name__)

# How often a socket re-checks its session and reads what a lost doorbell did not announce
# (settings.LIVE_HEARTBEAT_SECONDS, 10 s).
# Close codes the pages understand (static/js/live.js): signed out stops reconnecting; a changed
# role reconnects, and the new socket receives what the new role may.
CLOSE_SIGNED_OUT = 4401
CLOSE_CHANGED = 4403
CATCH_UP_LIMIT = 1000
# A socket's events leave as one frame at most this often: the first after a quiet spell at once,
# those that follow within the window together ({"type": "events", ...}). A hundred consoles in a
# surge get a few frames a second each instead of one per event.
COALESCE_SECONDS = 0.05

__all__ = ["POSITIONS_GROUP", "LiveConsumer"]

shift_unit_id = database_sync_to_async(crew_unit_id)
# The events that bind a crew member to a unit or free them from it: each names the member.
SHIFT_KINDS = frozenset({EventKind.SHIFT_STARTED, EventKind.SHIFT_ENDED})


@database_sync_to_async
def events_after(user, after: int) -> tuple[list[dict[str, Any]], int, bool]:
    """Visible events after `after`, the number they bring the screen up to, and whether
    there were too many to send (the screen then reloads its snapshot)."""
    upto = last_seq()  # every event numbered up to here has committed
    rows = list(
        visible_events(user).filter(seq__gt=after, seq__lte=upto).order_by("seq")[: CATCH_UP_LIMIT + 1]
    )
    if len(rows) > CATCH_UP_LIMIT:
        return [], upto, True
    return [serialize_event(e) for e in rows], upto, False


# A socket that may not go on: the close code and why.
Refusal = tuple[int, str]


class SessionHolder:
    """What django.contrib.auth.get_user reads: a session, here one loaded by its key."""

    def __init__(self, session_key: str | None) -> None:
        self.session = SessionStore(session_key=session_key)


def why_not_allowed(user: Any, session_key: str | None) -> Refusal | None:
    """Whether this socket may go on: None, or the close code and why. The session must still
    be signed in as this user (not signed out, not expired, the password not changed, the
    account not disabled), and the user's role, hospital and station must be those it connected with,
    since they decided what it receives."""
    holder = SessionHolder(session_key)
    now = get_user(holder)  # type: ignore[arg-type]
    if not now.is_authenticated or now.pk != user.pk:
        return CLOSE_SIGNED_OUT, "signed out"
    if session_owes(now, holder.session):
        # Signed in with the password only, where a code is owed (dispatch.core.two_factor).
        return CLOSE_SIGNED_OUT, "second factor required"
    if (now.role, now.hospital_id, now.station_id, now.is_superuser) != (
        user.role,
        user.hospital_id,
        user.station_id,
        user.is_superuser,
    ):
        return CLOSE_CHANGED, "role changed"
    return None


@database_sync_to_async
def socket_check(user: Any, session_key: str | None) -> tuple[Refusal | None, int | None, frozenset[int]]:
    """A socket's heartbeat in one trip to a database thread: whether it may go on
    (why_not_allowed's answer), the crew member's unit now and a station screen's units now. All
    of a process's sockets share that one thread (channels' database_sync_to_async), so three
    trips a socket every heartbeat queued the sockets' other reads behind them under load."""
    refusal = why_not_allowed(user, session_key)
    if refusal is not None:
        return refusal, None, frozenset()
    return None, crew_unit_id(user), station_unit_ids(user)


def after_from(query: dict[str, str]) -> int:
    try:
        return max(0, int(query.get("after", "0")))
    except ValueError:
        return 0


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first, then close with a reason: a refusal before accept() reaches the
            # browser as a bare 1006.
            await self.send_json({"type": "error", "reason": "login required"})
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        # The user itself, not the scope's lazy proxy (resolved by the check above): each event
        # is checked against it for every socket, and each attribute read through the proxy
        # cost a lookup more.
        self.user = getattr(user, "_wrapped", user)
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        refusal, self.crew_unit_id, self.station_units = await socket_check(user, self.session_key)
        if refusal is not None:
            await self.send_json({"type": "error", "reason": refusal[1]})
            await self.close(code=refusal[0])
            return
        query = self.query()
        self.cursor = after_from(query)
        self.lock = asyncio.Lock()
        self.backlog: deque[dict[str, Any]] = deque()
        self.drainer: asyncio.Task | None = None
        self.outbox: list[str] = []  # encoded events for the next frame
        self.flush_due = False
        self.sends: set[asyncio.Task] = set()  # frames under way from sync callers
        self.last_flush = float("-inf")
        # Group messages reach this socket through its process's one listener
        # (dispatch.core.fanout), not through a channel-layer subscription of its own.
        self.fanout = fanout()
        # Incident rows (dispatch.core.fanout) are the control room's view of every incident:
        # only a control-room screen gets them, and only one that asks (the console).
        self.wants_rows = query.get("rows") == "1" and is_control_room(user)
        await self.fanout.join(self, positions=receives_positions(user), rows=self.wants_rows)
        await self.catch_up()
        self.heartbeat_task = asyncio.create_task(self.heartbeat())

    def query(self) -> dict[str, str]:
        return dict(
            part.split("=", 1)
            for part in self.scope.get("query_string", b"").decode().split("&")
            if "=" in part
        )

    async def disconnect(self, code: int) -> None:
        self.gone = True
        for task in (
            getattr(self, "heartbeat_task", None),
            getattr(self, "drainer", None),
            *getattr(self, "sends", ()),
        ):
            if task:
                task.cancel()
        if hasattr(self, "fanout"):
            await self.fanout.leave(self)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": self.cursor})

    async def emit(self, content: dict[str, Any]) -> None:
        """A frame that is not a queued event: the queued ones leave first, in order."""
        await self.emit_text(await self.encode_json(content))

    async def emit_text(self, frame: str) -> None:
        await self.flush()
        await self.send(text_data=frame)

    def queue_event(self, encoded: str) -> None:
        self.outbox.append(encoded)
        if self.flush_due:
            return
        self.flush_due = True
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.0, self.last_flush + COALESCE_SECONDS - loop.time()), self.start_flush)

    def start_flush(self) -> None:
        if getattr(self, "gone", False):
            return  # a frame due after the socket closed
        self.spawn(self.flush())

    async def flush(self) -> None:
        self.flush_due = False
        if not self.outbox:
            return
        encoded, self.outbox = self.outbox, []
        self.last_flush = asyncio.get_running_loop().time()
        await self.send(text_data=events_frame(encoded))

    async def catch_up(self) -> None:
        async with self.lock:
            await self.flush()
            events, upto, too_many = await events_after(self.user, self.cursor)
            if too_many:
                await self.send_json({"type": "resync", "seq": upto})
            for event in events:
                await self.send_json({"type": "event", "event": event})
            self.cursor = max(self.cursor, upto)
            await self.send_json({"type": "cursor", "seq": self.cursor})
            if self.wants_rows:
                await self.send_caught_up_rows(events, upto)

    async def send_caught_up_rows(self, events: list[dict[str, Any]], upto: int) -> None:
        """The rows of the incidents a catch-up's events named, read for this socket alone: the
        listener sent none for them. After an app node dies its consoles reconnect to another
        and catch up together; without rows each would read every incident it caught up on."""
        for ids in rows_named(events):
            frame = await incident_rows_frame(ids, upto)
            if frame is not None:
                await self.send(text_data=frame)

    def deliver_event(self, event: dict[str, Any], encoded: str) -> None:
        """An event from the process's listener, encoded once for every socket. In order and
        with nothing to look up, it joins the next frame; anything else (a gap, a catch-up under
        way, the crew's own unit to check) waits its turn in the backlog."""
        seq = event["seq"]
        if seq <= self.cursor:
            return
        slow = (
            seq != self.cursor + 1
            or self.backlog
            or self.lock.locked()
            or (self.drainer is not None and not self.drainer.done())
            or self.shift_may_change(event)
        )
        if slow:
            self.backlog.append(event)
            if self.drainer is None or self.drainer.done():
                self.drainer = asyncio.create_task(self.drain())
            return
        self.cursor = seq
        if is_event_visible(self.user, event, self.crew_unit_id, self.station_units):
            self.queue_event(encoded)
        elif hears_doorbell_only(self.user):
            self.start_cursor()

    def shift_may_change(self, event: dict[str, Any]) -> bool:
        """Whether this event may bind a crew member to another unit or end their shift: a shift
        event of their unit or naming them. Only those wait for the shift to be read again; the
        unit's other events go straight out (reading the shift for each of them put a database
        trip in the way of every status a crew tapped)."""
        if event["kind"] not in SHIFT_KINDS or not is_crew(self.user):
            return False
        data = event.get("data") or {}
        return event["unit"] == self.crew_unit_id or data.get("user") == self.user.get_username()

    def start_cursor(self) -> None:
        """The wallboard's frame: only the number, so it reads its figures again."""
        self.spawn(self.emit({"type": "cursor", "seq": self.cursor}))

    def spawn(self, send) -> None:
        """A send started from sync code (the listener's hand-on, a timer), kept until done so
        disconnect can cancel it."""
        task = asyncio.ensure_future(send)
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def drain(self) -> None:
        while self.backlog:
            await self.event_ring({"event": self.backlog.popleft()})

    async def deliver_frame(self, frame: str) -> None:
        await self.send(text_data=frame)

    def deliver_rows(self, frame: str) -> None:
        """Incident rows from the listener (encoded once), after the events queued before them."""
        if not getattr(self, "gone", False):
            self.spawn(self.emit_text(frame))

    async def event_ring(self, message: dict) -> None:
        event = message["event"]
        if event["seq"] <= self.cursor:
            return
        if event["seq"] != self.cursor + 1:
            await self.catch_up()  # a gap: read what we missed from the table
            return
        async with self.lock:
            if event["seq"] == self.cursor + 1:
                self.cursor = event["seq"]
                if self.shift_may_change(event):
                    # What a crew receives is its unit's, only while it is on that unit.
                    self.crew_unit_id = await shift_unit_id(self.user)
                if is_event_visible(self.user, event, self.crew_unit_id, self.station_units):
                    await self.emit({"type": "event", "event": event})
                elif hears_doorbell_only(self.user):
                    # The wallboard: only the number, so it reads its figures again.
                    await self.emit({"type": "cursor", "seq": self.cursor})

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_HEARTBEAT_SECONDS)
            try:
                # A crew may have started or ended a shift since it connected, a station
                # screen's units may have changed (one moved to another station).
                refusal, crew_unit, station_units = await socket_check(self.user, self.session_key)
                if refusal is not None:
                    code, reason = refusal
                    await self.send_json({"type": "error", "reason": reason})
                    await self.close(code=code)
                    return
                self.crew_unit_id, self.station_units = crew_unit, station_units
                if self.fanout.owes(self.cursor):
                    # Something the listener handed on did not reach this socket, the listener
                    # has nothing yet, or the table has had more for a heartbeat: read from it.
                    await self.catch_up()
            except Exception:
                log.warning("heartbeat failed; will retry", exc_info=True)
