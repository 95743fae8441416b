"""A local HTTP server standing for a PBX's click-to-call endpoint (the request documented in
dispatch/calls/telephony/pbx.py): it keeps what it was asked and answers as told."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.calls_helpers import PBX_SECRET


@dataclass
class FakePbx:
    url: str = ""
    requests: list[dict] = field(default_factory=list)  # {"headers": {...}, "body": {...}}
    # Statuses to answer with before accepting again, e.g. [503].
    failures: list[int] = field(default_factory=list)


def handler_for(fake: FakePbx) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.headers.get("Authorization") != f"Bearer {PBX_SECRET}":
                self.reply(401, {"error": "bad secret"})
                return
            if fake.failures:
                self.reply(fake.failures.pop(0), {"error": "busy"})
                return
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.reply(200, {"call_id": f"pbx-out-{len(fake.requests)}"})

    return Handler


@pytest.fixture
def fake_pbx(settings):
    fake = FakePbx()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/click-to-call"
    settings.PBX_SHARED_SECRET = PBX_SECRET
    settings.PBX_CLICK_TO_CALL_URL = fake.url
    yield fake
    server.shutdown()
    server.server_close()
