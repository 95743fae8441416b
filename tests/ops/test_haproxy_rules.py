"""The HAProxy configuration the cluster runs (ops/ha/templates/haproxy.cfg), in a real HAProxy in
front of a server that echoes what reached it: what a client says of its own address is dropped
and HAProxy's hop is what the app sees, and the public paths are limited per client address."""

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
from cluster import app_server_lines, render  # noqa: E402

from tests.support.ports import free_ports  # noqa: E402

RATES = {"sign_in_per_minute": 3, "location_link_per_minute": 4, "tracker_per_minute": 6}


class Echo(BaseHTTPRequestHandler):
    def answer(self) -> None:
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    binary = shutil.which("haproxy")
    if not binary:
        pytest.skip("needs Debian's haproxy (ops/local/bootstrap.sh installs it)")
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    (port,) = free_ports(1)
    home = tmp_path_factory.mktemp("haproxy")
    server = app_server_lines([("app1", backend.server_address[1])])
    config = render(
        "haproxy.cfg", home / "haproxy.cfg", dir=home, host="127.0.0.1", port=port, servers=server, **RATES
    )
    process = subprocess.Popen(
        [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while status(url + "/healthz") != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"haproxy did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    backend.shutdown()


def request(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict]:
    data = b"username=x&password=y" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


def status(url: str, method: str = "GET") -> int:
    return request(url, method)[0]


def test_a_clients_own_forwarded_headers_are_replaced_by_haproxys(proxy):
    code, seen = request(
        proxy + "/console/",
        headers={
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
        },
    )
    assert code == 200
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"].startswith("127.0.0.1:")


@pytest.mark.parametrize(
    ("path", "method", "limit"),
    [("/login/", "POST", 3), ("/l/abc", "GET", 4), ("/api/osmand?id=1", "GET", 6)],
)
def test_public_paths_answer_429_past_their_rate(proxy, path, method, limit):
    answers = [status(proxy + path, method) for _ in range(limit + 2)]
    assert answers[:limit] == [200] * limit
    assert answers[limit:] == [429, 429]


def test_a_key_in_the_trackers_path_is_limited_as_a_tracker(proxy):
    """The tracker key may be the last segment of the server URL (/api/osmand/<key>)."""
    answers = [
        status(proxy + "/api/osmand/k3y?lat=1", "POST") for _ in range(RATES["tracker_per_minute"] + 2)
    ]
    assert answers[-2:] == [429, 429]


def test_the_sign_in_forms_page_and_signed_in_pages_are_not_limited(proxy):
    assert [status(proxy + "/login/") for _ in range(8)] == [200] * 8
    assert [status(proxy + "/api/incidents") for _ in range(8)] == [200] * 8
