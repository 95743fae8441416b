"""Twilio's voice webhook answers with TwiML in the centre's language, and its status and
recording callbacks, repeated or out of order, are applied once."""

import pytest

from dispatch.calls.actions import take_call
from dispatch.models import Call, Event
from tests.support.calls_helpers import incoming, twilio_post, twilio_settings

pytestmark = pytest.mark.django_db

VOICE = "/api/telephony/twilio/voice"
STATUS = "/api/telephony/twilio/status"
RECORDING = "/api/telephony/twilio/recording"
SID = "CA" + "a" * 32


@pytest.fixture(autouse=True)
def twilio(settings):
    twilio_settings(settings)


def call_events(kind: str) -> int:
    return Event.objects.filter(kind=kind).count()


def test_twiml_greets_in_chinese_first_then_english_and_records(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = twilio_post(VOICE, incoming(SID)).content.decode()
    assert body.index('language="zh-CN"') < body.index('language="en-US"')
    assert "120急救指挥中心" in body
    assert 'record="record-from-answer-dual"' in body
    assert "http://testserver/api/telephony/twilio/recording" in body
    assert "<Client>dispatch</Client>" in body


def test_english_centre_greets_in_english_first(settings):
    settings.LANGUAGE_CODE = "en"
    body = twilio_post(VOICE, incoming(SID)).content.decode()
    assert body.index('language="en-US"') < body.index('language="zh-CN"')


def test_repeated_ringing_webhook_makes_one_call():
    for _ in range(3):
        assert twilio_post(VOICE, incoming(SID)).status_code == 200
    assert Call.objects.filter(provider_call_id=SID).count() == 1
    assert call_events("call.ringing") == 1


def test_completed_before_ringing_is_kept_and_late_ringing_changes_nothing():
    ended = incoming(SID, status="completed", Timestamp="Tue, 01 Dec 2026 04:00:30 +0000")
    assert twilio_post(STATUS, ended).status_code == 200
    call = Call.objects.get(provider_call_id=SID)
    assert call.status == "missed" and call.ended_at is not None
    # The voice webhook's ringing arrives late: no resurrection, no second call, no ring.
    assert twilio_post(VOICE, incoming(SID)).status_code == 200
    call.refresh_from_db()
    assert call.status == "missed"
    assert call_events("call.ringing") == 0 and call_events("call.ended") == 1


def test_repeated_completed_callback_ends_the_call_once(world):
    twilio_post(VOICE, incoming(SID))
    call = Call.objects.get(provider_call_id=SID)
    take_call(call, actor=world.alice)
    done = incoming(SID, status="completed", Timestamp="Tue, 01 Dec 2026 04:05:00 +0000", CallDuration="300")
    for _ in range(2):
        assert twilio_post(STATUS, done).status_code == 200
    call.refresh_from_db()
    assert call.status == "ended"
    assert call_events("call.ended") == 1
    # An "in-progress" arriving after the end is ignored.
    assert twilio_post(STATUS, incoming(SID, status="in-progress")).status_code == 200
    call.refresh_from_db()
    assert call.status == "ended"


def test_recording_is_linked_on_the_incident_timeline(world):
    twilio_post(VOICE, incoming(SID))
    call = Call.objects.get(provider_call_id=SID)
    take_call(call, actor=world.alice)
    incident = call.incidents.get()
    params = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": SID,
        "RecordingSid": "RE" + "b" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "b" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "287",
    }
    for _ in range(2):  # Twilio retries callbacks
        assert twilio_post(RECORDING, params).status_code == 200
    call.refresh_from_db()
    assert call.recording_url == params["RecordingUrl"]
    timeline = Event.objects.filter(incident=incident, kind="call.recording")
    assert timeline.count() == 1
    assert timeline.get().data["recording_url"] == params["RecordingUrl"]


def test_recording_in_progress_is_not_linked():
    twilio_post(VOICE, incoming(SID))
    params = {"CallSid": SID, "RecordingUrl": "https://api.twilio.com/x", "RecordingStatus": "in-progress"}
    assert twilio_post(RECORDING, params).status_code == 200
    assert Call.objects.get(provider_call_id=SID).recording_url == ""


def test_forged_status_callback_changes_nothing():
    twilio_post(VOICE, incoming(SID))
    response = twilio_post(STATUS, incoming(SID, status="completed"), token="forged")
    assert response.status_code == 403
    assert Call.objects.get(provider_call_id=SID).status == "ringing"
