"""A live socket opens only from a page of this very site: the Origin must name the host and the
port the browser connected to. Another program on the same host (another port) cannot borrow a
user's session cookie to read the live feed."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from dispatch.asgi import application
from dispatch.core.origin import same_origin
from tests.support.live_sockets import session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def scope(origin: str, host: str) -> dict:
    return {"headers": [(b"origin", origin.encode()), (b"host", host.encode())]}


@pytest.mark.parametrize(
    "origin, host, allowed",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),  # another port: another program
        ("http://127.0.0.1", "127.0.0.1:8000", False),
        ("http://localhost:8000", "127.0.0.1:8000", False),
        ("https://localhost", "localhost", True),  # behind a TLS proxy: both mean 443
        ("http://localhost", "localhost", True),
        ("https://localhost", "localhost:80", False),
        ("http://evil.example:8000", "evil.example:8000", False),  # not an allowed host
        ("", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
    ],
)
def test_the_origin_must_be_this_site(origin, host, allowed):
    assert same_origin(scope(origin, host)) is allowed


def test_a_socket_from_another_port_is_refused_and_one_from_the_site_accepted(world):
    async def attempt(origin: bytes, host: bytes) -> bool:
        cookie = [h for h in await sync_to_async(session_headers)(world.alice) if h[0] == b"cookie"]
        socket = WebsocketCommunicator(
            application, "/ws/live/", headers=[*cookie, (b"origin", origin), (b"host", host)]
        )
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert asyncio.run(attempt(b"http://127.0.0.1:9000", b"127.0.0.1:9000")) is True
    assert asyncio.run(attempt(b"http://127.0.0.1:9001", b"127.0.0.1:9000")) is False
