"""A local HTTP server speaking Twilio's Messages REST API (2010-04-01), for the real twilio
client to talk to: the test points TWILIO_API_BASE_URL at it."""

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest


@dataclass
class FakeTwilio:
    account: str
    token: str
    url: str = ""
    messages: list[dict] = field(default_factory=list)
    # Statuses to answer with before accepting again, e.g. [503, 503].
    failures: list[int] = field(default_factory=list)
    requests: int = 0


def handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
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
            fake.requests += 1
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = "Basic " + base64.b64encode(f"{fake.account}:{fake.token}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if self.path != f"/2010-04-01/Accounts/{fake.account}/Messages.json":
                self.reply(
                    404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
                )
                return
            if fake.failures:
                status = fake.failures.pop(0)
                self.reply(status, {"code": 20500, "message": "Internal Server Error", "status": status})
                return
            if not form.get("To", "").startswith("+"):
                self.reply(
                    400,
                    {
                        "code": 21211,
                        "message": f"The 'To' number {form.get('To')} is not valid.",
                        "status": 400,
                    },
                )
                return
            sid = "SM" + uuid.uuid4().hex
            fake.messages.append({**form, "sid": sid})
            self.reply(
                201,
                {
                    "account_sid": fake.account,
                    "api_version": "2010-04-01",
                    "body": form.get("Body", ""),
                    "date_created": "Tue, 01 Dec 2026 05:00:00 +0000",
                    "date_sent": None,
                    "date_updated": "Tue, 01 Dec 2026 05:00:00 +0000",
                    "direction": "outbound-api",
                    "error_code": None,
                    "error_message": None,
                    "from": form.get("From"),
                    "messaging_service_sid": None,
                    "num_media": "0",
                    "num_segments": "1",
                    "price": None,
                    "price_unit": "USD",
                    "sid": sid,
                    "status": "queued",
                    "subresource_uris": {
                        "media": f"/2010-04-01/Accounts/{fake.account}/Messages/{sid}/Media.json"
                    },
                    "to": form.get("To"),
                    "uri": f"/2010-04-01/Accounts/{fake.account}/Messages/{sid}.json",
                },
            )

    return Handler


@pytest.fixture
def fake_twilio(settings):
    from tests.support.calls_helpers import ACCOUNT, TOKEN, twilio_settings

    twilio_settings(settings)
    fake = FakeTwilio(ACCOUNT, TOKEN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_API_BASE_URL = fake.url
    yield fake
    server.shutdown()
    server.server_close()
