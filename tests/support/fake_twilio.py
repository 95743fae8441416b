"""A local HTTP server speaking Twilio's REST API (2010-04-01) for the real twilio client to
talk to: Messages (SMS) and Calls (the crew alert's voice call, calling a missed caller back).
The test points TWILIO_API_BASE_URL at it through one of the fixtures below."""

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

NOT_FOUND = {"code": 20404, "message": "The requested resource was not found", "status": 404}


@dataclass
class FakeTwilio:
    account: str
    token: str
    url: str = ""
    # Every resource created, in order, as posted plus its "sid": SMS ("SM...") and calls ("CA...").
    messages: list[dict] = field(default_factory=list)
    # Statuses to answer with before accepting again, e.g. [503, 503].
    failures: list[int] = field(default_factory=list)
    requests: int = 0
    # Seconds to think before answering (a slow provider, for races).
    delay: float = 0.0

    @property
    def sms(self) -> list[dict]:
        return [m for m in self.messages if m["sid"].startswith("SM")]

    @property
    def calls(self) -> list[dict]:
        return [m for m in self.messages if m["sid"].startswith("CA")]


def message_created(fake: FakeTwilio, form: dict, sid: str) -> dict:
    return {
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
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{fake.account}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{fake.account}/Messages/{sid}.json",
    }


def call_created(fake: FakeTwilio, form: dict, sid: str) -> dict:
    return {
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
    }


def refusal(resource: str, form: dict) -> dict | None:
    """Twilio's 400 for what it would refuse itself: a To not in E.164, a call with nothing to do."""
    if not form.get("To", "").startswith("+"):
        sms = resource == "Messages"
        words = "The 'To' number %s is not valid." if sms else "Invalid 'To' Phone Number: %s"
        return {"code": 21211, "message": words % form.get("To"), "status": 400}
    if resource == "Calls" and not (form.get("Twiml") or form.get("Url")):
        return {"code": 21205, "message": "Url or Twiml is required", "status": 400}
    return None


def handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    resources = {"Messages": ("SM", message_created), "Calls": ("CA", call_created)}

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
            time.sleep(fake.delay)
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = "Basic " + base64.b64encode(f"{fake.account}:{fake.token}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            prefix = f"/2010-04-01/Accounts/{fake.account}/"
            resource = self.path.removeprefix(prefix).removesuffix(".json")
            if not self.path.startswith(prefix) or resource not in resources:
                self.reply(404, NOT_FOUND)
                return
            if fake.failures:
                status = fake.failures.pop(0)
                self.reply(status, {"code": 20500, "message": "Internal Server Error", "status": status})
                return
            if refused := refusal(resource, form):
                self.reply(400, refused)
                return
            sid_prefix, created = resources[resource]
            sid = sid_prefix + uuid.uuid4().hex
            fake.messages.append({**form, "sid": sid})
            self.reply(201, created(fake, form, sid))

    return Handler


def serve(settings):
    from tests.support.calls_helpers import ACCOUNT, TOKEN, twilio_settings

    twilio_settings(settings)
    fake = FakeTwilio(ACCOUNT, TOKEN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_API_BASE_URL = fake.url
    return fake, server


@pytest.fixture
def fake_twilio(settings):
    fake, server = serve(settings)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_twilio_calls(settings):
    """The same fake with Twilio placing the voice calls (VOICE_PROVIDER)."""
    fake, server = serve(settings)
    settings.VOICE_PROVIDER = "twilio"
    yield fake
    server.shutdown()
    server.server_close()
