"""The PBX/SIP webhook: the shared secret decides; events are normalised like Twilio's and
applied once; bad input is a 400 that writes nothing."""

import pytest

from dispatch.models import Call, Event
from tests.support.calls_helpers import PBX_SECRET, pbx_post

pytestmark = pytest.mark.django_db

RING = {"event": "ringing", "call_id": "1733050000.42", "from": "13912345678", "to": "120"}


@pytest.fixture(autouse=True)
def pbx(settings):
    settings.PBX_SHARED_SECRET = PBX_SECRET


def test_good_secret_rings_a_call_in_e164():
    response = pbx_post(RING)
    assert response.status_code == 200, response.content
    call = Call.objects.get(provider="pbx", provider_call_id="1733050000.42")
    assert response.json() == {"call": call.pk, "status": "ringing"}
    assert call.caller_number == "+8613912345678"
    assert Event.objects.filter(kind="call.ringing").count() == 1


@pytest.mark.parametrize("secret", ["wrong-secret", "", None])
def test_bad_or_missing_secret_is_refused(secret):
    before = Event.objects.count()
    response = pbx_post(RING, secret=secret)
    assert response.status_code == 403
    assert not Call.objects.exists() and Event.objects.count() == before


def test_unconfigured_secret_refuses_even_an_empty_bearer(settings):
    settings.PBX_SHARED_SECRET = ""
    assert pbx_post(RING, secret="").status_code == 403
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["ringing"]', "JSON"),
        ({**RING, "event": "hold"}, "event must be one of"),
        ({**RING, "call_id": ""}, "call_id is missing"),
        ({**RING, "at": "yesterday"}, "ISO 8601"),
        ({**RING, "event": "recording"}, "recording_url"),
        ({**RING, "from": 13912345678}, "from must be a string"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(body, message):
    response = pbx_post(body)
    # JSON that is not an object is refused before the webhook reads it, as on every endpoint.
    assert response.status_code == (422 if body == '["ringing"]' else 400)
    assert message in response.json()["error"]
    assert not Call.objects.exists()


def test_answered_by_a_named_agent_takes_the_call(world):
    pbx_post({**RING, "at": "2026-12-01T12:00:00+08:00"})
    response = pbx_post({**RING, "event": "answered", "agent": "alice", "at": "2026-12-01T12:00:07+08:00"})
    assert response.json()["status"] == "answered"
    call = Call.objects.get()
    assert call.answered_by == world.alice
    incident = call.incidents.get()
    assert (incident.call_answered_at - incident.call_received_at).total_seconds() == 7


def test_out_of_order_and_repeated_events_apply_once(world):
    pbx_post({**RING, "event": "ended", "at": "2026-12-01T12:03:00+08:00"})
    pbx_post({**RING, "event": "ended", "at": "2026-12-01T12:03:00+08:00"})
    pbx_post({**RING, "at": "2026-12-01T12:00:00+08:00"})
    pbx_post({**RING, "event": "answered", "agent": "alice"})
    call = Call.objects.get()
    assert call.status == "missed"
    assert call.ringing_at.isoformat() == "2026-12-01T04:00:00+00:00"  # the late ring's truer time
    assert Event.objects.filter(kind="call.ended").count() == 1
    assert not call.incidents.exists()


def test_recording_event_links_the_recording():
    pbx_post(RING)
    url = "https://pbx.example.cn/recordings/1733050000.42.wav"
    assert pbx_post({**RING, "event": "recording", "recording_url": url}).status_code == 200
    assert Call.objects.get().recording_url == url


def test_a_recording_for_an_unknown_call_does_not_ring():
    url = "https://pbx.example.cn/recordings/late.wav"
    pbx_post({**RING, "call_id": "late", "event": "recording", "recording_url": url})
    call = Call.objects.get(provider_call_id="late")
    assert call.status == "ended" and call.recording_url == url
    assert not Event.objects.filter(kind="call.ringing").exists()
