"""A tracker's side of the OsmAnd protocol: fixes as parameters, and requests through the ASGI
application as daphne serves them (the fast path included)."""

import asyncio
import json
from datetime import datetime, timedelta

from channels.testing import HttpCommunicator
from django.utils import timezone

from dispatch.asgi import application
from fleet.models import Unit

LON, LAT = 119.60, 24.932


class TrackerCommunicator(HttpCommunicator):
    """daphne's scope, with the connection's address as daphne gives it."""

    def __init__(self, method: str, path: str, body: bytes, headers: list, client: str | None) -> None:
        super().__init__(application, method, path, body, headers)
        if client is not None:
            self.scope["client"] = [client, 40000]


def call(
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "",
    *,
    client: str | None = None,
    headers: dict[str, str] | None = None,
    raw: bool = False,
):
    """One request through the ASGI application: (status, JSON body), or daphne's whole response
    (status, body bytes, headers) with raw=True. `client` is the connection's address."""
    sent = [(b"host", b"127.0.0.1")]
    if content_type:
        sent.append((b"content-type", content_type.encode()))
    sent += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]

    async def exchange():
        return await TrackerCommunicator(method, path, body, sent, client).get_response(timeout=10)

    response = asyncio.run(exchange())
    if raw:
        return response["status"], response["body"], dict(response["headers"])
    return response["status"], json.loads(response["body"] or b"{}") if response["body"] else {}


URL = "/api/osmand"


DEVICE = "dev-als1"  # T-ALS-1's tracker IMEI in the test world


def key(device: str = DEVICE) -> str:
    """The tracker key of the unit with this IMEI (random: each test world has its own)."""
    return Unit.objects.values_list("tracker_key", flat=True).get(tracker_id=device)


def soon(seconds: float = 0) -> datetime:
    """A whole second just after now, plus `seconds`: the test world's units got their station
    position when they were created, so a fix must be newer than that to move them."""
    return timezone.now().replace(microsecond=0) + timedelta(seconds=1 + seconds)


def fix_params(at: datetime | None = None, **extra) -> dict:
    """What Traccar Client sends (ProtocolFormatter) set up with T-ALS-1's key as its device
    identifier: unix seconds, speed in knots."""
    at = at or soon()
    params = {
        "id": key(),
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
