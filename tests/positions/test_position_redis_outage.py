"""A Redis outage never breaks fix ingestion: the fix is stored and answered at once, and the
batch that could not be sent goes out once Redis is back."""

import asyncio
import copy
import json
import socket
import time

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from dispatch.core.live import POSITIONS_GROUP

pytestmark = pytest.mark.django_db(transaction=True)


def dead_redis_url() -> str:
    """A loopback port nobody listens on: connections are refused, as when Redis is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_fixes_are_stored_while_redis_is_down_and_reach_consoles_after(world, settings, caplog):
    working = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    broken = copy.deepcopy(working)
    broken["default"]["CONFIG"]["hosts"] = [dead_redis_url()]
    settings.CHANNEL_LAYERS = broken  # channels drops its cached layer on this change

    at = int(timezone.now().timestamp()) + 1
    started = time.monotonic()
    response = Client().get(
        "/api/osmand", {"id": world.als1.tracker_key, "lat": 24.94, "lon": 119.61, "timestamp": at}
    )
    assert time.monotonic() - started < 1.0  # the request never waits for Redis
    assert response.status_code == 200 and response.json()["moved"] is True
    world.als1.refresh_from_db()
    assert world.als1.position.coords == pytest.approx((119.61, 24.94))

    deadline = time.monotonic() + 10
    while "not sent" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "position batch of 1 units not sent" in caplog.text

    async def scenario():
        # A listener in the real Redis before it "comes back", so the retry cannot beat it.
        listener = RedisChannelLayer(**working["default"]["CONFIG"])
        channel = await listener.new_channel()
        await listener.group_add(POSITIONS_GROUP, channel)
        settings.CHANNEL_LAYERS = working  # Redis is back
        try:
            message = await asyncio.wait_for(listener.receive(channel), timeout=5)
        finally:
            await listener.group_discard(POSITIONS_GROUP, channel)
        assert message["type"] == "positions.batch"
        (row,) = [row for row in json.loads(message["frame"])["units"] if row["id"] == world.als1.pk]
        assert (row["lon"], row["lat"]) == (119.61, 24.94)

    asyncio.run(scenario())
