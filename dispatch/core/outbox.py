"""The outbox worker's parts (docs/architecture.md, "The outbox"): claim due rows, hand each to its channel's
sender, record the outcome, retry with backoff.

Several app nodes run `manage.py run_outbox` at once: a row is claimed by a conditional update
that sets `claimed_until` (a lease), so exactly one worker sends it; a worker that dies mid-send
loses its lease and the row is sent again later (at-least-once, which SMS and FHIR tolerate).

Channels are pluggable by name: a module listed in settings.OUTBOX_CHANNEL_MODULES calls `register("name",
sender)` when imported; a sender takes the row and returns the provider's reference, or raises
DeliveryError (permanent or not) or any other exception (retried).
"""

import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Outbox, OutboxStatus

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
CLAIM_CANDIDATES = 20  # due rows looked at per claim: enough that racing workers each find one
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 5
BACKOFF_CAP_S = 600

Sender = Callable[[Outbox], str]
SENDERS: dict[str, Sender] = {}


class DeliveryError(Exception):
    """A send that failed; `permanent` means retrying cannot help (a malformed number)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def register(channel: str, sender: Sender) -> None:
    SENDERS[channel] = sender


def senders() -> dict[str, Sender]:
    for module in settings.OUTBOX_CHANNEL_MODULES:
        importlib.import_module(module)
    return SENDERS


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 10 minutes."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def claimable(now: datetime) -> Q:
    """Due pending rows, and rows whose sender's lease ran out (the worker died)."""
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )


def claim(pk: int, now: datetime) -> Outbox | None:
    won = Outbox.objects.filter(claimable(now), pk=pk).update(
        status=OutboxStatus.SENDING, claimed_until=now + LEASE, attempts=F("attempts") + 1
    )
    return Outbox.objects.get(pk=pk) if won else None


def claim_next(now: datetime | None = None) -> Outbox | None:
    """The oldest due row this worker now owns, or None when nothing is due.

    One row at a time, claimed just before its send: a lease taken for a whole batch would start
    running out while the rows before it were sent (slowly, say, while the database fails over),
    and another worker would take over a row this one was about to send, both sending it at once.
    Rows another worker wins meanwhile are passed over."""
    now = now or timezone.now()
    candidates = (
        Outbox.objects.filter(claimable(now), channel__in=list(senders()))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:CLAIM_CANDIDATES]
    )
    return next((row for row in (claim(pk, now) for pk in candidates) if row is not None), None)


def ours(row: Outbox):
    """The row while our lease on it holds: a worker whose lease expired must not overwrite
    what the worker that took over did."""
    return Outbox.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, claimed_until=row.claimed_until)


@transaction.atomic
def mark_sent(row: Outbox, reference: str) -> bool:
    payload = {**row.payload, "provider_reference": reference}
    if not ours(row).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), claimed_until=None, last_error="", payload=payload
    ):
        return False
    record_event(
        EventKind.OUTBOX_SENT,
        incident=row.incident,
        data={"outbox": row.pk, "channel": row.channel, "attempts": row.attempts},
    )
    return True


@transaction.atomic
def mark_failed(row: Outbox, error: str, permanent: bool) -> bool:
    """Schedule a retry, or give up after MAX_ATTEMPTS (or at once when permanent)."""
    if permanent or row.attempts >= MAX_ATTEMPTS:
        if not ours(row).update(status=OutboxStatus.FAILED, claimed_until=None, last_error=error[:2000]):
            return False
        record_event(
            EventKind.OUTBOX_FAILED,
            incident=row.incident,
            data={"outbox": row.pk, "channel": row.channel, "attempts": row.attempts, "error": error[:200]},
        )
        return True
    return bool(
        ours(row).update(
            status=OutboxStatus.PENDING,
            claimed_until=None,
            last_error=error[:2000],
            next_attempt_at=timezone.now() + backoff(row.attempts),
        )
    )


def deliver(row: Outbox) -> str:
    """Send one claimed row; returns "sent", "retry" or "failed"."""
    try:
        reference = senders()[row.channel](row)
    except DeliveryError as exc:
        log.warning("outbox %s (%s) failed: %s", row.pk, row.channel, exc)
        mark_failed(row, str(exc), exc.permanent)
        return "failed" if exc.permanent or row.attempts >= MAX_ATTEMPTS else "retry"
    except Exception as exc:  # a bug or an outage in a sender: retried, never lost
        log.exception("outbox %s (%s) raised", row.pk, row.channel)
        mark_failed(row, f"{type(exc).__name__}: {exc}", False)
        return "failed" if row.attempts >= MAX_ATTEMPTS else "retry"
    mark_sent(row, reference)
    return "sent"


def run_once(limit: int = 20) -> dict[str, int]:
    """Claim and deliver up to `limit` rows, one after another; counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(limit):
        row = claim_next()
        if row is None:
            break
        counts[deliver(row)] += 1
    return counts
