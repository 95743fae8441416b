"""Shared by the call tests: genuinely signed Twilio webhooks and PBX posts."""

import json
import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Outbox

TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "0" * 32
PBX_SECRET = "pbx-shared-secret-for-tests"


def twilio_settings(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.PUBLIC_BASE_URL = ""


def twilio_post(
    path: str,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    token: str = TOKEN,
    signature: str | None = None,
    client: Client | None = None,
    **headers: str,
):
    """POST form-encoded as Twilio does, signed with the twilio library's own signing over
    `signed_url` (the URL Twilio requested; by default the test server's)."""
    url = signed_url or f"http://testserver{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    if signature:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return (client or Client()).post(
        path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def incoming(call_sid: str, caller: str = "+8613912345678", status: str = "ringing", **extra: str) -> dict:
    return {
        "AccountSid": ACCOUNT,
        "CallSid": call_sid,
        "From": caller,
        "To": "+8659112000",
        "CallStatus": status,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def pbx_post(body: dict | str, secret: str | None = PBX_SECRET, client: Client | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret is not None else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return (client or Client()).post(
        "/api/telephony/pbx/events", data, content_type="application/json", **headers
    )


def off_loop(function, *args, **kwargs):
    """Run an action in a thread of its own. In browser tests Playwright keeps an event loop
    running in the test's thread, where the doorbell's async_to_sync refuses to run (screens
    would then only catch up on their 10 s heartbeat)."""
    import threading

    from django.db import connection

    result: dict = {}

    def run() -> None:
        try:
            result["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the test's thread
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture(scope="module")
def migrated_data_back(django_db_blocker):
    """Transactional tests end with a flush, which also empties what data migrations wrote (the
    default triage protocols). Put it back once this module is done, so later tests see the
    database as migrations left it."""
    yield
    import importlib

    from django.apps import apps

    defaults = importlib.import_module("dispatch.migrations.0005_default_triage_protocols")
    with django_db_blocker.unblock():
        defaults.load_defaults(apps, None)


def taken_call(world):
    call = record_call_event(
        CallEvent("pbx", "c1", CallEventKind.RINGING, timezone.now(), caller="+8613912345678")
    )
    take_call(call, actor=world.alice)
    return call


def send_link(world, call) -> str:
    client = Client()
    client.force_login(world.alice)
    response = client.post(f"/api/calls/{call.pk}/location-link")
    assert response.status_code == 201, response.content
    sms = Outbox.objects.get(channel="sms")
    assert sms.recipient == "+8613912345678"
    return re.search(r"http://testserver(/l/\S+)", sms.payload["body"]).group(1)


HTTPS = {
    "v": "3",
    "device_number": "+8613912345678",
    "location_latitude": "24.9512",
    "location_longitude": "119.6012",
    "location_time": "1796101230000",
    "location_accuracy": "10.4",
    "location_source": "gps",
    "location_certainty": "83",
    "device_imei": "356708041746734",
    "emergency_number": "120",
}
