"""Trackers' fixes under daphne: /api/osmand and /api/osmand/<key> answered before Django's stack
(a few hundred fixes a second must not each pay for the middleware), by the same osmand_answer as
the django-ninja routes."""

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor

from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from dispatch.core.ratelimit import client_address
from dispatch.positions.api import osmand_answer, retry_after

log = logging.getLogger(__name__)


# The trackers' paths: the key, when the server URL carries it, is the last segment.
OSMAND_PATH = re.compile(r"/api/osmand(?:/([^/]+))?")
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
        loop = asyncio.get_running_loop()
        key, address = matched.group(1) or "", scope_address(scope, headers)
        status, answer = await loop.run_in_executor(
            self.executor, answer_in_worker, query, content_type, body, key, address
        )
        await respond(send, status, answer)


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


def answer_in_worker(
    query: QueryDict, content_type: str, body: bytes, key: str = "", address: str = ""
) -> tuple[int, dict]:
    """One fix in a worker thread, with a request's database hygiene around it: a connection
    from the pool for this fix only, a broken one dropped."""
    close_old_connections()
    try:
        return osmand_answer(query, content_type, body, key=key, address=address)
    except (OperationalError, InterfaceError):
        log.warning("tracker fix not stored: database unavailable", exc_info=True)
        return 503, {"error": _("The database is switching over; try again."), "code": "database_unavailable"}
    except Exception:
        log.exception("tracker fix failed")
        return 500, {"error": _("Server error. The request was not applied."), "code": "500"}
    finally:
        close_old_connections()
