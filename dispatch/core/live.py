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

from dispatch.core.events import EVENTS_GROUP, last_seq, serialize_event
from dispatch.core.permissions import crew_unit_id, is_event_visible, receives_positions, visible_events

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
CATCH_UP_LIMIT = 1000


# Every unit's position goes to this group, in batches (dispatch.positions.batches).
POSITIONS_GROUP = "positions"

shift_unit_id = database_sync_to_async(crew_unit_id)


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


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first, then close with a reason: a refusal before accept() reaches the
            # browser as a bare 1006.
            await self.send_json({"type": "error", "reason": "login required"})
            await self.close(code=4401)
            return
        self.user = user
        self.crew_unit_id = await shift_unit_id(user)
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
                if is_event_visible(self.user, event, self.crew_unit_id):
                    await self.send_json({"type": "event", "event": event})

    async def positions_batch(self, message: dict) -> None:
        """Vehicle positions: state, pushed in batches (decision 5, docs/decisions/); only control-room
        sockets are in the positions group (permissions.receives_positions). The frame
        comes encoded, once for every console (dispatch.positions.batches.batch_frame)."""
        await self.send(text_data=message["frame"])

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                # Group membership expires in Redis; re-join, and read anything a lost
                # doorbell did not announce.
                await self.join_groups()
                # A crew may have started or ended a shift since it connected.
                self.crew_unit_id = await shift_unit_id(self.user)
                await self.catch_up()
            except Exception:
                log.warning("heartbeat failed; will retry", exc_info=True)
