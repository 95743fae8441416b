"""The access log keeps no location-link token, tracker identifier, phone number or query string,
for every path the application serves (the trackers' fast path included), and still says who
asked for what shape of path and how it was answered."""

import asyncio
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest
from channels.testing import HttpCommunicator
from django.conf import settings

from dispatch.asgi import application
from dispatch.core.access_log import scrubbed
from tests.support.browser import free_port
from tests.support.browser import test_database_url as database_url

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
import cluster  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

IMEI = "867530912345678"
PHONE = "13812345678"
TOKEN = "Zx8-secret-link-token"


def served(path: str, query: bytes = b"") -> int:
    return asyncio.run(exchange(path, query))


async def exchange(path: str, query: bytes) -> int:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"testserver")])
    communicator.scope["query_string"] = query
    communicator.scope["client"] = ("10.20.30.40", 5555)
    communicator.scope["server"] = ("testserver", 80)
    response = await communicator.get_response(timeout=20)
    return response["status"]


def test_tokens_identifiers_and_numbers_stay_out_of_the_log(caplog):
    caplog.set_level(logging.INFO, logger="dispatch.access")
    statuses = [
        served(f"/l/{TOKEN}"),
        served("/api/osmand", f"id={IMEI}&lat=24.95&lon=119.60&timestamp=1".encode()),
        served(f"/api/calls/{PHONE}", f"q={PHONE}".encode()),
        served("/healthz", b"from=13900000000"),
    ]
    lines = [record.getMessage() for record in caplog.records if record.name == "dispatch.access"]
    assert len(lines) == 4, lines
    text = "\n".join(lines)
    for secret in (TOKEN, IMEI, PHONE, "13900000000", "lat=", "24.95", "?"):
        assert secret not in text
    assert lines[0].startswith('10.20.30.40 "GET /l/[secret]" 410 ')
    assert lines[1].startswith(f'10.20.30.40 "GET /api/osmand" {statuses[1]} ')
    assert '"GET /api/calls/[number]"' in lines[2]
    assert lines[3].startswith('10.20.30.40 "GET /healthz" 200 ') and lines[3].endswith("ms")


def test_the_scrubbing_rules():
    assert scrubbed("/l/abc/def") == "/l/[secret]/def"
    assert scrubbed(f"/api/osmand/{TOKEN}") == "/api/osmand/[secret]"
    assert scrubbed("/api/incidents/1234/notes") == "/api/incidents/1234/notes"  # ids stay
    assert scrubbed("/api/x/+8613812345678") == "/api/x/[number]"


def test_app_nodes_run_daphne_with_its_own_access_log_off():
    """daphne logs every path to standard output unless told otherwise; the app nodes the
    cluster starts (ops/ha/cluster.py) must not, or tokens would reach their logs."""
    port = free_port()
    argv = cluster.daphne_argv(port)
    env = {**os.environ, "DATABASE_URL": database_url(), "DB_POOL": "0"}
    server = subprocess.Popen(
        argv, env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/l/{TOKEN}", timeout=5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Listening on TCP address" in output  # daphne ran and its output was captured
    assert TOKEN not in output
    assert " - - [" not in output  # daphne's own line: 127.0.0.1:41234 - - [06/Dec/2026:10:00:00] "GET ...'
    assert '"GET /l/[secret]" 410' in output  # ours, scrubbed
