"""Under daphne at most VIEW_CONCURRENCY Django requests run at once in an app process; the others
wait their turn on the event loop in the order they came, the reports behind the rest and on at
most half the places (dispatch/core/view_gate.py). The health probe and the trackers' path stand
in front of the gate, sockets never pass it."""

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
        self.reports_inside = 0
        self.most_reports = 0
        self.order: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        report = scope["path"].startswith("/api/reports")
        self.inside += 1
        self.reports_inside += report
        self.most = max(self.most, self.inside)
        self.most_reports = max(self.most_reports, self.reports_inside)
        self.order.append(scope["path"])
        await asyncio.sleep(0.05)
        self.inside -= 1
        self.reports_inside -= report
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})


async def get(app, path: str) -> dict:
    return await HttpCommunicator(app, "GET", path).get_response(timeout=10)


async def burst(app, count: int, paths: list[str] | None = None) -> list[dict]:
    tasks = []
    for path in paths or [f"/api/r{i}" for i in range(count)]:
        tasks.append(asyncio.create_task(get(app, path)))
        await asyncio.sleep(0)  # each request reaches the gate before the next is sent
    return await asyncio.gather(*tasks)


def test_at_most_the_limit_at_once_every_request_answered_in_order():
    django = SlowDjango()
    responses = asyncio.run(burst(ViewGate(django, limit=3), 12))
    assert [r["status"] for r in responses] == [200] * 12
    assert [r["body"] for r in responses] == [f"/api/r{i}".encode() for i in range(12)]
    assert django.most == 3
    assert django.order == [f"/api/r{i}" for i in range(12)]


def test_the_reports_wait_behind_the_calls_in_hand_on_half_the_places():
    """The director's year page (nine requests) sent just before five dispatchers' requests: at
    most two of the four places are the reports', and every console request is served before
    the reports still waiting."""
    django = SlowDjango()
    reports = [f"/api/reports/r{i}" for i in range(9)]
    console = [f"/api/incidents/c{i}" for i in range(5)]
    responses = asyncio.run(burst(ViewGate(django, limit=4), 0, reports + console))
    assert [r["status"] for r in responses] == [200] * 14
    assert django.most == 4 and django.most_reports == 2
    last_console = max(django.order.index(path) for path in console)
    assert last_console < len(django.order) - 5  # five reports or more were still to come
    assert [p for p in django.order if p in reports] == reports  # in order among themselves


def test_a_busy_node_still_serves_a_report_every_fourth_place():
    """Console requests keep coming; the report behind them gets the fourth place freed, not
    the last."""
    django = SlowDjango()
    console = [f"/api/incidents/c{i}" for i in range(14)]
    paths = console[:2] + ["/api/reports/summary"] + console[2:]
    responses = asyncio.run(burst(ViewGate(django, limit=2), 0, paths))
    assert [r["status"] for r in responses] == [200] * 15
    assert django.order.index("/api/reports/summary") == 3
    assert django.order[-1] == console[-1]


def test_a_request_gone_while_waiting_gives_no_place_away():
    """A client that hangs up while waiting is dropped from the line; every place comes back."""
    django = SlowDjango()
    gate = ViewGate(django, limit=1)

    async def scenario() -> tuple[list[dict], tuple]:
        first = asyncio.create_task(get(gate, "/api/first"))
        await asyncio.sleep(0.01)
        gone = HttpCommunicator(gate, "GET", "/api/gone")  # its application starts at once
        await asyncio.sleep(0.01)
        gone.future.cancel()  # as daphne does when the client is gone
        rest = await burst(gate, 3)
        places = gate.places.here()
        return [await first, *rest], (places.free, [list(line) for line in places.waiting.values()])

    responses, (free, waiting) = asyncio.run(scenario())
    assert [r["status"] for r in responses] == [200] * 4
    assert "/api/gone" not in django.order and django.most == 1
    assert (free, waiting) == (1, [[], []])


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
