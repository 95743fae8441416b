"""The outbox's crew channels (docs/decisions/0015-crew-alerts.md).

"crew_alert" (written by dispatch_unit with every dispatch): Web Push to the tablets of the
unit's crew on shift (dispatch.crew.push); when the unit has no subscription, push is not
configured, every subscription is gone or refused, or push still fails at the PUSH_TRIES-th
attempt (push services unreachable, a broken key), the alert goes by SMS to the unit's phone
instead, the reference saying why. When that is impossible
too the row fails with the reason (the console's escalation sees a failed alert).

"crew_sms" (written by the escalation when nobody acknowledged): recipient the unit's phone in
E.164, payload {"assignment", "unit", "body"}; the body is sent as it is.

They live here, not in dispatch.crew, because the SMS fallback is calls' (crew never imports
calls).
"""

import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from dispatch.calls import sms
from dispatch.core.outbox import DeliveryError, register
from dispatch.crew import push
from dispatch.models import Assignment, Outbox, Priority

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Push attempts before a push service that keeps failing is given up for SMS: the alert must
# arrive within the turnout target, not after the outbox's backoff has run its course.
PUSH_TRIES = 2


def alert_text(assignment: Assignment) -> str:
    """The SMS a unit's phone gets, in the centre's language."""
    incident = assignment.incident
    with translation.override(settings.LANGUAGE_CODE):
        priority = Priority(incident.priority).label if incident.priority else _("priority not set")
        return _(
            "120 job %(number)s for %(unit)s, %(priority)s: %(complaint)s, %(address)s. "
            "Acknowledge on the tablet now."
        ) % {
            "number": incident.number,
            "unit": assignment.unit.call_sign,
            "priority": str(priority),
            "complaint": incident.chief_complaint or _("complaint not recorded"),
            "address": incident.address or _("address not confirmed"),
        }


def by_sms(assignment: Assignment, why: str) -> str:
    phone = assignment.unit.phone
    if not phone:
        raise DeliveryError(
            f"Crew alert not delivered: {why}, and unit {assignment.unit.call_sign} has no phone for SMS.",
            permanent=True,
        )
    try:
        # The reference says why push did not carry it (the row's last_error is cleared when sent).
        return f"sms:{sms.send(phone, alert_text(assignment))} ({why})"
    except sms.SmsError as exc:
        raise sms.SmsError(f"{why}; SMS to the unit's phone failed: {exc}", permanent=exc.permanent) from exc


def send_crew_alert(row: Outbox) -> str:
    assignment = (
        Assignment.objects.select_related("unit", "incident").filter(pk=row.payload.get("assignment")).first()
    )
    if assignment is None:
        raise DeliveryError("The assignment of this crew alert does not exist.", permanent=True)
    if assignment.cancelled_at or assignment.cleared_at:
        return "skipped: the assignment ended before the alert went out"
    if assignment.acknowledged_at:
        return "skipped: the crew had already acknowledged"
    if not push.configured():
        return by_sms(assignment, "Web Push is not configured (VAPID_PRIVATE_KEY)")
    try:
        result = push.send_alert(assignment)
    except Exception as exc:  # a broken VAPID key, a bug: the alert must still get through
        if row.attempts < PUSH_TRIES:
            raise
        return by_sms(assignment, f"Web Push failed: {type(exc).__name__}: {exc}"[:300])
    if result.delivered:
        return f"webpush:{result.delivered}"
    if result.transient and row.attempts < PUSH_TRIES:
        raise DeliveryError(f"Web Push failed for now: {result.summary()}")  # retried
    if not result.attempted:
        why = f"unit {assignment.unit.call_sign} has no tablet subscribed to alerts"
    else:
        why = f"Web Push failed: {result.gone} gone; {result.summary()}".rstrip("; ")
    return by_sms(assignment, why)


def send_crew_sms(row: Outbox) -> str:
    body = str(row.payload.get("body", "")).strip()
    if not body:
        raise DeliveryError("The crew SMS has no body.", permanent=True)
    if not E164.match(row.recipient):
        raise DeliveryError(
            f"The crew SMS recipient {row.recipient!r} is not an E.164 number.", permanent=True
        )
    return sms.send(row.recipient, body)


register("crew_alert", send_crew_alert)
register("crew_sms", send_crew_sms)
