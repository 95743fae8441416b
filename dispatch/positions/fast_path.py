"""Trackers' fixes under daphne: /api/osmand and /api/osmand/<key> answered before Django's stack
(a few hundred fixes a second must not each pay for the middleware), read by the same osmand_read
as the django-ninja routes and stored in batches (group commit, GroupCommit below)."""

import asyncio
import json
import logging
import queue
import re
import threading
import time
from concurrent.futures import Future

from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.core.ratelimit import client_address
from dispatch.positions.actions import Outcome, TrackerFix, store_tracker_fixes
from dispatch.positions.api import osmand_read, retry_after, tracker_answer

log = logging.getLogger(__name__)


# The trackers' paths: the key, when the server URL carries it, is the last segment.
OSMAND_PATH = re.compile(r"/api/osmand(?:/([^/]+))?")
MAX_BODY_BYTES = 64 * 1024
# Group commit: a batch takes the fixes that arrive within BATCH_WINDOW_S of its first one (and
# any already waiting), up to BATCH_MAX, and is written by one of BATCH_WRITERS threads while the
# next batch gathers. Two round trips a batch instead of two a fix (ops/bench/avl, docs/targets.md).
# The window is a tenth of a second: a batch's own cost (a connection from the pool, the query,
# the statement) is most of a small batch's, so 20 ms windows of 4 fixes spent a sixth of a
# process's core on 1,000 units; a fix waits at most 0.1 s more, and reaches the consoles in the
# next one-second positions batch either way.
BATCH_WINDOW_S = 0.1
BATCH_MAX = 200
BATCH_WRITERS = 2


class GroupCommit:
    """Trackers' fixes stored in batches, each request answered when its batch has committed.

    A request hands its fix over and waits for its own outcome (a Future, awaited on the event
    loop). The writer threads take turns: one gathers a batch (the window starts at its first
    fix) while another writes the one before, so a busy node makes bigger batches, not a longer
    queue, and a quiet one waits at most the window. Each batch is one call of
    store_tracker_fixes: one query and one statement, whatever its size; a fix refused or
    failing alone answers for itself only. A batch whose database cannot be reached answers
    every fix of it with the error (503): nothing is "stored" before its commit. Thread-based,
    not a task on one event loop, so it serves whatever loop awaits it (daphne's, a test's).
    """

    def __init__(
        self, window: float = BATCH_WINDOW_S, most: int = BATCH_MAX, writers: int = BATCH_WRITERS
    ) -> None:
        self.window, self.most, self.writers = window, most, writers
        self.queue: queue.SimpleQueue[tuple[TrackerFix, Future]] = queue.SimpleQueue()
        self.gathering = threading.Lock()  # one thread gathers at a time
        self.starting = threading.Lock()
        self.threads: list[threading.Thread] = []

    def submit(self, item: TrackerFix) -> "Future[Outcome]":
        future: Future[Outcome] = Future()
        self.queue.put((item, future))
        if len(self.threads) < self.writers or not all(t.is_alive() for t in self.threads):
            self.start()
        return future

    def start(self) -> None:
        with self.starting:
            self.threads = [t for t in self.threads if t.is_alive()]
            while len(self.threads) < self.writers:
                thread = threading.Thread(target=self.run, name="position-writer", daemon=True)
                thread.start()
                self.threads.append(thread)

    def run(self) -> None:
        while True:
            with self.gathering:
                batch = self.gather()
            self.write(batch)

    def gather(self) -> list[tuple[TrackerFix, Future]]:
        batch = [self.queue.get()]
        deadline = time.monotonic() + self.window
        while len(batch) < self.most:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self.queue.get(timeout=remaining) if remaining > 0 else self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def write(self, batch: list[tuple[TrackerFix, Future]]) -> None:
        """One batch, with a request's database hygiene around it: a connection from the pool
        for this batch only, a broken one dropped. Every future gets its outcome, whatever happens."""
        outcomes: list[Outcome]
        try:
            close_old_connections()
            outcomes = store_tracker_fixes([item for item, _future in batch])
        except Exception as exc:  # noqa: BLE001  (answered to every request of the batch)
            outcomes = [exc] * len(batch)
        finally:
            try:
                close_old_connections()
            except Exception:  # noqa: BLE001
                log.warning("closing a writer's connection failed", exc_info=True)
        for (_item, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)


group_commit = GroupCommit()


class TrackerFastPath:
    """ASGI middleware that answers the trackers' path itself and hands everything else on.

    A thousand units every five seconds are the busiest traffic a node serves. Through Django
    each fix cost about 3 ms of the one core a daphne process can use (a thread per request,
    every middleware, two sync/async hops, each measured with ops/bench/avl), and under load the
    hundreds of request threads starved the consoles' socket loop. Here the request is read on
    the loop (osmand_read: no database) and its fix stored by the group commit's writer threads,
    a batch at a time: storing fixes one by one was daphne's first limit (about 300 fixes a
    second, py-spy: 46 to 48% of its samples). Nothing of Django's middleware applies to this path (no
    session, CSRF, locale or host check): trackers carry none of that, and the answer is JSON
    either way. A database error is a 503, which trackers retry (the failover middleware's rule
    for this naturally idempotent path, without its wait). Multipart bodies go through Django.
    """

    def __init__(self, app, writer: GroupCommit | None = None) -> None:
        self.app = app
        self.writer = writer or group_commit

    async def __call__(self, scope, receive, send) -> None:
        matched = OSMAND_PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if matched is None or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
        if content_type == "multipart/form-data":
            return await self.app(scope, receive, send)
        body = await read_body(receive)
        if body is None:
            return await respond(send, 413, {"error": _("Request too large."), "code": "413"})
        query = QueryDict(scope.get("query_string", b"").decode("latin-1"))
        key, address = matched.group(1) or "", scope_address(scope, headers)
        read = osmand_read(query, content_type, body, key=key, address=address)
        if isinstance(read, tuple):
            return await respond(send, *read)
        outcome = await asyncio.wrap_future(self.writer.submit(read))
        await respond(send, *answer_of(outcome))


def scope_address(scope, headers: dict[bytes, bytes]) -> str:
    """The client's address as dispatch.core.ratelimit.client_address reads it from a request
    (BEHIND_PROXY: the hop HAProxy appended to X-Forwarded-For)."""
    request = HttpRequest()
    client = scope.get("client")
    request.META["REMOTE_ADDR"] = client[0] if client else ""
    if b"x-forwarded-for" in headers:
        request.META["HTTP_X_FORWARDED_FOR"] = headers[b"x-forwarded-for"].decode("latin-1")
    return client_address(request)


async def read_body(receive) -> bytes | None:
    """The request body, or None when it is larger than any fix."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body"):
            return body


async def respond(send, status: int, answer: dict) -> None:
    payload = json.dumps(answer, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in retry_after(status).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def answer_of(outcome: Outcome) -> tuple[int, dict]:
    """A stored or refused fix as the route answers it; a database that cannot be reached 503,
    which trackers retry (the failover middleware's rule for this naturally idempotent path,
    without its wait); anything else 500. Neither says "stored"."""
    if not isinstance(outcome, Exception) or isinstance(outcome, ActionError):
        return tracker_answer(outcome)
    if isinstance(outcome, OperationalError | InterfaceError):
        log.warning("tracker fix not stored: database unavailable", exc_info=outcome)
        return 503, {"error": _("The database is switching over; try again."), "code": "database_unavailable"}
    log.error("tracker fix failed", exc_info=outcome)
    return 500, {"error": _("Server error. The request was not applied."), "code": "500"}
