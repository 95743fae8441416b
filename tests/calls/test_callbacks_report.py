"""The report's call-back figures (dispatch/reports/calls.py): the share of the period's
abandoned calls called back, and hang-up to first call back (median, 90th percentile), checked
against the same figures recomputed here from the raw call and call-back rows."""

import math
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from dispatch.calls import callbacks
from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Call, CallBack, CallStatus
from dispatch.reports import answering
from dispatch.reports.filters import ReportFilter
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.missed_calls import missed_call

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 10, tzinfo=ZONE)


def call_back_at(at: datetime, call: Call, user, outcome: str = "reached") -> None:
    with mock.patch("django.utils.timezone.now", lambda: at):
        attempt = callbacks.call_back(call.pk, actor=user, base_url="http://testserver/")
        callbacks.record_outcome(attempt.pk, outcome, actor=user)


def answered_call(sid: str, at: datetime, user) -> None:
    call = record_call_event(CallEvent("twilio", sid, CallEventKind.RINGING, at, caller="+8613900000009"))
    take_call(call, actor=user, at=at + timedelta(seconds=6))


def nearest_rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def test_share_and_speed_of_call_backs_match_the_raw_rows(world, fake_twilio):  # noqa: F811
    # Abandoned calls of the day: (hour, waited s, call backs as seconds after the hang-up)
    plan = [
        (8, 20, [30.2]),
        (9, 45, [95.5]),
        (10, 12, [300, 900]),  # no answer first, then reached: the first one counts
        (11, 70, [2 * 86400]),  # called back two days later: still called back
        (12, 33, []),
        (13, 5, []),
        (14, 61, [44.001]),
    ]
    for n, (hour, waited, backs) in enumerate(plan):
        call = missed_call(
            f"CA-r{n}", f"+86139000000{n:02d}", rang_at=DAY.replace(hour=hour), waited_s=waited
        )
        for k, delay in enumerate(backs):
            last = k == len(backs) - 1
            call_back_at(
                call.ended_at + timedelta(seconds=delay),
                call,
                world.alice,
                "reached" if last else "no_answer",
            )
    missed_call("CA-withheld", "", rang_at=DAY.replace(hour=15))  # abandoned, no number: never called back
    answered_call("CA-ans", DAY.replace(hour=16), world.alice)
    outside = missed_call("CA-out", "+8613900000077", rang_at=DAY - timedelta(hours=2))
    call_back_at(outside.ended_at + timedelta(seconds=1), outside, world.alice)  # before the period

    figures = answering(ReportFilter(DAY, DAY + timedelta(days=1)), now=DAY + timedelta(days=5))["calls"]

    # The same, from the rows.
    abandoned = Call.objects.filter(
        status=CallStatus.MISSED,
        answered_at__isnull=True,
        ringing_at__gte=DAY,
        ringing_at__lt=DAY + timedelta(days=1),
    )
    delays = []
    for call in abandoned:
        first = CallBack.objects.filter(call=call).order_by("placed_at").first()
        if first is not None:
            delays.append(math.ceil((first.placed_at - call.ended_at).total_seconds() * 1000))
    assert abandoned.count() == 8 and len(delays) == 5
    assert figures["abandoned"] == 8 and figures["called_back"] == 5
    assert figures["called_back_pct"] == round(100 * 5 / 8, 2) == 62.5
    assert figures["call_back_median_s"] == nearest_rank(delays, 0.5) / 1000 == 95.5
    assert figures["call_back_p90_s"] == nearest_rank(delays, 0.9) / 1000 == 2 * 86400
    assert figures["answered"] == 1 and figures["offered"] == 9


def test_no_abandoned_calls_no_share(world):
    figures = answering(ReportFilter(DAY, DAY + timedelta(days=1)))["calls"]
    assert figures["called_back"] == 0 and figures["called_back_pct"] is None
    assert figures["call_back_median_s"] is None and figures["call_back_p90_s"] is None


def test_the_summary_api_carries_the_figures(world, fake_twilio):  # noqa: F811
    from tests.support.missed_calls import client_for

    call = missed_call("CA-api", rang_at=DAY.replace(hour=9), waited_s=10)
    call_back_at(call.ended_at + timedelta(seconds=42), call, world.alice)
    response = client_for(world.bob).get("/api/reports/summary", {"start": "2026-11-10", "end": "2026-11-10"})
    assert response.status_code == 200, response.content
    calls = response.json()["calls"]
    assert calls["called_back"] == 1 and calls["called_back_pct"] == 100.0
    assert calls["call_back_median_s"] == calls["call_back_p90_s"] == 42.0
