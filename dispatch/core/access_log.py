"""The access log: one line per HTTP request, written by us rather than daphne, so that it keeps
nothing a log reader should not have. Query strings are never written (trackers' identifiers,
coordinates, phone numbers and search words travel there), nor are the secrets some paths carry
(a location link's token, a tracker's key), nor long runs of digits (a phone number or an IMEI in
any other path). What stays is enough to follow traffic and errors: time, client, method, the
path's shape, status, size and duration.

It wraps the whole HTTP application (dispatch/asgi.py), the trackers' fast path included; the
`dispatch.access` logger's handler is set in settings.LOGGING (ACCESS_LOG_FILE). Django's own
log lines name paths too ("Gone: /l/<token>", "Not Found: /api/osmand/<key>"): the
ScrubbedPaths filter on the other handlers gives them the same treatment.
"""

import logging
import re
import time

logger = logging.getLogger("dispatch.access")

SECRET_SEGMENTS = re.compile(r"^/(l|api/osmand)/[^/]+")
LONG_DIGITS = re.compile(r"\+?\d{7,}")


def scrubbed(path: str) -> str:
    """The request's path with what identifies a person or a device replaced."""
    path = SECRET_SEGMENTS.sub(lambda m: f"/{m.group(1)}/[secret]", path)
    return LONG_DIGITS.sub("[number]", path)


class ScrubbedPaths(logging.Filter):
    """For every handler but the access log's: a path given to a log line as an argument (Django
    logs 4xx and 5xx answers as "%s: %s" with the path) is written scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                scrubbed(arg) if isinstance(arg, str) and arg.startswith("/") else arg for arg in record.args
            )
        return True


class AccessLog:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        seen = {"status": 0, "bytes": 0}

        async def counted(message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            client = (scope.get("client") or ("-", 0))[0]
            logger.info(
                '%s "%s %s" %s %s %.0fms',
                client,
                scope.get("method", "-"),
                scrubbed(scope.get("path", "")),
                seen["status"] or "-",
                seen["bytes"],
                (time.monotonic() - started) * 1000,
            )
