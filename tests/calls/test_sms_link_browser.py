"""The caller's side of the location link, in headless Chromium on a phone-sized screen: the
SMS is sent by the real twilio client to a local server playing Twilio's REST API, the page it
links to reads a fake geolocation and posts it once; a refused permission says what to do."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dispatch.calls.actions import record_call_event, send_location_link, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.core import outbox
from dispatch.models import CallerLocation, LocationLink
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.usefixtures("migrated_data_back"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
HERE = {"latitude": 24.9512, "longitude": 119.6012, "accuracy": 25}
SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def texted_link(world, fake, base_url: str) -> str:
    """A taken call, a location link sent through the outbox and the real twilio client; the
    URL as the caller's phone received it."""
    call = record_call_event(
        CallEvent("pbx", "b1", CallEventKind.RINGING, timezone.now(), caller="+8613912345678")
    )
    take_call(call, actor=world.alice)
    send_location_link(call, actor=world.alice, base_url=base_url)
    assert outbox.run_once()["sent"] == 1
    (sms,) = fake.messages
    assert sms["To"] == "+8613912345678"
    return re.search(r"https?://\S+/l/\S+", sms["Body"]).group(0)


def phone_page(browser, **options):  # noqa: F811
    context = browser.new_context(locale="zh-CN", **PHONE, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_caller_shares_position_from_the_sms_link(browser, live_url, world, fake_twilio):  # noqa: F811
    url = texted_link(world, fake_twilio, live_url)
    page = phone_page(browser, geolocation=HERE, permissions=["geolocation"])
    page.goto(url)
    page.wait_for_selector("#locate[data-state='sent']")
    assert "25" in page.inner_text("#status")
    page.screenshot(path=str(SCREENS / "locate_me_sent.png"))
    location = CallerLocation.objects.get()
    assert (round(location.point.x, 4), round(location.point.y, 4)) == (119.6012, 24.9512)
    assert location.accuracy_m == 25 and location.source == "sms_link" and location.method == "browser"
    # Opening the link again: it has done its job.
    page.reload()
    page.wait_for_selector("h1")
    assert page.locator("#share").count() == 0
    page.context.close()


def test_refused_permission_explains_and_keeps_the_link(browser, live_url, world, fake_twilio):  # noqa: F811
    url = texted_link(world, fake_twilio, live_url)
    page = phone_page(browser)
    page.goto(url + "?lang=en")
    page.wait_for_selector("#status.status-denied")
    page.screenshot(path=str(SCREENS / "locate_me_denied.png"))
    assert "tell the dispatcher" in page.inner_text("#status")
    assert not CallerLocation.objects.exists()
    assert LocationLink.objects.get().used_at is None
    page.context.close()
