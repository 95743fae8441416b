"""Missed and abandoned calls called back (未接来电回拨): the console's list and its actions.

A call that rang and ended unanswered (status missed) waits in every dispatcher's list until
someone calls it back and says what came of it. One click places the call through the provider
the call came in on (Twilio's Calls API, or the PBX's click-to-call: pbx.py documents it), the
dispatcher's own extension ringing where the PBX has one; the outcome is chosen afterwards. An
attempt that found nobody ("no answer") puts the call back in the list for another try; any
other outcome takes it off.

Race-safe: the call row is locked (NOWAIT) while the attempt is placed, so of two dispatchers
clicking at once one places the call and the other gets a 409 at once; the partial unique index
one_open_call_back_per_call backs it. The provider is asked inside that transaction and before
the event is written: a refusal or an outage rolls everything back, and the call stays listed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.errors import LockNotAvailable

from dispatch.calls.telephony import pbx, twilio_adapter
from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.permissions import may_call_back, may_record_call_back_outcome
from dispatch.models import Call, CallBack, CallBackOutcome, CallStatus, SeatSession, User

# Outcomes after which the caller needs no other try.
FINAL_OUTCOMES = (CallBackOutcome.REACHED, CallBackOutcome.WRONG_NUMBER, CallBackOutcome.NOT_NEEDED)
PROVIDERS = ("twilio", "pbx")


# ---------------------------------------------------------------------------- reads


def attempts_in_order() -> Prefetch:
    """A call's attempts, oldest first, with who placed each."""
    attempts = CallBack.objects.select_related("by").order_by("placed_at", "pk")
    return Prefetch("callbacks", queryset=attempts)


def missed_calls(now: datetime | None = None) -> QuerySet[Call]:
    """Calls missed or abandoned in the last CALL_BACK_LIST_HOURS that still need calling back
    (none answered, a number to call, no final outcome yet), oldest first, with their attempts."""
    since = (now or timezone.now()) - timedelta(hours=settings.CALL_BACK_LIST_HOURS)
    done = CallBack.objects.filter(call=OuterRef("pk"), outcome__in=FINAL_OUTCOMES)
    return (
        Call.objects.filter(status=CallStatus.MISSED, answered_at__isnull=True, ringing_at__gte=since)
        .exclude(caller_number="")
        .exclude(Exists(done))
        .prefetch_related(attempts_in_order())
        .order_by("ringing_at", "pk")
    )


def attempt_summary(attempt: CallBack) -> dict:
    return {
        "id": attempt.pk,
        "by": attempt.by_id,
        "by_name": attempt.by.username,
        "seat": attempt.seat,
        "provider": attempt.provider,
        "placed_at": attempt.placed_at.isoformat(),
        "outcome": attempt.outcome,
        "outcome_at": attempt.outcome_at.isoformat() if attempt.outcome_at else None,
    }


def missed_summary(call: Call) -> dict:
    """One row of the list: who rang, when, how long before hanging up, the attempts so far."""
    attempts = list(call.callbacks.all())
    waited = (call.ended_at - call.ringing_at).total_seconds() if call.ended_at else None
    open_attempt = next((a for a in attempts if not a.outcome), None)
    return {
        "id": call.pk,
        "caller_number": call.caller_number,
        "ringing_at": call.ringing_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "waited_s": round(max(waited, 0.0), 1) if waited is not None else None,
        "attempts": len(attempts),
        "calling": attempt_summary(open_attempt) if open_attempt else None,
        "done": any(a.outcome in FINAL_OUTCOMES for a in attempts),
        "last_outcome": attempts[-1].outcome if attempts else "",
    }


# ---------------------------------------------------------------------------- placing the call


@dataclass(frozen=True)
class Placed:
    provider: str
    provider_call_id: str


def provider_for(call: Call) -> str:
    """The provider the call came in on; a call recorded any other way goes out by VOICE_PROVIDER."""
    return call.provider if call.provider in PROVIDERS else settings.VOICE_PROVIDER


def provider_error(permanent: bool, detail: str) -> ActionError:
    if permanent:
        message = _("The telephony provider refused the call back: %(detail)s") % {"detail": detail}
        return ActionError(message, "provider_refused", 422)
    message = _(
        "The call back could not be placed: the telephony provider is not answering (%(detail)s)."
    ) % {"detail": detail}
    return ActionError(message, "provider_unavailable", 503)


def place(attempt: CallBack, call: Call, base_url: str) -> Placed:
    """Ask the provider to place the call; ActionError (nothing placed) when it does not."""
    if attempt.provider == "twilio":
        path = reverse("api:twilio_call_back", kwargs={"call_back_id": attempt.pk})
        url = (settings.PUBLIC_BASE_URL or base_url.rstrip("/")) + path
        try:
            return Placed("twilio", twilio_adapter.place_call_back(attempt.to_number, url))
        except twilio_adapter.TwilioSmsError as exc:
            raise provider_error(exc.permanent, str(exc)) from exc
    if attempt.provider == "pbx":
        try:
            placed = pbx.click_to_call(
                agent=attempt.by.username,
                seat=attempt.seat,
                to=attempt.to_number,
                reference=f"callback-{attempt.pk}",
                call_id=call.provider_call_id,
            )
        except pbx.ClickToCallError as exc:
            raise provider_error(exc.permanent, str(exc)) from exc
        return Placed("pbx", placed)
    raise provider_error(True, f"no outbound calls through {attempt.provider!r}")


