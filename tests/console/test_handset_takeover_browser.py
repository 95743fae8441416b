"""A call answered on a handset no dispatcher is signed in on shows on the console with its ring
time; T takes it over: the intake opens on the call's own incident, with the ring and the
handset's answer times, and the recording that comes after the call reaches its timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.calls.actions import record_call_event
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Call, Incident
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.calls_helpers import off_loop
from tests.support.console_desk import Desk, open_console, show_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "+8613912345678"


def pbx(kind: CallEventKind, at, **extra):
    return off_loop(record_call_event, CallEvent("pbx", "77.1", kind, at, caller=CALLER, **extra))


def test_a_handset_call_is_taken_over_with_its_times_and_recording(browser, live_url, world):  # noqa: F811
    rang = timezone.now() - timedelta(seconds=95)
    page = open_console(browser, live_url, world.alice)
    pbx(CallEventKind.RINGING, rang)
    pbx(CallEventKind.ANSWERED, rang + timedelta(seconds=12))  # on a handset: no agent named
    call = Call.objects.get()
    card = f"#call-{call.pk}.unowned"
    page.wait_for_selector(f"{card}:has-text('已在无人登录的话机上接听'):has-text('{CALLER}')")
    assert page.inner_text(f"{card} .rang .call-clock") >= "01:35"  # its ring time, not the takeover's

    page.keyboard.press("t")
    page.wait_for_selector(f"#call-{call.pk}.active")
    incident = Incident.objects.get(call=call)
    page.wait_for_selector(f"#intake:not([hidden]) #intake-number:has-text('{incident.number}')")
    assert page.inner_text("#intake-title") == "来电受理" and page.input_value("#caller-number") == CALLER
    assert page.inner_text("#intake-clock") >= "01:35"  # counted from the ring
    assert incident.call_received_at == rang and incident.call_answered_at == rang + timedelta(seconds=12)

    Desk(page).leave("k")  # the call goes on; the dispatcher keeps its record and opens it
    pbx(CallEventKind.ENDED, timezone.now())
    pbx(CallEventKind.RECORDING, timezone.now(), recording_url="https://pbx.example/rec/77.wav")
    show_incident(page, incident.pk)
    page.wait_for_selector(
        "#timeline li[data-kind='call.recording'] a[href='https://pbx.example/rec/77.wav']"
    )
