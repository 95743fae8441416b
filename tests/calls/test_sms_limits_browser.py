"""On the console, the limits read as plain words on the call's card: a fourth location link
for one call, and an eleventh SMS in a minute, are refused with the reason, in Chinese, and
nothing more is queued."""

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dispatch.calls.actions import record_call_event, send_location_link, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import LocationLink, Outbox, Role, User
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back, off_loop  # noqa: F401  (fixture)
from tests.support.page_waits import wait_until

pytestmark = [
    pytest.mark.usefixtures("migrated_data_back"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CALLER = "+8613912345678"
SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def console_with_a_taken_call(browser, live_url, viewport):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    # another call rings meanwhile: the card with the refusal is one of several on the page
    ring = CallEvent("pbx", "other", CallEventKind.RINGING, timezone.now(), caller="+8613700000000")
    off_loop(record_call_event, ring)
    call = off_loop(
        record_call_event, CallEvent("pbx", "mine", CallEventKind.RINGING, timezone.now(), caller=CALLER)
    )
    off_loop(take_call, call, actor=alice)
    for _ in range(3):  # earlier links, sent from another console
        off_loop(send_location_link, call, actor=alice, base_url=live_url)
    page = signed_in_page(browser, live_url, alice, viewport=viewport)
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector(f"#call-{call.pk}.active")
    return page, call


@pytest.mark.parametrize("width, height", [(1920, 1080), (1366, 768)])
def test_the_fourth_link_and_the_eleventh_sms_are_refused_in_words(browser, live_url, width, height):  # noqa: F811
    page, call = console_with_a_taken_call(browser, live_url, {"width": width, "height": height})
    card = f"#call-{call.pk}"
    page.click(f"{card} button.send-link")
    page.wait_for_selector(f"{card} .error:has-text('已达上限')")
    assert "3 条位置链接" in page.inner_text(f"{card} .error")
    page.screenshot(path=str(SCREENS / f"link_cap_{width}x{height}.png"))
    assert off_loop(LocationLink.objects.filter(call=call).count) == 3

    field = f"{card} form.sms input[name=body]"
    # The limit counts in one-minute windows (dispatch/core/ratelimit.py): begin the eleven
    # in a fresh window, or the edge between two would let the eleventh through.
    if (into := time.time() % 60) > 40:
        page.wait_for_timeout((61 - into) * 1000)
    for n in range(10):
        page.fill(field, f"救护车已出发 {n} <请保持电话畅通>")
        page.press(field, "Enter")
        wait_until(page, f"document.querySelector('{field}').value === ''")  # sent: the field is cleared
    page.wait_for_selector(f"{card} .sms-state")
    page.fill(field, "第十一条")
    page.press(field, "Enter")
    page.wait_for_selector(f"{card} .error:has-text('短信发送过于频繁')")
    page.screenshot(path=str(SCREENS / f"sms_limits_{width}x{height}.png"))
    sms = off_loop(lambda: list(Outbox.objects.filter(channel="sms").values_list("payload__body", flat=True)))
    assert len(sms) == 3 + 10 and "第十一条" not in sms
