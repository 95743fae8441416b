"""A shift's missed calls on two consoles: the list grows live as calls ring out unanswered (with
a chime and a count), one dispatcher calls one back (Twilio rings the caller: a local Twilio the
real client talks to), the other console sees whose it is; "no answer" keeps it for another try,
"reached" takes it off both; a number Twilio refuses stays listed with the reason."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dispatch.models import CallBack, Role, User
from tests.support.alarm_helpers import alarm_console
from tests.support.browser import browser, own_daphne  # noqa: F401  (fixtures)
from tests.support.calls_helpers import ACCOUNT, TOKEN, off_loop
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.missed_calls import missed_call
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def missed(sid: str, number: str, minutes_ago: float, waited_s: float):
    rang = timezone.now() - timedelta(minutes=minutes_ago)
    return off_loop(missed_call, sid, number, rang_at=rang, waited_s=waited_s)


def row(call) -> str:
    return f"#missed-{call.pk}"


def missed_chimes(page) -> int:
    return page.evaluate("window.chimes.filter((kind) => kind === 'missed').length")


def test_missed_calls_grow_live_and_are_called_back_one_after_another(browser, world, fake_twilio):  # noqa: F811
    grace = User.objects.create_user("grace", role=Role.DISPATCHER)
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": fake_twilio.url,
    }
    with own_daphne(env) as server:
        alice = alarm_console(browser, server.url, world.alice, 1920, 1080)
        other = alarm_console(browser, server.url, grace, 1366, 768)
        for page in (alice, other):
            page.wait_for_selector("#missed-calls.quiet .missed-none:has-text('没有待回拨的未接来电。')")
            assert page.inner_text("#missed-count") == "0"

        first = missed("CA-b1", "+8613911110001", 9, 42)
        for page in (alice, other):
            page.wait_for_selector(f"{row(first)} .missed-number:has-text('+8613911110001')")
            assert "等待 0:42 后挂断" in page.inner_text(row(first))
            assert page.inner_text("#missed-count") == "1"
            wait_until(page, "window.chimes.includes('missed')")
        odd = missed("CA-b2", "<b>110</b>", 6, 5.5)  # as a network may send it: text, never markup
        third = missed("CA-b3", "+8613911110003", 2, 71)
        for page in (alice, other):
            page.wait_for_selector(f"{row(third)}")
            assert page.inner_text("#missed-count") == "3"
            assert page.inner_text(f"{row(odd)} .missed-number") == "<b>110</b>"
            assert page.locator("#missed-list b:text-is('110')").count() == 0
            # Oldest first: the caller who waited longest for a call back is on top.
            ids = page.evaluate(
                "[...document.querySelectorAll('#missed-list .missed')].map((r) => r.dataset.call)"
            )
            assert ids == [str(first.pk), str(odd.pk), str(third.pk)]
        assert missed_chimes(alice) == 3

        # Alice calls the first back: Twilio rings the caller from the centre's number.
        alice.click(f"{row(first)} .call-back")
        alice.wait_for_selector(f"{row(first)}.calling .missed-by:has-text('您正在回拨')")
        other.wait_for_selector(f"{row(first)}.calling .missed-by:has-text('alice 正在回拨')")
        assert other.locator(f"{row(first)} .call-back, {row(first)} [data-outcome]").count() == 0
        (placed,) = fake_twilio.calls
        attempt = CallBack.objects.get()
        assert placed["To"] == "+8613911110001" and placed["From"] == "+15005550006"
        assert placed["Url"] == f"{server.url}/api/telephony/twilio/call-back/{attempt.pk}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(path=str(SHOTS / "callbacks-1920x1080.png"))
        other.screenshot(path=str(SHOTS / "callbacks-1366x768.png"))

        # Nobody answered: it stays, with its attempt counted, for another try.
        alice.click(f"{row(first)} [data-outcome='no_answer']")
        for page in (alice, other):
            page.wait_for_selector(f"{row(first)}:not(.calling) .missed-attempts:has-text('已回拨 1 次')")

        # The next one: reached, off both lists.
        alice.click(f"{row(third)} .call-back")
        alice.click(f"{row(third)} [data-outcome='reached']")
        for page in (alice, other):
            page.wait_for_selector(f"{row(third)}", state="detached")
            assert page.inner_text("#missed-count") == "2"
        alice.wait_for_selector("#missed-done:not([hidden]) li:has-text('+8613911110003')", state="attached")

        # The other dispatcher tries the first again and reaches the caller.
        other.click(f"{row(first)} .call-back")
        other.click(f"{row(first)} [data-outcome='reached']")
        for page in (alice, other):
            page.wait_for_selector(f"{row(first)}", state="detached")

        # Twilio refuses the odd number: the reason shows and the call stays listed.
        other.click(f"{row(odd)} .call-back")
        other.wait_for_selector(f"{row(odd)} .error:has-text('21211')")
        assert other.locator(f"{row(odd)} .call-back:not([disabled])").count() == 1
        assert alice.inner_text("#missed-count") == other.inner_text("#missed-count") == "1"
        other.screenshot(path=str(SHOTS / "callbacks-refused-1366x768.png"))

    outcomes = list(
        CallBack.objects.order_by("pk").values_list("call__caller_number", "by__username", "outcome")
    )
    assert outcomes == [
        ("+8613911110001", "alice", "no_answer"),
        ("+8613911110003", "alice", "reached"),
        ("+8613911110001", "grace", "reached"),
    ]
    assert len(fake_twilio.calls) == 3


def test_the_report_shows_the_share_called_back_and_how_fast(browser, live_url, world, fake_twilio):  # noqa: F811
    from datetime import datetime
    from unittest import mock
    from zoneinfo import ZoneInfo

    from dispatch.calls import callbacks
    from tests.support.browser import signed_in_page

    day = datetime(2026, 11, 10, 9, tzinfo=ZoneInfo("Asia/Shanghai"))

    def history() -> None:  # two of three called back, 40 s and 2:10 after the hang-up
        for n, delay in enumerate([40, 130, None]):
            call = missed_call(
                f"CA-rep{n}", f"+86139000001{n:02d}", rang_at=day + timedelta(hours=n), waited_s=20
            )
            if delay is not None:
                at = call.ended_at + timedelta(seconds=delay)
                with mock.patch("django.utils.timezone.now", lambda at=at: at):
                    callbacks.call_back(call.pk, actor=world.alice, base_url="http://testserver/")

    off_loop(history)
    page = signed_in_page(browser, live_url, world.bob, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/reports/?start=2026-11-10&end=2026-11-10")
    page.wait_for_selector("#reports[data-ready='1']")
    page.wait_for_selector("#calls-called-back:text-is('66.6%')")  # rounded down, as every share
    assert page.inner_text("#calls-called-back-n") == "(2/3)"
    assert page.inner_text("#calls-back-median") == "0:40"  # nearest rank of [40, 130]
    assert page.inner_text("#calls-back-p90") == "2:10"
    assert page.inner_text("#calls-abandoned") == "3"
    page.locator("#calls").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "callbacks-report-1366x768.png"))
