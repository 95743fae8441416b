"""A live socket opens only from a page of this very site.

Channels' AllowedHostsOriginValidator checks the Origin's host name against ALLOWED_HOSTS but
ignores its port, so a page served by another program on the same host (another port) could
open a socket with the user's session cookie. Here the Origin must be the address the browser
connected to: the same host and the same port as the request's Host header (behind a TLS proxy,
`https://120.example.cn` and Host `120.example.cn` agree on 443), and that host an allowed one.
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def same_origin(scope: dict[str, Any]) -> bool:
    origin, host = header(scope, b"origin"), header(scope, b"host")
    if not origin or not host:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return False
    origin_port = str(parts.port or DEFAULT_PORTS[parts.scheme])
    host_name, host_port = split_domain_port(host)
    if not host_name or not validate_host(host_name, settings.ALLOWED_HOSTS):
        return False
    return parts.hostname == host_name and origin_port == (host_port or DEFAULT_PORTS[parts.scheme])


class SameOriginValidator:
    """ASGI middleware for the socket routes: refuse (before accept) a socket from elsewhere."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
