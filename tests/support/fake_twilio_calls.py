"""A local HTTP server speaking Twilio's Calls REST API (2010-04-01), for the real twilio client
to place the crew alert's voice calls against: the test points TWILIO_API_BASE_URL at it.
Shares the Messages fake's account, token and settings (tests/support/fake_twilio.py)."""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.support.fake_twilio import FakeTwilio


def calls_handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
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
            if self.path != f"/2010-04-01/Accounts/{fake.account}/Calls.json":
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
                    {"code": 21211, "message": f"Invalid 'To' Phone Number: {form.get('To')}", "status": 400},
                )
                return
            if not (form.get("Twiml") or form.get("Url")):
                self.reply(400, {"code": 21205, "message": "Url or Twiml is required", "status": 400})
                return
            sid = "CA" + uuid.uuid4().hex
            fake.messages.append({**form, "sid": sid})
            self.reply(
                201,
                {
                    "account_sid": fake.account,
                    "api_version": "2010-04-01",
                    "date_created": None,
                    "date_updated": None,
                    "direction": "outbound-api",
                    "from": form.get("From"),
                    "from_formatted": form.get("From"),
                    "sid": sid,
                    "status": "queued",
                    "to": form.get("To"),
                    "to_formatted": form.get("To"),
                    "uri": f"/2010-04-01/Accounts/{fake.account}/Calls/{sid}.json",
                },
            )

    return Handler


@pytest.fixture
def fake_twilio_calls(settings):
    from tests.support.calls_helpers import ACCOUNT, TOKEN, twilio_settings

    twilio_settings(settings)
    settings.VOICE_PROVIDER = "twilio"
    fake = FakeTwilio(ACCOUNT, TOKEN)  # .messages holds the calls placed
    server = ThreadingHTTPServer(("127.0.0.1", 0), calls_handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_API_BASE_URL = fake.url
    yield fake
    server.shutdown()
    server.server_close()
