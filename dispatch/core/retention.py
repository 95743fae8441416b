"""Personal data kept no longer than it is needed (China's PIPL, article 19): what each kind of
record keeps, and for how long, is settings.RETENTION_DAYS; `manage.py run_retention` applies it
every hour on every app node (safe at once: each step is one idempotent statement).

- idempotency replies: a retry comes within minutes; the stored answer (which may hold a
  patient's record) goes after a week;
- the raw payloads of caller locations (AML's SMS text, the location page's request): the point,
  accuracy and time stay with the incident, the raw text goes;
- the payloads of outbox messages already sent or failed for good (SMS text with a phone number,
  FHIR bundles with the patient's record): the row stays for the delivery's history, the payload
  goes. A message still waiting to be sent is never touched;
- position history: full detail for a while, then one fix per unit per few minutes, enough to
  replay a journey and compute distances in reports;
- refused tracker fixes: counters not updated for a month go.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dispatch.models import CallerLocation, IdempotencyKey, Outbox, OutboxStatus
from fleet.models import RejectedFix

FINISHED = (OutboxStatus.SENT, OutboxStatus.FAILED)
THINNING_BATCH = 50_000  # rows a pass deletes at most, so no pass holds locks for long
THINNING_WINDOW = timedelta(days=7)  # thinned before, untouched again


def cutoff(kind: str) -> datetime:
    return timezone.now() - timedelta(days=settings.RETENTION_DAYS[kind])


def purge_idempotency_replies() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff("idempotency_replies")).delete()
    return deleted


def purge_caller_location_payloads() -> int:
    old = CallerLocation.objects.filter(received_at__lt=cutoff("caller_location_payloads")).exclude(raw={})
    return old.update(raw={})


def purge_outbox_payloads() -> int:
    old = Outbox.objects.filter(status__in=FINISHED, created_at__lt=cutoff("outbox_payloads")).exclude(
        payload={}
    )
    return old.update(payload={}, last_error="")


def purge_rejected_fixes() -> int:
    deleted, _ = RejectedFix.objects.filter(last_at__lt=cutoff("rejected_fixes")).delete()
    return deleted


def thin_position_history() -> int:
    """Past its detail period, keep the first fix of each unit in each POSITION_KEPT_EVERY_SECONDS
    slot (a week's band at a time: older history was thinned by earlier passes)."""
    until = cutoff("position_detail")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM fleet_positionreport WHERE id IN ("
            " SELECT id FROM ("
            "  SELECT id, row_number() OVER ("
            "   PARTITION BY unit_id, floor(extract(epoch FROM at) / %s) ORDER BY at, id) AS n"
            "  FROM fleet_positionreport WHERE at < %s AND at >= %s"
            " ) ranked WHERE n > 1 LIMIT %s)",
            [settings.POSITION_KEPT_EVERY_SECONDS, until, until - THINNING_WINDOW, THINNING_BATCH],
        )
        return cursor.rowcount


STEPS = {
    "idempotency_replies": purge_idempotency_replies,
    "caller_location_payloads": purge_caller_location_payloads,
    "outbox_payloads": purge_outbox_payloads,
    "rejected_fixes": purge_rejected_fixes,
    "position_fixes_thinned": thin_position_history,
}


def purge() -> dict[str, int]:
    """One pass of every step, each in its own transaction; how many records each changed."""
    counts = {}
    for name, step in STEPS.items():
        with transaction.atomic():
            counts[name] = step()
    return counts
