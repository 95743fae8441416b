"""The live socket every screen uses: authenticate, catch up from the log, then forward.

The page renders a snapshot and the sequence number it reflects; the socket sends every
visible event after that number, in order, then new ones as the doorbell rings. A doorbell
that arrives out of order or not at all is covered by reading the table (decision 4, docs/decisions/).
"""

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore

from dispatch.core.events import EVENTS_GROUP, last_seq, serialize_event
from dispatch.core.permissions import (
    crew_unit_id,
    hears_doorbell_only,
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


# Every unit's position goes to this group, in batches (dispatch.positions.batches).
POSITIONS_GROUP = "positions"

shift_unit_id = database_sync_to_async(crew_unit_id)
screen_unit_ids = database_sync_to_async(station_unit_ids)


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


class SessionHolder:
    """What django.contrib.auth.get_user reads: a session, here one loaded by its key."""

    def __init__(self, session_key: str | None) -> None:
        self.session = SessionStore(session_key=session_key)


@database_sync_to_async
def why_not_allowed(user: Any, session_key: str | None) -> tuple[int, str] | None:
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
        self.user = user
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        refusal = await why_not_allowed(user, self.session_key)
        if refusal is not None:
            await self.send_json({"type": "error", "reason": refusal[1]})
            await self.close(code=refusal[0])
            return
        self.crew_unit_id = await shift_unit_id(user)
        self.station_units = await screen_unit_ids(user)
        self.cursor = self.after_from_query()
        self.lock = asyncio.Lock()
        self.groups_joined = [EVENTS_GROUP]
        if receives_positions(user):
            self.groups_joined.append(POSITIONS_GROUP)
        await self.join_groups()
        await self.catch_up()
        self.heartbeat_task = asyncio.create_task(self.heartbeat())

    async def join_groups(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    def after_from_query(self) -> int:
        query = dict(
            part.split("=", 1)
            for part in self.scope.get("query_string", b"").decode().split("&")
            if "=" in part
        )
        try:
            return max(0, int(query.get("after", "0")))
        except ValueError:
            return 0

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "heartbeat_task", None)
        if task:
            task.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": self.cursor})

    async def catch_up(self) -> None:
        async with self.lock:
            events, upto, too_many = await events_after(self.user, self.cursor)
            if too_many:
                await self.send_json({"type": "resync", "seq": upto})
            for event in events:
                await self.send_json({"type": "event", "event": event})
            self.cursor = max(self.cursor, upto)
            await self.send_json({"type": "cursor", "seq": self.cursor})

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
                if self.crew_unit_id is not None and event["unit"] == self.crew_unit_id:
                    # A crew's shift may have ended since the last heartbeat: what it receives
                    # is its unit's, only while it is on that unit.
                    self.crew_unit_id = await shift_unit_id(self.user)
                if is_event_visible(self.user, event, self.crew_unit_id, self.station_units):
                    await self.send_json({"type": "event", "event": event})
                elif hears_doorbell_only(self.user):
                    # The wallboard: only the number, so it reads its figures again.
                    await self.send_json({"type": "cursor", "seq": self.cursor})

    async def positions_batch(self, message: dict) -> None:
        """Vehicle positions: state, pushed in batches (decision 5, docs/decisions/); only control-room
        sockets are in the positions group (permissions.receives_positions). The frame
        comes encoded, once for every console (dispatch.positions.batches.batch_frame)."""
        await self.send(text_data=message["frame"])

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_HEARTBEAT_SECONDS)
            try:
                refusal = await why_not_allowed(self.user, self.session_key)
                if refusal is not None:
                    code, reason = refusal
                    await self.send_json({"type": "error", "reason": reason})
                    await self.close(code=code)
                    return
                # Group membership expires in Redis; re-join, and read anything a lost
                # doorbell did not announce.
                await self.join_groups()
                # A crew may have started or ended a shift since it connected.
                self.crew_unit_id = await shift_unit_id(self.user)
                # A station screen's units may have changed (one moved to another station).
                self.station_units = await screen_unit_ids(self.user)
                await self.catch_up()
            except Exception:
                log.warning("heartbeat failed; will retry", exc_info=True)
