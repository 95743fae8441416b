"""A local push service speaking the Web Push protocol, for the real pywebpush client to post to.

What a browser vendor's push service checks, this one checks itself (a request that fails is
answered as a push service would, and recorded in `rejected`):
- RFC 8030: a POST to the subscription's endpoint with a TTL header (and Urgency, Topic);
- RFC 8292: `Authorization: vapid t=<JWT>,k=<key>`, the JWT signed ES256 by the key k, k the
  centre's VAPID public key, aud the endpoint's origin, exp in the future and within 24 hours,
  sub a contact;
- RFC 8291/8188: the body is aes128gcm, and decrypts with the subscription's private key and
  auth secret, which only this fake (the "browser") holds: what it decrypts is what a tablet's
  service worker would be handed.
"""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class Browser:
    """One subscribed browser: its endpoint and the keys only it holds."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def keys(self) -> dict[str, str]:
        return {"p256dh": b64url(public_point(self.private_key)), "auth": b64url(self.auth)}

    def subscription(self) -> dict:
        return {"endpoint": self.endpoint, "keys": self.keys}


@dataclass
class FakePushService:
    vapid_public_key: str  # what k must be
    url: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    # token -> statuses to answer before accepting, e.g. [500] or [410]
    answers: dict[str, list[int]] = field(default_factory=dict)
    delivered: list[dict] = field(default_factory=list)  # {"token", "headers", "message"}
    rejected: list[str] = field(default_factory=list)

    def browser(self, token: str | None = None) -> Browser:
        token = token or b64url(os.urandom(12))
        browser = Browser(
            token, f"{self.url}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.browsers[token] = browser
        return browser

    def messages(self, token: str | None = None) -> list[dict]:
        return [d["message"] for d in self.delivered if token is None or d["token"] == token]


def check_vapid(fake: FakePushService, authorization: str, origin: str) -> str:
    """'' when the VAPID header is right, else what is wrong (RFC 8292 §2, §3)."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return f"scheme {scheme!r}"
    parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    if key != fake.vapid_public_key:
        return "k is not the application server key the subscription was made with"
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        raw = unb64url(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as exc:
        return f"JWT: {type(exc).__name__}"
    if header.get("alg") != "ES256" or len(raw) != 64:
        return f"JWT alg {header.get('alg')}"
    if claims.get("aud") != origin:
        return f"aud {claims.get('aud')!r} is not {origin!r}"
    if not time.time() < int(claims.get("exp", 0)) <= time.time() + 24 * 3600:
        return "exp not within the next 24 hours"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        return "sub is no contact"
    return ""


def handler_for(fake: FakePushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def answer(self, status: int, why: str = "") -> None:
            if why:
                fake.rejected.append(why)
            data = why.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            if status == 201:
                self.send_header("Location", f"{fake.url}/message/{len(fake.delivered)}")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            token = self.path.removeprefix("/push/")
            browser = fake.browsers.get(token)
            if not self.path.startswith("/push/") or browser is None:
                return self.answer(404, f"no subscription {self.path}")
            if fake.answers.get(token):
                return self.answer(fake.answers[token].pop(0))
            if not self.headers.get("TTL", "").isdigit():
                return self.answer(400, "TTL missing")
            if self.headers.get("Urgency", "normal") not in ("very-low", "low", "normal", "high"):
                return self.answer(400, "bad Urgency")
            why = check_vapid(fake, self.headers.get("Authorization", ""), fake.url)
            if why:
                return self.answer(403, why)
            if self.headers.get("Content-Encoding") != "aes128gcm":
                return self.answer(400, f"Content-Encoding {self.headers.get('Content-Encoding')}")
            try:
                plain = http_ece.decrypt(
                    body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
                )
            except Exception as exc:  # noqa: BLE001 (any failure to decrypt is the sender's)
                return self.answer(400, f"cannot decrypt: {type(exc).__name__}")
            fake.delivered.append(
                {
                    "token": token,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "message": json.loads(plain),
                }
            )
            self.answer(201)

    return Handler


@pytest.fixture
def fake_push(settings):
    """A running push service; the centre's VAPID keys and http endpoints set for it."""
    vapid = ec.generate_private_key(ec.SECP256R1())
    fake = FakePushService(vapid_public_key=b64url(public_point(vapid)))
    settings.VAPID_PRIVATE_KEY = b64url(vapid.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = fake.vapid_public_key
    settings.VAPID_SUBJECT = "mailto:ops@120.example.cn"
    settings.PUSH_ALLOW_HTTP_ENDPOINTS = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
