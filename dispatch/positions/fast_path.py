"""Trackers' fixes under daphne: /api/osmand answered before Django's stack (a few hundred fixes
a second must not each pay for the middleware), by the same osmand_answer as the django-ninja
route."""

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import QueryDict
from django.utils.translation import gettext as _

from dispatch.positions.api import osmand_answer

log = logging.getLogger(__name__)


OSMAND_PATH = "/api/osmand"
# Fix work in flight at once per process: the database waits overlap, and the requests beyond
# wait as coroutines, not as runnable threads fighting the consoles for the interpreter.
FAST_PATH_WORKERS = 4
MAX_BODY_BYTES = 64 * 1024


class TrackerFastPath:
    """ASGI middleware that answers the trackers' path itself and hands everything else on.

    A thousand units every five seconds are the busiest traffic a node serves. Through Django
    each fix cost about 3 ms of the one core a daphne process can use (a thread per request,
    every middleware, two sync/async hops, each measured with ops/bench/avl), and under load the
    hundreds of request threads starved the consoles' socket loop. Here the same osmand_answer
    runs in a few worker threads. Nothing of Django's middleware applies to this path (no
    session, CSRF, locale or host check): trackers carry none of that, and the answer is JSON
    either way. A database error is a 503, which trackers retry (the failover middleware's rule
    for this naturally idempotent path, without its wait). Multipart bodies go through Django.
    """

    def __init__(self, app, workers: int = FAST_PATH_WORKERS) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="osmand")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != OSMAND_PATH or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
        if content_type == "multipart/form-data":
            return await self.app(scope, receive, send)
        body = await read_body(receive)
        if body is None:
            return await respond(send, 413, {"error": _("Request too large."), "code": "413"})
        query = QueryDict(scope.get("query_string", b"").decode("latin-1"))
        loop = asyncio.get_running_loop()
        status, answer = await loop.run_in_executor(
            self.executor, answer_in_worker, query, content_type, body
        )
        await respond(send, status, answer)


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
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def answer_in_worker(query: QueryDict, content_type: str, body: bytes) -> tuple[int, dict]:
    """One fix in a worker thread, with a request's database hygiene around it: a connection
    from the pool for this fix only, a broken one dropped."""
    close_old_connections()
    try:
        return osmand_answer(query, content_type, body)
    except (OperationalError, InterfaceError):
        log.warning("tracker fix not stored: database unavailable", exc_info=True)
        return 503, {"error": _("The database is switching over; try again."), "code": "database_unavailable"}
    except Exception:
        log.exception("tracker fix failed")
        return 500, {"error": _("Server error. The request was not applied."), "code": "500"}
    finally:
        close_old_connections()
