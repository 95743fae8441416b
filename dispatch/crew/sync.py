"""The offline queue: a tablet that was out of reach sends its writes as one ordered batch.

Each operation is its own transaction: one refused in the middle keeps those before it and does
not stop those after it, and every failure but a database outage gets a stored answer, so the
queue behind it moves on. Sending the same batch again applies nothing twice."""

import logging
from datetime import datetime
from typing import Any, NoReturn

import pydantic
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.idempotency import Outcome, error_body, run_once
from dispatch.core.inputs import NUL, nul_message, nul_path
from dispatch.crew.schemas import MAX_BATCH
from dispatch.crew.writes import OPERATIONS, iso, perform
from dispatch.models import User

log = logging.getLogger(__name__)


class OperationIn(Schema):
    key: str = Field(..., max_length=80, description="the operation's idempotency key")
    kind: str = Field(..., max_length=40, description=", ".join(OPERATIONS))
    client_time: datetime = Field(description="the tablet's clock when the crew acted")
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="as the direct endpoint's body, with `assignment` or `message` naming the target",
    )


class SyncIn(Schema):
    operations: list[OperationIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class OperationResultOut(Schema):
    key: str
    kind: str
    status: int = Field(description="the HTTP status the operation alone would have had")
    ok: bool
    replayed: bool = Field(description="answered from the record: nothing was applied again")
    result: dict[str, Any] | None
    error: str | None
    code: str | None


class SyncOut(Schema):
    results: list[OperationResultOut]


def sync_one(user: User, envelope: OperationIn) -> dict:
    try:
        outcome = queued(user, envelope)
    except ActionError as exc:  # a bad or reused key: refused without being recorded
        outcome = Outcome(exc.status, error_body(exc), replayed=False)
    except (OperationalError, InterfaceError):
        # The database is failing over: nothing was applied, and the tablet sends it again.
        log.warning(
            "queued operation %s (%s): database unavailable", envelope.key, envelope.kind, exc_info=True
        )
        body = {
            "error": _("The server is busy: this operation was not applied; it is sent again."),
            "code": "unavailable",
        }
        outcome = Outcome(503, body, replayed=False)
    except Exception:
        log.exception("queued operation %s (%s) failed", envelope.key, envelope.kind)
        outcome = not_applied(user, envelope)
    ok = 200 <= outcome.status < 300
    return {
        "key": envelope.key,
        "kind": envelope.kind,
        "status": outcome.status,
        "ok": ok,
        "replayed": outcome.replayed,
        "result": outcome.body if ok else None,
        "error": None if ok else outcome.body.get("error"),
        "code": None if ok else outcome.body.get("code"),
    }


def not_applied(user: User, envelope: OperationIn) -> Outcome:
    """An operation the server failed on (a fault of ours, logged): refused and recorded, so the
    tablet shows the crew it was not applied and the queue behind it moves on instead of
    resending it forever."""
    refusal = ActionError(
        _("The server could not apply this (the fault is logged). Enter it again if it is still needed."),
        "not_applied",
        422,
    )
    try:
        return refused_once(user, envelope, refusal)
    except Exception:
        log.exception("could not record the refusal of queued operation %s", envelope.key)
        return Outcome(refusal.status, error_body(refusal), replayed=False)


def queued(user: User, envelope: OperationIn) -> Outcome:
    operation = OPERATIONS.get(envelope.kind)
    try:
        if operation is None:
            raise ActionError(
                _("Unknown operation kind %(kind)r: use one of %(kinds)s.")
                % {"kind": envelope.kind.replace(NUL, ""), "kinds": ", ".join(OPERATIONS)},
                "bad_kind",
                422,
            )
        field = nul_path(envelope.data, "data")
        if field is not None:
            raise ActionError(nul_message(field), "nul_character", 422)
        op = operation.schema.model_validate(envelope.data)
    except (ActionError, pydantic.ValidationError) as exc:
        return refused_once(user, envelope, exc)
    return perform(user, envelope.kind, op, envelope.client_time, envelope.key)


def refused_once(user: User, envelope: OperationIn, exc: Exception) -> Outcome:
    """A malformed operation is recorded as refused like any other, so its replays agree."""
    if isinstance(exc, pydantic.ValidationError):
        exc = ActionError(_("Invalid operation. ") + problems(exc), "invalid", 422)

    def refuse() -> NoReturn:
        raise exc

    request = {"data": envelope.data, "client_time": iso(envelope.client_time)}
    kind = envelope.kind if envelope.kind in OPERATIONS else "unknown"  # stored: never the raw text
    return run_once(user, envelope.key, kind, request, refuse)


def problems(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" if e.get("loc") else str(e.get("msg"))
        for e in exc.errors()
    )
