"""A call rings on two consoles; one dispatcher takes it (the other's card goes), texts the
caller the location link (the real twilio client, a local Twilio), the caller's phone (a
second browser context with a fake position) shares it, the console shows the point and its
accuracy circle, and the incident is located there, carrying the call's times."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dispatch.calls.actions import escalate_unanswered_calls, record_call_event
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.core import outbox
from dispatch.incidents.actions import close_incident, create_incident
from dispatch.models import Call, Incident, Role, User
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back, off_loop  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.page_waits import wait_until

pytestmark = [
    pytest.mark.usefixtures("migrated_data_back"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CALLER = "+8613912345678"
HERE = {"latitude": 24.9512, "longitude": 119.6012, "accuracy": 30}
SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def open_console(browser, live_url, user):  # noqa: F811
    page = signed_in_page(browser, live_url, user, viewport={"width": 1600, "height": 900})
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#calls[data-ready='1']", state="attached")
    page.wait_for_selector("#conn.conn-live")
    page.evaluate(
        "window.chimes = []; document.addEventListener('chime', (e) => window.chimes.push(e.detail))"
    )
    return page


def test_call_rings_on_two_consoles_and_ends_located(browser, live_url, fake_twilio):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    bob = User.objects.create_user("bob", role=Role.DISPATCHER)
    earlier = create_incident(actor=alice, caller_number="13912345678", chief_complaint="胸痛")
    close_incident(earlier, actor=alice, outcome="treated")
    bobs = open_console(browser, live_url, bob)
    alices = open_console(browser, live_url, alice)

    call = off_loop(
        record_call_event,
        CallEvent("twilio", "CA" + "9" * 32, CallEventKind.RINGING, timezone.now(), caller=CALLER),
    )
    for page in (alices, bobs):
        page.wait_for_selector(f"#call-{call.pk}.ringing:has-text('{CALLER}')")
        page.wait_for_selector(f"#call-{call.pk} .past:has-text('{earlier.number}')")  # the number's history
        assert "call" in page.evaluate("window.chimes")
    alices.screenshot(path=str(SCREENS / "calls_ringing.png"))

    alices.keyboard.press("t")  # take the oldest ringing call
    alices.wait_for_selector(f"#call-{call.pk}.active")
    bobs.wait_for_selector(f"#call-{call.pk}", state="detached")
    call.refresh_from_db()
    assert call.answered_by == alice
    # Her intake goes on with the call's own incident: its number, the caller's number, and the
    # cursor in the place search while the caller speaks.
    opened = Incident.objects.get(call=call)
    alices.wait_for_selector(f"#intake:not([hidden]) #intake-number:has-text('{opened.number}')")
    assert alices.inner_text("#intake-title") == "来电受理"
    assert alices.input_value("#caller-number") == CALLER
    assert alices.evaluate("document.activeElement.id") == "place-search"

    # Alice is on the line, so she is not free: a second call rings on Bob's console only.
    second = off_loop(
        record_call_event,
        CallEvent("twilio", "CA" + "8" * 32, CallEventKind.RINGING, timezone.now(), caller="+8613700000000"),
    )
    bobs.wait_for_selector(f"#call-{second.pk}.ringing")
    alices.wait_for_selector("#calls .waiting:has-text('1')")
    assert alices.locator(f"#call-{second.pk}").count() == 0

    alices.click(f"#call-{call.pk} button.send-link")
    alices.wait_for_selector(f"#call-{call.pk} .link-state.queued")
    assert off_loop(outbox.run_once)["sent"] == 1  # the outbox worker: real twilio client, local Twilio
    alices.wait_for_selector(f"#call-{call.pk} .link-state.sent")
    (sms,) = fake_twilio.messages
    assert sms["To"] == CALLER
    url = re.search(r"https?://\S+/l/\S+", sms["Body"]).group(0)

    phone = browser.new_context(
        geolocation=HERE, permissions=["geolocation"], viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    phone.goto(url)
    phone.wait_for_selector("#locate[data-state='sent']")

    alices.wait_for_selector(f"#call-{call.pk} .position:has-text('±30 m')")
    assert alices.locator("path.caller-accuracy").count() == 1  # the accuracy circle on the map
    alices.screenshot(path=str(SCREENS / "calls_position.png"))
    alices.click(f"#call-{call.pk} button.adopt")
    alices.wait_for_selector(f"#call-{call.pk} .ok")
    # The adopted position fills the open intake: the pin, the location line, the best units.
    alices.wait_for_selector("#location-line:not(.muted)")
    assert alices.locator(".pin-icon").count() == 1
    wait_until(
        alices, "!document.querySelector('#recommendation').textContent.includes('定位并分级后显示最佳车辆')"
    )

    # A free-text SMS to the caller goes through the same outbox and provider.
    alices.fill(f"#call-{call.pk} form.sms input", "救护车已出发，请到路口等候。")
    alices.press(f"#call-{call.pk} form.sms input", "Enter")
    alices.wait_for_selector(f"#call-{call.pk} .sms-state")
    assert off_loop(outbox.run_once)["sent"] == 1
    assert fake_twilio.messages[-1]["Body"] == "救护车已出发，请到路口等候。"

    incident = Incident.objects.get(call=call)
    assert (round(incident.location.x, 4), round(incident.location.y, 4)) == (119.6012, 24.9512)
    assert incident.location_source == "sms_link" and incident.location_accuracy_m == 30
    call.refresh_from_db()
    assert incident.call_received_at == call.ringing_at and incident.call_answered_at == call.answered_at
    # Bob's console saw the incident arrive in its list without the call card.
    bobs.wait_for_selector(f"#incident-{incident.pk}")
    assert Call.objects.get(pk=call.pk).status == "answered"
    assert Incident.objects.count() == 2  # the earlier one and this call's: no second record
    phone.context.close()


def test_supervisor_console_shows_the_escalation(browser, live_url, settings):  # noqa: F811
    boss = User.objects.create_user("boss", role=Role.SUPERVISOR)
    page = open_console(browser, live_url, boss)
    call = off_loop(
        record_call_event,
        CallEvent(
            "pbx", "late", CallEventKind.RINGING, timezone.now() - timedelta(seconds=15), caller=CALLER
        ),
    )
    page.wait_for_selector(f"#call-{call.pk}.ringing")
    assert [c.pk for c in off_loop(escalate_unanswered_calls)] == [call.pk]
    page.wait_for_selector(f"#call-{call.pk}.escalated .escalation")
    wait_until(page, "window.chimes.includes('alert')")
    page.screenshot(path=str(SCREENS / "calls_escalated.png"))
