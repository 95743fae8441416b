"""The event log (the record) and the doorbell that tells screens to look (decision 4, docs/decisions/).

`record_event` must run inside the action's transaction: it takes the next number from the
counter row (whose lock orders commits by number) and rings the doorbell only after commit.
Screens read what they missed from the table, so a lost doorbell costs latency, never data.
"""

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from dispatch.models import Event, User

log = logging.getLogger(__name__)

EVENTS_GROUP = "events"


def next_seq() -> int:
    with connection.cursor() as cursor:
        # An upsert, so a missing row (a flushed test database) restarts the count at 1.
        cursor.execute(
            "INSERT INTO dispatch_eventcounter (id, last_seq) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET last_seq = dispatch_eventcounter.last_seq + 1 "
            "RETURNING last_seq"
        )
        return cursor.fetchone()[0]


def key_of(thing: Any) -> int | None:
    """A row's primary key, given the row (a model instance) or the key itself."""
    return thing if thing is None or isinstance(thing, int) else thing.pk


def record_event(
    kind: str,
    *,
    actor: User | None = None,
    incident=None,
    unit=None,
    hospital=None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction; ring the doorbell after it commits. The
    incident, unit and hospital are each a row or its primary key: an action that has only a
    job's own row names them by its keys, and nothing is read to name them."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the action's transaction")
    event = Event.objects.create(
        seq=next_seq(),
        kind=kind,
        actor=actor if actor and actor.pk else None,
        incident_id=key_of(incident),
        unit_id=key_of(unit),
        hospital_id=key_of(hospital),
        data=data or {},
    )
    payload = serialize_event(event)
    transaction.on_commit(lambda: ring_doorbell(payload))
    return event


def record_job_event(kind: str, assignment, *, actor: User | None = None, data: dict | None = None) -> Event:
    """An event about one unit's job: seen on the incident, by the unit's crew and by the
    destination hospital's staff."""
    return record_event(
        kind,
        actor=actor,
        incident=assignment.incident_id,
        unit=assignment.unit_id,
        hospital=assignment.hospital_id,
        data=data,
    )


def serialize_event(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "actor": event.actor_id,
        "incident": event.incident_id,
        "unit": event.unit_id,
        "hospital": event.hospital_id,
        "data": event.data,
    }


def ring_doorbell(payload: dict[str, Any]) -> None:
    """Tell every live screen an event exists. Failure is logged, never raised: the write
    has committed and screens catch up from the table on their next heartbeat."""
    layer = get_channel_layer()
    if layer is None:
        return
    if loop_running_here():
        # async_to_sync refuses a thread that runs an event loop (a write made from one, as a
        # browser test's Playwright thread does): ring from a thread of its own.
        ringer = threading.Thread(target=send_ring, args=(layer, payload), name="doorbell")
        ringer.start()
        ringer.join(timeout=5)
    else:
        send_ring(layer, payload)


def send_ring(layer, payload: dict[str, Any]) -> None:
    try:
        async_to_sync(layer.group_send)(EVENTS_GROUP, {"type": "event.ring", "event": payload})
    except Exception:  # Redis down or failing over: screens resync by sequence number.
        log.warning("doorbell failed for event %s", payload["seq"], exc_info=True)


def loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def last_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_seq FROM dispatch_eventcounter WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0