def current_seat(user: User) -> str:
    session = SeatSession.objects.open().filter(user=user).select_related("seat").first()
    return session.seat.name if session else ""


def locked_missed_call(call_id: int) -> Call:
    """The call's row, locked for this transaction; 409 at once when another dispatcher holds it
    (placing a call back), 404 when there is no such call."""
    try:
        call = Call.objects.select_for_update(nowait=True).filter(pk=call_id).first()
    except OperationalError as exc:
        if not isinstance(exc.__cause__, LockNotAvailable):
            raise  # the database itself: the failover retry's business, not a 409
        raise ActionError(
            _("Another dispatcher is calling this number back right now."), "call_back_busy", 409
        ) from exc
    if call is None:
        raise ActionError(_("No such call."), "not_found", 404)
    return call


def refuse_unless_waiting(call: Call) -> None:
    if call.status != CallStatus.MISSED or call.answered_at is not None:
        raise ActionError(
            _("This call was answered or is still live: there is nothing to call back."), "not_missed", 409
        )
    if not call.caller_number:
        raise ActionError(
            _("The caller's number is withheld: the call cannot be called back."), "no_number", 422
        )
    attempts = list(CallBack.objects.filter(call=call).select_related("by"))
    if running := next((a for a in attempts if not a.outcome), None):
        message = _("%(who)s is calling this number back.") % {"who": running.by.username}
        raise ActionError(message, "call_back_busy", 409)
    if done := next((a for a in attempts if a.outcome in FINAL_OUTCOMES), None):
        message = _("%(who)s already called this number back.") % {"who": done.by.username}
        raise ActionError(message, "called_back", 409)


@transaction.atomic
def call_back(call_id: int, *, actor: User, base_url: str) -> CallBack:
    """Place a call back to a missed caller for `actor` (only one at a time per call)."""
    if not may_call_back(actor):
        raise ActionError(_("Only dispatchers and supervisors call missed callers back."), "forbidden", 403)
    call = locked_missed_call(call_id)
    refuse_unless_waiting(call)
    attempt = CallBack.objects.create(
        call=call,
        placed_at=timezone.now(),
        by=actor,
        seat=current_seat(actor),
        provider=provider_for(call),
        to_number=call.caller_number,
    )
    placed = place(attempt, call, base_url)  # raises: the attempt row goes with the transaction
    CallBack.objects.filter(pk=attempt.pk).update(provider_call_id=placed.provider_call_id)
    attempt.provider_call_id = placed.provider_call_id
    call = missed_call_with_attempts(call.pk)
    record_event(
        EventKind.CALL_BACK_PLACED,
        actor=actor,
        data={**missed_summary(call), "call_back": attempt_summary(attempt)},
    )
    return attempt


def missed_call_with_attempts(call_id: int) -> Call:
    return Call.objects.filter(pk=call_id).prefetch_related(attempts_in_order()).get()


# ---------------------------------------------------------------------------- the outcome


@transaction.atomic
def record_outcome(call_back_id: int, outcome: str, *, actor: User) -> CallBack:
    """What came of an attempt, chosen after the call by whoever placed it (or a supervisor);
    once only: a second answer is a 409."""
    if outcome not in CallBackOutcome.values:
        choices = ", ".join(CallBackOutcome.values)
        raise ActionError(_("Outcome must be one of %(choices)s.") % {"choices": choices}, "bad_outcome")
    if not may_call_back(actor):
        raise ActionError(_("Only dispatchers and supervisors call missed callers back."), "forbidden", 403)
    attempt = CallBack.objects.select_related("by").filter(pk=call_back_id).first()
    if attempt is None:
        raise ActionError(_("No such call back."), "not_found", 404)
    if not may_record_call_back_outcome(actor, attempt.by_id):
        message = _("Only %(who)s, who placed this call back, or a supervisor records its outcome.") % {
            "who": attempt.by.username
        }
        raise ActionError(message, "not_yours", 403)
    now = timezone.now()
    won = CallBack.objects.filter(pk=attempt.pk, outcome="").update(outcome=outcome, outcome_at=now)
    if not won:
        raise ActionError(_("This call back's outcome is already recorded."), "outcome_recorded", 409)
    attempt.refresh_from_db()
    call = missed_call_with_attempts(attempt.call_id)
    record_event(
        EventKind.CALL_BACK_OUTCOME,
        actor=actor,
        data={**missed_summary(call), "call_back": attempt_summary(attempt)},
    )
    return attempt
