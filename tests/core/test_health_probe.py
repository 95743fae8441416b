"""Under daphne, /healthz is answered on the event loop before Django's stack (dispatch/core/health.py),
so HAProxy's check of a node that is busy with request work still gets its answer at once."""

import asyncio
import json
import time

from channels.testing import HttpCommunicator

from dispatch.asgi import application
from dispatch.core.health import HealthProbe


async def request(app, method: str, path: str) -> dict:
    return await HttpCommunicator(app, method, path, headers=[(b"host", b"127.0.0.1")]).get_response(
        timeout=5
    )


def test_the_probe_answers_like_the_view_without_django():
    response = asyncio.run(request(application, "GET", "/healthz"))
    assert response["status"] == 200 and json.loads(response["body"]) == {"status": "ok"}
    headers = dict(response["headers"])
    assert headers[b"content-type"] == b"application/json" and headers[b"cache-control"] == b"no-store"
    head = asyncio.run(request(application, "HEAD", "/healthz"))
    assert head["status"] == 200 and head["body"] == b""


def test_the_probe_does_not_wait_for_request_work():
    """Every other request stuck in the application behind it: the probe still answers."""
    stuck = asyncio.Event()

    async def busy_app(scope, receive, send):
        await stuck.wait()  # never set: a node whose request work is all queued

    async def scenario():
        app = HealthProbe(busy_app)
        waiting = asyncio.create_task(request(app, "GET", "/api/units"))
        started = time.monotonic()
        response = await request(app, "GET", "/healthz")
        took = time.monotonic() - started
        assert not waiting.done()
        waiting.cancel()
        return response, took

    response, took = asyncio.run(scenario())
    assert response["status"] == 200 and took < 1.0


def test_other_methods_and_paths_go_on_to_django():
    passed = []

    async def app(scope, receive, send):
        passed.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    for method, path in (("POST", "/healthz"), ("GET", "/healthz/"), ("GET", "/api/units")):
        assert asyncio.run(request(HealthProbe(app), method, path))["status"] == 204
    assert passed == [("POST", "/healthz"), ("GET", "/healthz/"), ("GET", "/api/units")]
