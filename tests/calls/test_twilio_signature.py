"""Twilio webhooks are accepted only with a genuine X-Twilio-Signature, also behind a TLS proxy;
forged and unsigned requests get 403 and write nothing."""

import pytest
from twilio.request_validator import RequestValidator

from dispatch.models import Call, Event
from tests.support.calls_helpers import TOKEN, incoming, twilio_post, twilio_settings

pytestmark = pytest.mark.django_db

VOICE = "/api/telephony/twilio/voice"


@pytest.fixture(autouse=True)
def twilio(settings):
    twilio_settings(settings)


def test_signed_call_is_answered_with_twiml_and_rings():
    response = twilio_post(VOICE, incoming("CA" + "1" * 32))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    call = Call.objects.get(provider="twilio", provider_call_id="CA" + "1" * 32)
    assert call.caller_number == "+8613912345678" and call.status == "ringing"
    assert Event.objects.filter(kind="call.ringing", data__id=call.pk).count() == 1


def test_forged_signature_is_refused_and_writes_nothing():
    before = Event.objects.count()
    response = twilio_post(VOICE, incoming("CA" + "2" * 32), token="not-the-auth-token")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Call.objects.exists() and Event.objects.count() == before


def test_tampered_parameter_is_refused():
    params = incoming("CA" + "3" * 32)
    good = RequestValidator(TOKEN).compute_signature("http://testserver" + VOICE, params)
    response = twilio_post(VOICE, {**params, "From": "+8613800000000"}, signature=good)
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_unsigned_request_is_refused():
    response = twilio_post(VOICE, incoming("CA" + "4" * 32), signature="")
    assert response.status_code == 403
    assert "Missing X-Twilio-Signature" in response.json()["error"]
    assert not Call.objects.exists()


def test_no_auth_token_configured_refuses_everything(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    response = twilio_post(VOICE, incoming("CA" + "5" * 32))
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_behind_tls_proxy_with_public_base_url(settings):
    """Twilio signed https://120.example.cn/...; Django behind the proxy sees http://testserver."""
    settings.PUBLIC_BASE_URL = "https://120.example.cn"
    params = incoming("CA" + "6" * 32)
    response = twilio_post(VOICE, params, signed_url="https://120.example.cn" + VOICE)
    assert response.status_code == 200, response.content
    assert Call.objects.filter(provider_call_id="CA" + "6" * 32).exists()
    # The recording callback in the TwiML points at the public address too.
    assert b"https://120.example.cn/api/telephony/twilio/recording" in response.content


def test_behind_tls_proxy_with_forwarded_headers(settings):
    """BEHIND_PROXY=1: the proxy's X-Forwarded-Proto and X-Forwarded-Host are honoured."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["testserver", "120.example.cn"]
    params = incoming("CA" + "7" * 32)
    response = twilio_post(
        VOICE,
        params,
        signed_url="https://120.example.cn" + VOICE,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="120.example.cn",
    )
    assert response.status_code == 200, response.content
    assert Call.objects.filter(provider_call_id="CA" + "7" * 32).exists()


def test_behind_tls_proxy_without_configuration_fails_closed():
    """The trap of docs/platform-notes.md (Twilio): signed for https, seen as http, so refused
    (never waved through)."""
    response = twilio_post(VOICE, incoming("CA" + "8" * 32), signed_url="https://120.example.cn" + VOICE)
    assert response.status_code == 403
    assert not Call.objects.exists()
