"""AML over HTTPS and SMS lands in the same caller-location record, matched to the call by
number and time; a wrong secret or a malformed message writes nothing."""

from datetime import UTC, timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import CallerLocation, Event
from tests.support.calls_helpers import HTTPS

pytestmark = pytest.mark.django_db

SECRET = "aml-secret-for-tests"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {SECRET}"}


@pytest.fixture(autouse=True)
def aml(settings):
    settings.AML_SHARED_SECRET = SECRET


def ring(caller: str, ago_s: float = 20):
    at = timezone.now() - timedelta(seconds=ago_s)
    return record_call_event(
        CallEvent("pbx", f"c-{caller}-{ago_s}", CallEventKind.RINGING, at, caller=caller)
    )


def now_ms() -> str:
    return str(int(timezone.now().timestamp() * 1000))


def post_https(params: dict, **headers):
    return Client().post(
        "/api/aml", urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def post_sms(text: str, sender: str = "13912345678", **headers):
    return Client().post(
        "/api/aml/sms", {"from": sender, "text": text}, content_type="application/json", **headers
    )


def test_https_fix_joins_the_live_call_from_that_number(world):
    ring("+8613900000000")  # another caller
    call = ring("+8613912345678")
    response = post_https({**HTTPS, "location_time": now_ms()}, **AUTH)
    assert response.status_code == 200, response.content
    assert response.json()["call"] == call.pk
    location = CallerLocation.objects.get()
    assert (location.source, location.call, location.accuracy_m, location.method) == (
        "aml",
        call,
        10.4,
        "gnss",
    )
    assert Event.objects.get(kind="caller.location").data["call"] == call.pk


def test_sms_fix_joins_the_call_and_its_incident(world):
    call = ring("+8613912345678")
    take_call(call, actor=world.alice)
    top = timezone.now().astimezone(UTC).strftime("%Y%m%d%H%M%S")
    text = f'A"ML=1;lt=+24.95120;lg=+119.60120;rd=15;top={top};lc=68;pm=G;mcc=460;mnc=00'
    response = post_sms(text, sender="13912345678", **AUTH)  # the SMS centre's national form
    assert response.status_code == 200, response.content
    location = CallerLocation.objects.get()
    assert location.call == call and location.incident == call.incidents.get()
    assert location.caller_number == "+8613912345678"


def test_a_fix_long_after_the_call_matches_no_call(world, settings):
    ring("+8613912345678", ago_s=3600)
    assert post_https({**HTTPS, "location_time": now_ms()}, **AUTH).json()["call"] is None
    assert CallerLocation.objects.get().call is None


def test_no_position_stores_nothing():
    response = post_sms('A"ML=1;top=20261201050030;pm=N', **AUTH)
    assert response.status_code == 200 and response.json()["stored"] is False
    assert not CallerLocation.objects.exists()


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}])
def test_wrong_secret_is_refused(headers):
    assert post_https(HTTPS, **headers).status_code == 403
    assert post_sms('A"ML=1;lt=24.9;lg=119.6;pm=G', **headers).status_code == 403
    assert not CallerLocation.objects.exists()


def test_malformed_messages_are_400_and_write_nothing():
    response = post_sms('A"ML=1;lt=95;lg=119.6;pm=G', **AUTH)
    assert response.status_code == 400 and "lt (latitude)" in response.json()["error"]
    assert post_https({**HTTPS, "location_longitude": "east"}, **AUTH).status_code == 400
    bad_json = Client().post("/api/aml/sms", "{oops", content_type="application/json", **AUTH)
    assert bad_json.status_code == 400
    assert post_sms('A"ML=1;lt=24.9;lg=119.6;pm=G', sender="", **AUTH).status_code == 400
    assert not CallerLocation.objects.exists()
