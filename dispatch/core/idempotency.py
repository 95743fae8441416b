"""Apply a write at most once per idempotency key, and answer its retries from the record.

A tablet that loses its connection cannot know whether its request arrived, so it sends it
again with the same key. The first request runs the action and stores its answer in the same
transaction; a repeat gets that answer back and runs nothing. A refusal (an ActionError: 409
out of order, 404, ...) is stored too, so a queued change refused once is not applied later
when the state has moved on and would allow it.

A retry writes (last_seen_at, replays) instead of only reading: under synchronous replication
(Patroni, docs/platform-notes.md) a first commit whose wait for the standby was cancelled is visible on the
primary but may not survive a failover. A retry that writes waits for the standby itself before
it answers, so the answer the tablet finally gets is durable. Never `ON CONFLICT DO NOTHING`.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.models import IdempotencyKey, User

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")

# Claim the key, or touch it if it exists. The row lock makes a concurrent request with the same
# key wait for the first one's commit, and then see its stored answer.
CLAIM_SQL = """
    INSERT INTO dispatch_idempotencykey
        (key, user_id, operation, fingerprint, created_at, last_seen_at, replays, status_code, response)
    VALUES (%s, %s, %s, %s, %s, %s, 0, 0, '{}')
    ON CONFLICT (key) DO UPDATE SET
        last_seen_at = EXCLUDED.last_seen_at,
        replays = dispatch_idempotencykey.replays + 1
    RETURNING replays, user_id, fingerprint, status_code, response
"""


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


def checked_key(key: str | None) -> str:
    """The key as sent, or a 422 saying what a key must look like."""
    key = (key or "").strip()
    if not key:
        raise ActionError(
            _("Every write needs an Idempotency-Key header (or an idempotency_key field)."),
            "idempotency_key_required",
            422,
        )
    if not KEY_PATTERN.match(key):
        raise ActionError(
            _("An idempotency key is 8 to 80 letters, digits or . _ : - (a UUID will do)."),
            "bad_idempotency_key",
            422,
        )
    return key


def fingerprint(request: dict[str, Any]) -> str:
    """A stable hash of what was asked: the same request always gives the same value."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def error_body(exc: ActionError) -> dict[str, Any]:
    """The same shape as every other API error (dispatch.core.errors.json_error)."""
    return {"error": exc.message, "code": exc.code}


def run_once(
    user: User,
    key: str,
    operation: str,
    request: dict[str, Any],
    apply: Callable[[], tuple[int, dict[str, Any]]],
) -> Outcome:
    """Run `apply` (which returns status and JSON body) once for this key; a repeat with the same
    request returns what the first returned. The same key with another request raises a 422.

    `apply` runs in a savepoint inside the key's transaction: an ActionError rolls back its
    writes and is stored as the answer; any other exception rolls back everything, the key too,
    so the request can be tried again."""
    key = checked_key(key)
    digest = fingerprint({"operation": operation, **request})
    with transaction.atomic():
        replays, owner, stored_digest, status, body = claim(key, user, operation, digest)
        if replays > 0:
            if owner != user.pk or stored_digest != digest:
                raise ActionError(
                    _("This idempotency key was already used for a different request; use a new key."),
                    "idempotency_key_reused",
                    422,
                )
            return Outcome(status, body, replayed=True)
        status, body = applied(apply)
        store(key, status, body)
    return Outcome(status, body, replayed=False)


def claim(key: str, user: User, operation: str, digest: str) -> tuple[int, int | None, str, int, dict]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [key, user.pk, operation[:40], digest, now, now])
        replays, owner, stored_digest, status, body = cursor.fetchone()
    if isinstance(body, str):  # Django reads jsonb as text and leaves decoding to JSONField
        body = json.loads(body)
    return replays, owner, stored_digest, status, body


def applied(apply: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    try:
        with transaction.atomic():
            return apply()
    except ActionError as exc:
        return exc.status, error_body(exc)


def store(key: str, status: int, body: dict[str, Any]) -> None:
    # Through the encoder, so datetimes in a body are stored as the client will read them.
    body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    IdempotencyKey.objects.filter(key=key).update(status_code=status, response=body)
