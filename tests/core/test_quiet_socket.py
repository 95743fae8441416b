"""A console left alone for a while keeps its live socket: over a real daphne and Redis, nothing
but the heartbeat crosses it for 35 s, and the server neither closes it nor logs an error.

The channel layer waits for messages in Redis with a 5 s blocking pop; a Redis client whose
own socket timeout is not longer than that wait raised TimeoutError on every quiet receive,
and daphne closed the socket with 1011 (then the page reconnected, over and over)."""

import asyncio
import time
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.test import Client

from tests.support.browser import Daphne, free_port

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_SECONDS = 35


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def listen_quietly(url: str, cookie: str, seconds: float) -> tuple[list[str], int | None]:
    """Message types received while idle, and the close code if the server closed the socket."""
    kinds: list[str] = []
    headers = {"Cookie": cookie}
    origin = url.replace("ws://", "http://").split("/ws/")[0]  # the page's own address, port and all
    async with websockets.connect(url, additional_headers=headers, origin=origin) as ws:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(ws.recv(), timeout=left)
            except TimeoutError:
                break
            except websockets.ConnectionClosed as closed:
                return kinds, closed.rcvd.code if closed.rcvd else 1006
            kinds.append(message.split('"type": "', 1)[-1].split('"', 1)[0])
    return kinds, None


def errors_in(log: Path, start: int) -> list[str]:
    text = log.read_text(errors="replace")[start:]
    return [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]


def test_an_idle_console_socket_stays_open_and_quiet(world) -> None:
    port = free_port()
    log = Path(settings.BASE_DIR) / "var" / f"browser-daphne-{port}.log"
    start = log.stat().st_size if log.exists() else 0
    server = Daphne(port).start()
    try:
        kinds, closed = asyncio.run(
            listen_quietly(f"ws://127.0.0.1:{port}/ws/live/", session_cookie(world.alice), QUIET_SECONDS)
        )
    finally:
        server.stop()
    assert closed is None, f"the server closed an idle socket with code {closed}"
    # The catch-up's cursor first, then the 10 s heartbeat's: the socket was alive throughout.
    assert kinds.count("cursor") >= 1 + QUIET_SECONDS // 10 - 1, kinds
    assert errors_in(log, start) == []


@pytest.mark.parametrize("sentinels", [[], ["127.0.0.1:26379", "127.0.0.1:26380"]])
def test_both_forms_of_the_layer_wait_longer_than_the_blocking_pop(sentinels: list[str]) -> None:
    """REDIS_URL and the Sentinel form alike: the pool's connections outwait channels_redis's pop."""
    from channels_redis.core import RedisChannelLayer
    from channels_redis.utils import create_pool

    from dispatch import settings as project

    old, project.REDIS_SENTINELS = project.REDIS_SENTINELS, sentinels
    try:
        (host,) = project.channel_layer_hosts()
    finally:
        project.REDIS_SENTINELS = old
    pool = create_pool(host)
    assert pool.connection_kwargs["socket_timeout"] > RedisChannelLayer.brpop_timeout
    assert bool(sentinels) == ("master_name" in host)
