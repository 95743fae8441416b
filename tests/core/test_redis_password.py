"""Redis answers only with its password: the channel layer's URL carries one, a client without
it is refused, and the live layer works with it."""

import socket
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings


def ask(host: str, port: int, *commands: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=3) as sock:
        for command in commands:
            sock.sendall(command)
        return sock.recv(256)


def test_redis_refuses_a_client_without_the_password():
    url = urlsplit(settings.REDIS_URL)
    assert url.password, "REDIS_URL has no password: Redis is open to anyone who reaches it"
    assert ask(url.hostname, url.port, b"PING\r\n").startswith(b"-NOAUTH")
    assert ask(url.hostname, url.port, b"AUTH wrong-password\r\n").startswith(b"-WRONGPASS")
    assert ask(url.hostname, url.port, f"AUTH {url.password}\r\n".encode()) == b"+OK\r\n"


def test_the_channel_layer_uses_it():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "ping"})
    assert async_to_sync(layer.receive)(channel) == {"type": "ping"}
