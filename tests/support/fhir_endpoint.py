"""A local HTTP server that plays a hospital's FHIR endpoint: it takes transaction Bundles at its
base URL, answers a transaction-response Bundle, and can be told to fail or to be slow. With
`client` set it also plays the hospital's OAuth 2.0 token URL (client credentials, HTTP Basic)
and refuses a Bundle without one of the tokens it issued (401)."""

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest


@dataclass
class FhirEndpoint:
    url: str = ""
    bundles: list[dict] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    # What to do with the next requests before accepting again: an HTTP status, ("slow", seconds)
    # to answer 200 only after that long, or ("reply", status, body, headers) to answer that.
    script: list = field(default_factory=list)
    requests: int = 0
    # OAuth: (client id, secret) to demand; the tokens issued and still honoured; what was asked.
    client: tuple[str, str] | None = None
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)

    @property
    def token_url(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/token"

    def issue_token(self, form: dict, basic: str) -> tuple[int, dict]:
        self.token_requests.append({**form, "basic": basic})
        expected = base64.b64encode(":".join(self.client).encode()).decode()
        if basic != f"Basic {expected}" or form.get("grant_type") != "client_credentials":
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}


def handler_for(endpoint: FhirEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def reply(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the slow case)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.endswith("/token"):
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self.reply(*endpoint.issue_token(form, self.headers.get("Authorization", "")))
                return
            endpoint.requests += 1
            authorization = self.headers.get("Authorization", "")
            endpoint.authorizations.append(authorization)
            if endpoint.client and authorization.removeprefix("Bearer ") not in endpoint.tokens:
                self.reply(
                    401,
                    {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]},
                )
                return
            body = json.loads(raw)
            step = endpoint.script.pop(0) if endpoint.script else None
            if isinstance(step, tuple) and step[0] == "slow":
                time.sleep(step[1])
            elif isinstance(step, tuple) and step[0] == "reply":
                self.reply(*step[1:])
                return
            elif isinstance(step, int):
                outcome = {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "transient"}],
                }
                self.reply(step, outcome)
                return
            endpoint.bundles.append(body)
            endpoint.content_types.append(self.headers.get("Content-Type", ""))
            answer = {
                "resourceType": "Bundle",
                "id": f"tx-{len(endpoint.bundles)}",
                "type": "transaction-response",
                "entry": [{"response": {"status": "200 OK"}} for _ in body.get("entry", [])],
            }
            self.reply(200, answer)

    return Handler


@pytest.fixture
def fhir_endpoint():
    endpoint = FhirEndpoint()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(endpoint))
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_port}/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    server.server_close()
