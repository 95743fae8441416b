"""Missed calls as the telephony adapters leave them (ringing, then ended unanswered), for the
call-back tests."""

from datetime import datetime, timedelta

from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import record_call_event
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.models import Call


def missed_call(
    call_id: str,
    caller: str = "+8613912345678",
    *,
    provider: str = "twilio",
    rang_at: datetime | None = None,
    waited_s: float = 40,
) -> Call:
    """A call that rang for `waited_s` and ended with nobody answering (status missed)."""
    rang_at = rang_at or timezone.now() - timedelta(seconds=waited_s + 60)
    ringing = CallEvent(provider, call_id, CallEventKind.RINGING, rang_at, caller=caller, called="120")
    record_call_event(ringing)
    ended = rang_at + timedelta(seconds=waited_s)
    return record_call_event(CallEvent(provider, call_id, CallEventKind.ENDED, ended, detail="no-answer"))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def call_back(user, call: Call):
    return client_for(user).post(f"/api/calls/{call.pk}/call-back", content_type="application/json")


def outcome(user, call_back_id: int, value: str):
    return client_for(user).post(
        f"/api/call-backs/{call_back_id}/outcome", {"outcome": value}, content_type="application/json"
    )
