"""The doorbell (dispatch.core.events.ring_doorbell) rings from any thread a write commits in, also
one that runs an event loop (where async_to_sync refuses to work), and a failed ring is logged,
never raised: the write has committed and screens catch up from the event table."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from dispatch.core.events import EVENTS_GROUP, ring_doorbell


@pytest.fixture
def listener():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(EVENTS_GROUP, channel)
    yield layer, channel
    async_to_sync(layer.group_discard)(EVENTS_GROUP, channel)


def received(layer, channel) -> dict:
    async def one():
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    return asyncio.run(one())


def test_it_rings_from_a_plain_thread(listener):
    ring_doorbell({"seq": 41, "kind": "test"})
    assert received(*listener)["event"]["seq"] == 41


def test_it_rings_from_a_thread_that_runs_an_event_loop(listener):
    async def a_write_inside_a_running_loop():
        ring_doorbell({"seq": 42, "kind": "test"})  # a plain call, as the ORM's on_commit makes it

    asyncio.run(a_write_inside_a_running_loop())
    assert received(*listener)["event"]["seq"] == 42


def test_a_failed_ring_is_logged_not_raised(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        ring_doorbell({"seq": 43, "kind": "test"})
    finally:
        channel_layers.backends.clear()
    assert "doorbell failed for event 43" in caplog.text
