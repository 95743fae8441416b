"""Under daphne at most VIEW_CONCURRENCY Django requests run at once in an app process; the others
wait their turn on the event loop in the order they came (dispatch/core/view_gate.py). The
health probe and the trackers' path stand in front of the gate, sockets never pass it."""

import asyncio

from channels.testing import HttpCommunicator
from django.conf import settings

from dispatch import asgi
from dispatch.core.health import HealthProbe
from dispatch.core.view_gate import ViewGate
from dispatch.positions.fast_path import TrackerFastPath


class SlowDjango:
    """An application that takes a while per request and notes how many it serves at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.order: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.order.append(scope["path"])
        await asyncio.sleep(0.05)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})


async def get(app, path: str) -> dict:
    return await HttpCommunicator(app, "GET", path).get_response(timeout=10)


async def burst(app, count: int) -> list[dict]:
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(get(app, f"/api/r{i}")))
        await asyncio.sleep(0)  # each request reaches the gate before the next is sent
    return await asyncio.gather(*tasks)


def test_at_most_the_limit_at_once_every_request_answered_in_order():
    django = SlowDjango()
    responses = asyncio.run(burst(ViewGate(django, limit=3), 12))
    assert [r["status"] for r in responses] == [200] * 12
    assert [r["body"] for r in responses] == [f"/api/r{i}".encode() for i in range(12)]
    assert django.most == 3
    assert django.order == [f"/api/r{i}" for i in range(12)]


def test_no_limit_when_set_to_zero():
    django = SlowDjango()
    asyncio.run(burst(ViewGate(django, limit=0), 8))
    assert django.most == 8


def test_a_gate_full_of_slow_requests_still_lets_the_probe_answer():
    """HAProxy's check reaches a node whose every place is taken by a request that never ends."""
    stuck = asyncio.Event()

    async def stuck_django(scope, receive, send) -> None:
        await stuck.wait()

    async def scenario() -> tuple[dict, bool]:
        app = HealthProbe(ViewGate(stuck_django, limit=2))
        waiting = [asyncio.create_task(get(app, f"/api/r{i}")) for i in range(5)]
        await asyncio.sleep(0.05)
        probe = await get(app, "/healthz")
        still_waiting = not any(task.done() for task in waiting)
        for task in waiting:
            task.cancel()
        return probe, still_waiting

    probe, still_waiting = asyncio.run(scenario())
    assert probe["status"] == 200 and still_waiting


def test_the_app_node_gates_django_behind_the_probe_and_the_trackers_path():
    chain = [type(app) for app in walk(asgi.http_app)]
    assert chain.index(HealthProbe) < chain.index(TrackerFastPath) < chain.index(ViewGate)
    gate = next(a for a in walk(asgi.http_app) if isinstance(a, ViewGate))
    assert gate.limit == settings.VIEW_CONCURRENCY > 0


def walk(app):
    while app is not None:
        yield app
        app = getattr(app, "app", None)
