"""A tracker's side of the OsmAnd protocol: fixes as parameters, and requests through the ASGI
application as daphne serves them (the fast path included)."""

import asyncio
import json
from datetime import datetime, timedelta

from channels.testing import HttpCommunicator
from django.utils import timezone

from dispatch.asgi import application

LON, LAT = 119.60, 24.932


def call(method: str, path: str, body: bytes = b"", content_type: str = "") -> tuple[int, dict]:
    headers = [(b"host", b"127.0.0.1")]
    if content_type:
        headers.append((b"content-type", content_type.encode()))

    async def exchange():
        response = await HttpCommunicator(application, method, path, body, headers).get_response(timeout=10)
        return response["status"], response

    status, response = asyncio.run(exchange())
    return status, json.loads(response["body"] or b"{}") if response["body"] else {}


URL = "/api/osmand"


DEVICE = "dev-als1"  # bound to T-ALS-1 by the test world


def soon(seconds: float = 0) -> datetime:
    """A whole second just after now, plus `seconds`: the test world's units got their station
    position when they were created, so a fix must be newer than that to move them."""
    return timezone.now().replace(microsecond=0) + timedelta(seconds=1 + seconds)


def fix_params(at: datetime | None = None, **extra) -> dict:
    """What Traccar Client sends (ProtocolFormatter): unix seconds, speed in knots."""
    at = at or soon()
    params = {
        "id": DEVICE,
        "timestamp": str(int(at.timestamp())),
        "lat": str(LAT),
        "lon": str(LON),
        "speed": "10.0",
        "bearing": "90.0",
        "altitude": "12.0",
        "accuracy": "8.0",
        "batt": "77.0",
    }
    params.update({k: str(v) for k, v in extra.items()})
    return params
