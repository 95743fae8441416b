"""Retry a request whose database connection failed during a failover, only when that is safe.

When the PostgreSQL primary dies, the connections to it break and libpq needs a few seconds
(connect_timeout per dead host, then target_session_attrs=read-write) to find the new primary.
A request caught in between fails with OperationalError or InterfaceError. Running it again is
safe only when a second run cannot apply the change twice:

- reads (GET, HEAD, OPTIONS), except the tracker endpoint, which writes on GET;
- writes that carry an idempotency key to an endpoint that honours it (dispatch.core.idempotency:
  a repeat returns the stored answer, and the repeat itself writes, so its commit waits for the
  synchronous standby before anyone is told "done"). The key row's lock also makes two runs of
  the same write wait for each other.

Tracker fixes (OsmAnd) are not retried here: the tracker resends by itself after a 503, and a
fix is stored once however often it arrives (unique unit and fix time, written with ON CONFLICT
DO UPDATE in dispatch.positions.actions, so a repeat's commit also waits for the standby). The
ASGI fast path for trackers in dispatch.positions.api answers most of them before Django's
middleware anyway.

Anything else keeps the usual error handling (a JSON 500 under /api/): nothing is ever retried
that could apply a change twice. A retryable request that still fails when the time is up gets a
503 with Retry-After. The retries happen here, in one place, and nowhere else.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TypeGuard, TypeVar, cast

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse

from dispatch.core.errors import json_error

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints whose writes run through dispatch.core.idempotency.run_once when they carry a key.
KEYED_WRITES = (re.compile(r"^/api/incidents$"), re.compile(r"^/api/crew/"))
# Endpoints that write on GET (trackers): never retried here, see above.
WRITES_ON_GET = (re.compile(r"^/api/osmand(/[^/]+)?$"),)
# At most 1 s between attempts: the new primary is found within a second of its promotion.
FIRST_DELAY, MAX_DELAY = 0.25, 1.0


def retry_seconds() -> float:
    """How long one request may keep trying; a little less than HAProxy's server timeout."""
    return float(getattr(settings, "FAILOVER_RETRY_SECONDS", 10))


def has_key(request: HttpRequest) -> bool:
    if request.headers.get("Idempotency-Key", "").strip():
        return True
    # The crew tablet may put the key in the body instead (dispatch.crew.writes.tablet_key).
    return request.content_type == "application/json" and b'"idempotency_key"' in request.body


def is_safe_to_retry(request: HttpRequest) -> bool:
    path = request.path
    if any(p.match(path) for p in WRITES_ON_GET):
        return False
    if request.method in SAFE_METHODS:
        return True
    return has_key(request) and any(p.match(path) for p in KEYED_WRITES)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


T = TypeVar("T")


def read_with_retries(read: Callable[[], T]) -> T:
    """A read a middleware makes before any view runs (who is signed in, which second factor):
    retried on a fresh connection like a safe request, for any request, since nothing has been
    written yet. Raises the last connection error when the time is up."""
    deadline = time.monotonic() + retry_seconds()
    delay = FIRST_DELAY
    while True:
        try:
            return read()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.info("retrying a read before the view: %s", exc)
            discard_connection()
            time.sleep(delay)
            delay = min(MAX_DELAY, delay * 2)


def unavailable() -> HttpResponse:
    response = json_error(503, "The database is switching over; try again.", "database_unavailable")
    response["Retry-After"] = "2"
    return response


class RetriedRequest(HttpRequest):
    """A request FailoverRetryMiddleware is retrying: each attempt starts with failover_error
    None, and process_exception records the attempt's database error there. Other requests never
    carry the attribute, which is how process_exception tells them apart (is_retried)."""

    failover_error: BaseException | None


def is_retried(request: HttpRequest) -> TypeGuard[RetriedRequest]:
    return hasattr(request, "failover_error")


class FailoverRetryMiddleware:
    """Last in MIDDLEWARE, so its process_exception sees a view's database error before the
    JSON error middleware turns it into a 500."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_safe_to_retry(request):
            return self.get_response(request)
        # It becomes a RetriedRequest here: with_retries sets failover_error before each attempt.
        return self.with_retries(cast(RetriedRequest, request))

    def with_retries(self, request: RetriedRequest) -> HttpResponse:
        request.body  # noqa: B018  (read once now: a retry must see the same body)
        deadline = time.monotonic() + retry_seconds()
        delay = FIRST_DELAY
        attempt = 1
        while True:
            request.failover_error = None
            response = self.get_response(request)
            if request.failover_error is None:
                return response
            if time.monotonic() + delay > deadline:
                log.warning("gave up on %s %s after %d attempts", request.method, request.path, attempt)
                return response
            log.info(
                "retrying %s %s (attempt %d): %s",
                request.method,
                request.path,
                attempt + 1,
                request.failover_error,
            )
            discard_connection()
            time.sleep(delay)
            delay = min(MAX_DELAY, delay * 2)
            attempt += 1

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Only requests we may retry: the others keep the usual error handling.
        if not is_connection_error(exception) or not is_retried(request):
            return None
        request.failover_error = exception  # __call__ decides whether to try again
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        return unavailable()


_checking = threading.Lock()


def discard_connection() -> None:
    """Drop this thread's broken connection, so the next attempt gets a fresh one. With Django's
    psycopg pool, also test the pool's idle connections: after a primary dies they are all dead,
    and the pool would otherwise hand them out one by one, each costing an attempt."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001  (it is broken; closing it may fail too)
        log.debug("closing the broken connection failed", exc_info=True)
    # django-stubs 5.2 lacks the PostgreSQL DatabaseWrapper's `pool` property (Django 5.1+).
    pool = connection.pool  # type: ignore[attr-defined]
    if pool is None or not _checking.acquire(blocking=False):
        return  # no pool, or another request is already checking it
    try:
        pool.check()  # dead connections are dropped and replaced in the background
    except Exception:  # noqa: BLE001  (the database may still be down: the next attempt tells)
        log.debug("checking the pool failed", exc_info=True)
    finally:
        _checking.release()
