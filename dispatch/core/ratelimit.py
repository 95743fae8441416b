"""Requests per minute per client on the pages anyone can reach without signing in.

Counted in the app node's own memory, deliberately: the limit must hold while Redis or the
database fails over, and must never be the reason a page fails. With several app nodes each
counts its own share, and HAProxy (ops/ha/haproxy.cfg) enforces the same limits across the
centre in front of them; this one holds when a node is reached directly.

Fixed one-minute windows: a client may make up to twice its limit across a window's edge, which
is still far below what guessing tokens or passwords needs.
"""

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

WINDOW_SECONDS = 60
MOST_CLIENTS = 100_000  # past this many clients in one minute every new one is refused


class Counter:
    """How many requests each key made in the current window."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window = 0
        self.counts: dict[str, int] = {}

    def seconds_to_wait(self, key: str, limit: int, now: float | None = None) -> int:
        """0 if this request may go on (and counts it), else the seconds until the next window."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        with self.lock:
            if window != self.window:
                self.window, self.counts = window, {}
            count = self.counts.get(key, 0)
            if count >= limit or (count == 0 and len(self.counts) >= MOST_CLIENTS):
                return max(1, int((window + 1) * WINDOW_SECONDS - now))
            self.counts[key] = count + 1
            return 0

    def clear(self) -> None:
        with self.lock:
            self.counts = {}


COUNTERS: dict[str, Counter] = {}


def counter(scope: str) -> Counter:
    return COUNTERS.setdefault(scope, Counter())


def client_address(request: HttpRequest) -> str:
    """The client's address: behind HAProxy the hop it appended to X-Forwarded-For (anything
    before it is the client's own word), otherwise the connection's."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def too_many(request: HttpRequest, wait: int) -> HttpResponse:
    message = _("Too many requests: try again in %(seconds)d seconds.") % {"seconds": wait}
    if request.path.startswith("/api/") or request.content_type == "application/json":
        response: HttpResponse = JsonResponse({"error": message, "code": "rate_limited"}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def rate_limited(scope: str, methods: tuple[str, ...] = ("GET", "POST")) -> Callable:
    """Decorates a view: at most settings.RATE_LIMITS_PER_MINUTE[scope] requests a minute in
    `methods` from one client address, then 429 with Retry-After."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return view(request, *args, **kwargs)
            limit = settings.RATE_LIMITS_PER_MINUTE[scope]
            wait = counter(scope).seconds_to_wait(client_address(request), limit)
            if wait:
                return too_many(request, wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate
