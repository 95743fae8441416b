"""The health probe under daphne: `/healthz` answered on the event loop, before Django's stack.

HAProxy checks every app node on /healthz (ops/ha/templates/haproxy.cfg) and takes a node that
fails it out of the rotation, cutting its sessions. Through Django the probe waited like any
request: its own thread, every middleware, and the interpreter shared with hundreds of busy
request threads, so a node that was only busy (the surge bench, ops/bench/surge) missed its
checks and was evicted with its consoles' sockets. Here it costs one turn of the event loop that
also carries every socket: a node whose loop turns is alive and serving, one whose loop is stuck
(killed, frozen, wedged) does not answer. Like the view (dispatch/core/views.py, still the answer
under WSGI and the test client) it never touches the database, or a database failover would mark
every app node down at once.
"""

import json

PATH = "/healthz"
BODY = json.dumps({"status": "ok"}).encode()


class HealthProbe:
    """ASGI middleware that answers GET and HEAD /healthz itself and hands everything else on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else BODY})
