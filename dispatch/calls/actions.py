"""Actions on calls: provider call events, taking a call, escalation, SMS and caller location.

Call events come from every telephony adapter in one normalised form (dispatch.calls.telephony);
providers repeat callbacks and deliver them out of order, so each kind is applied with a
conditional update that makes a repeat a no-op.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dispatch.calls.aml import AmlFix
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.permissions import DISPATCHERS, may_dispatch
from dispatch.incidents.actions import create_incident, locate_incident
from dispatch.models import (
    Call,
    CallerLocation,
    CallStatus,
    Incident,
    LocationLink,
    Outbox,
    User,
)
from fleet.models import CrewShift

SMS_MAX = 480  # three concatenated Chinese SMS segments
# How long after it ended a call answered on an unsigned handset can still be taken over.
TAKEOVER_MINUTES = 30


# ---------------------------------------------------------------------------- numbers


def e164(number: str) -> str:
    """A caller number in E.164 where its form is unambiguous (decision 12, docs/decisions/): mainland
    mobiles and 0086 prefixes become +86...; anything else is kept as the network gave it."""
    number = number.strip().replace(" ", "").replace("-", "")
    if number.startswith("00") and number[2:].isdigit():
        return "+" + number[2:]
    if len(number) == 11 and number.isdigit() and number.startswith("1"):
        return "+86" + number
    return number


def number_variants(number: str) -> list[str]:
    """The forms the same phone may have been typed in: +8613912345678 and 13912345678."""
    full = e164(number)
    forms = {number.strip(), full}
    if full.startswith("+86"):
        forms.add(full[3:])
    return sorted(f for f in forms if f)


# ---------------------------------------------------------------------------- summaries


def call_incident(call: Call) -> Incident | None:
    return call.incidents.order_by("created_at").first()


def call_summary(call: Call, incident: Incident | None = None) -> dict:
    incident = incident or call_incident(call)
    return {
        "id": call.pk,
        "provider": call.provider,
        "caller_number": call.caller_number,
        "called_number": call.called_number,
        "status": call.status,
        "ringing_at": call.ringing_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "escalated_at": call.escalated_at.isoformat() if call.escalated_at else None,
        "answered_by": call.answered_by_id,
        "answered_by_name": call.answered_by.username if call.answered_by else "",
        "recording_url": call.recording_url,
        "incident": incident.pk if incident else None,
        "incident_number": incident.number if incident else "",
    }


# ---------------------------------------------------------------------------- call events


def locked_call(event: CallEvent) -> tuple[Call, bool]:
    """The call row for this provider id, locked for this transaction; created if new.
    Two first callbacks racing: the second insert waits on the unique index, then loses."""
    key = {"provider": event.provider, "provider_call_id": checked_text(event.call_id, "call id", 64)}
    call = Call.objects.select_for_update().filter(**key).first()
    if call is not None:
        return call, False
    try:
        with transaction.atomic():
            call = Call.objects.create(
                **key,
                caller_number=checked_text(e164(event.caller), "caller number", 32),
                called_number=checked_text(event.called, "called number", 32),
                ringing_at=event.at,
            )
            return call, True
    except IntegrityError:
        return Call.objects.select_for_update().get(**key), False


@transaction.atomic
def record_call_event(event: CallEvent) -> Call:
    """Apply one provider call event; a repeat or a late, out-of-order one changes nothing."""
    call, created = locked_call(event)
    if created and event.kind == CallEventKind.RECORDING:
        # Only a finished call has a recording: never let a late-known call look like it rings.
        Call.objects.filter(pk=call.pk).update(status=CallStatus.ENDED, ended_at=event.at)
        call.refresh_from_db()
    if event.kind == CallEventKind.RINGING:
        return on_ringing(call, created, event)
    if event.kind == CallEventKind.ANSWERED:
        return on_answered(call, event)
    if event.kind == CallEventKind.ENDED:
        return on_ended(call, event)
    return on_recording(call, event)


def on_ringing(call: Call, created: bool, event: CallEvent) -> Call:
    if created:
        record_event(EventKind.CALL_RINGING, data=call_summary(call))
    elif event.at < call.ringing_at:
        # A late "ringing" after another callback created the row: its time is the truer one.
        Call.objects.filter(pk=call.pk).update(ringing_at=event.at)
        call.ringing_at = event.at
    return call


def on_answered(call: Call, event: CallEvent) -> Call:
    agent = User.objects.filter(username=event.agent, role__in=DISPATCHERS).first() if event.agent else None
    if call.status != CallStatus.RINGING:
        return call
    if agent is not None:
        return take_call(call, actor=agent, at=event.at)
    # Answered by someone the PBX cannot name: the answer time still counts.
    Call.objects.filter(pk=call.pk, status=CallStatus.RINGING).update(
        status=CallStatus.ANSWERED, answered_at=event.at
    )
    call.refresh_from_db()
    record_event(EventKind.CALL_ANSWERED, data=call_summary(call))
    return call


def on_ended(call: Call, event: CallEvent) -> Call:
    final = CallStatus.MISSED if call.status == CallStatus.RINGING else CallStatus.ENDED
    won = Call.objects.filter(pk=call.pk, status__in=[CallStatus.RINGING, CallStatus.ANSWERED]).update(
        status=final, ended_at=max(event.at, call.answered_at or event.at)
    )
    if not won:
        return call
    call.refresh_from_db()
    incident = call_incident(call)
    record_event(EventKind.CALL_ENDED, incident=incident, data=call_summary(call, incident))
    return call


def on_recording(call: Call, event: CallEvent) -> Call:
    url = checked_text(event.recording_url, "recording url", 500)
    if not url or call.recording_url == url:
        return call
    Call.objects.filter(pk=call.pk).update(recording_url=url)
    call.recording_url = url
    incident = call_incident(call)
    # On the incident's timeline: the event carries the incident.
    record_event(EventKind.CALL_RECORDING, incident=incident, data=call_summary(call, incident))
    return call


# ---------------------------------------------------------------------------- distribution


@transaction.atomic
def take_call(call: Call, *, actor: User, at: datetime | None = None) -> Call:
    """The first dispatcher to take a ringing call owns it (a conditional update decides);
    the incident is opened at once and carries the call's ring and answer times.

    A call answered on a handset no dispatcher is signed in on (the PBX could name nobody) is
    taken over the same way, while it lasts or after it ended: it keeps the handset's answer
    time, and its recording, when it comes, reaches the incident's timeline."""
    if not may_dispatch(actor):
        raise ActionError(_("Only dispatchers and supervisors take calls."), "forbidden", 403)
    now = at or timezone.now()
    won = Call.objects.filter(pk=call.pk, status=CallStatus.RINGING).update(
        status=CallStatus.ANSWERED, answered_at=now, answered_by=actor
    )
    won = won or Call.objects.filter(unowned_answer(), pk=call.pk).update(answered_by=actor)
    call.refresh_from_db()
    if not won:
        raise ActionError(not_takeable(call), "call_taken", 409)
    incident = create_incident(
        actor=actor,
        caller_number=call.caller_number,
        call_received_at=call.ringing_at,
        call_answered_at=call.answered_at,
    )
    Incident.objects.filter(pk=incident.pk).update(call=call)
    incident.call = call
    # A position the handset sent before anyone answered (AML comes within seconds) joins it.
    CallerLocation.objects.filter(call=call, incident=None).update(incident=incident)
    record_event(EventKind.CALL_ANSWERED, actor=actor, incident=incident, data=call_summary(call, incident))
    return call


def unowned_answer() -> Q:
    """Calls answered on a handset nobody is signed in on, not yet taken over on a console (taking
    a call always names who took it), for TAKEOVER_MINUTES after they ended. Conditions on the
    call row alone: the conditional update is rechecked on the row two consoles race for."""
    recent = timezone.now() - timedelta(minutes=TAKEOVER_MINUTES)
    answered = Q(answered_at__isnull=False, answered_by__isnull=True)
    return answered & (Q(status=CallStatus.ANSWERED) | Q(status=CallStatus.ENDED, ended_at__gte=recent))


def not_takeable(call: Call) -> str:
    if call.answered_by is not None:
        return _("This call was already taken by %(who)s.") % {"who": call.answered_by.username}
    if call.status == CallStatus.ANSWERED:
        return _("This call was already taken by %(who)s.") % {"who": _("another dispatcher")}
    return _("This call has ended.")


def escalate_unanswered_calls(now: datetime | None = None) -> list[Call]:
    """Escalate to supervisors every call ringing longer than CALL_ESCALATION_SECONDS.
    Safe on several nodes at once: each call is claimed by a conditional update."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.CALL_ESCALATION_SECONDS)
    ids = list(Call.objects.unanswered_since(before).values_list("pk", flat=True)[:200])
    return [call for call in (escalate_call(pk, now) for pk in ids) if call is not None]


@transaction.atomic
def escalate_call(pk: int, now: datetime) -> Call | None:
    won = Call.objects.filter(pk=pk, status=CallStatus.RINGING, escalated_at__isnull=True).update(
        escalated_at=now
    )
    if not won:
        return None  # answered, ended or escalated by another node meanwhile
    call = Call.objects.get(pk=pk)
    waited = (now - call.ringing_at).total_seconds()
    record_event(EventKind.CALL_ESCALATED, data={**call_summary(call), "waited_s": round(waited, 1)})
    return call


# ---------------------------------------------------------------------------- SMS


def sms_number(to: str) -> str:
    """The number in E.164, or a 422 saying the form it must have."""
    to = e164(checked_text(to, "phone number", 32))
    if not to.startswith("+") or not to[1:].isdigit() or len(to) < 8:
        raise ActionError(_("Phone number must be in E.164 form, e.g. +8613912345678."), "bad_number")
    return to


@transaction.atomic
def queue_sms(to: str, body: str, *, actor: User | None, incident: Incident | None = None) -> Outbox:
    """A message to a caller or a crew: written to the outbox, sent by run_outbox."""
    to = sms_number(to)
    body = checked_text(body, "message", SMS_MAX)
    if not body:
        raise ActionError(_("The message is empty."), "empty_message")
    row = Outbox.objects.create(channel="sms", recipient=to, incident=incident, payload={"body": body})
    record_event(
        EventKind.SMS_QUEUED,
        actor=actor,
        incident=incident,
        data={"outbox": row.pk, "to": to, "length": len(body)},
    )
    return row


def may_text(number: str, incident: Incident | None) -> bool:
    """Whether the console may text this number (E.164): the incident's caller (the number typed
    on it or its call's), or a crew member on shift. Nothing else: the centre's number must not
    carry anyone's text to anyone."""
    callers = (
        [incident.caller_number, incident.call.caller_number if incident.call else ""] if incident else []
    )
    if any(e164(n) == number for n in callers if n):
        return True
    crew = CrewShift.objects.current().exclude(user__phone="").values_list("user__phone", flat=True)
    return any(e164(phone) == number for phone in crew)


@transaction.atomic
def send_console_sms(to: str, body: str, *, actor: User, incident: Incident | None = None) -> Outbox:
    """A dispatcher's SMS from the console, to the incident's caller or a crew member on shift."""
    number = sms_number(to)
    if not may_text(number, incident):
        raise ActionError(
            _(
                "An SMS can only go to this incident's caller or to a crew member on shift; "
                "%(number)s is neither."
            )
            % {"number": number},
            "recipient_not_allowed",
        )
    return queue_sms(number, body, actor=actor, incident=incident)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def location_link_text(url: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("120 Emergency Centre: open this link to send us your location: %(url)s") % {"url": url}


@transaction.atomic
def send_location_link(call: Call, *, actor: User, base_url: str) -> tuple[LocationLink, str]:
    """Text the caller a one-time link to the page that reads the phone's position. Returns
    the link row and its URL (the token itself is never stored)."""
    if not call.caller_number:
        raise ActionError(_("The caller's number is withheld: no link can be sent."), "no_number")
    # The call row is locked so two consoles sending at once are counted one after the other.
    Call.objects.select_for_update().filter(pk=call.pk).first()
    sent = LocationLink.objects.filter(call=call).count()
    if sent >= settings.LOCATION_LINKS_PER_CALL:
        raise ActionError(
            _(
                "%(count)d location links were already sent for this call, the most allowed: "
                "ask the caller where they are instead."
            )
            % {"count": sent},
            "too_many_links",
            409,
        )
    token = secrets.token_urlsafe(18)
    incident = call_incident(call)
    link = LocationLink.objects.create(
        token_hash=token_hash(token),
        call=call,
        incident=incident,
        phone=call.caller_number,
        created_by=actor,
        expires_at=timezone.now() + timedelta(minutes=settings.LOCATION_LINK_MINUTES),
    )
    url = f"{base_url.rstrip('/')}/l/{token}"
    sms = queue_sms(call.caller_number, location_link_text(url), actor=actor, incident=incident)
    record_event(
        EventKind.CALL_LOCATION_LINK,
        actor=actor,
        incident=incident,
        data={"call": call.pk, "link": link.pk, "outbox": sms.pk, "expires_at": link.expires_at.isoformat()},
    )
    return link, url


# ---------------------------------------------------------------------------- caller location


def location_summary(location: CallerLocation) -> dict:
    return {
        "id": location.pk,
        "source": location.source,
        "call": location.call_id,
        "incident": location.incident_id,
        "caller_number": location.caller_number,
        "lon": location.point.x,
        "lat": location.point.y,
        "accuracy_m": location.accuracy_m,
        "method": location.method,
        "measured_at": location.measured_at.isoformat() if location.measured_at else None,
        "received_at": location.received_at.isoformat(),
    }


@transaction.atomic
def record_caller_location(
    *,
    source: str,
    point: Point,
    accuracy_m: float | None,
    caller_number: str,
    call: Call | None = None,
    incident: Incident | None = None,
    measured_at: datetime | None = None,
    method: str = "",
    raw: dict | None = None,
) -> CallerLocation:
    if accuracy_m is not None and not (0 <= accuracy_m <= 100_000):
        raise ActionError(_("Accuracy must be 0 to 100000 metres."), "bad_accuracy")
    location = CallerLocation.objects.create(
        source=source,
        point=point,
        accuracy_m=accuracy_m,
        caller_number=e164(caller_number),
        call=call,
        incident=incident or (call_incident(call) if call else None),
        measured_at=measured_at,
        method=method,
        raw=raw or {},
    )
    record_event(EventKind.CALLER_LOCATION, incident=location.incident, data=location_summary(location))
    return location


@transaction.atomic
def use_location_link(
    token: str, point: Point, accuracy_m: float | None, measured_at: datetime | None, raw: dict
) -> CallerLocation:
    """The caller's page posts its position: the token works once, until it expires."""
    now = timezone.now()
    digest = token_hash(token)
    won = LocationLink.objects.filter(token_hash=digest, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not won:
        raise ActionError(_("This link has been used or has expired."), "link_used", 410)
    link = LocationLink.objects.select_related("call").get(token_hash=digest)
    return record_caller_location(
        source="sms_link",
        point=point,
        accuracy_m=accuracy_m,
        caller_number=link.phone,
        call=link.call,
        incident=link.incident,
        measured_at=measured_at,
        method="browser",
        raw=raw,
    )


def matching_call(number: str, at: datetime) -> Call | None:
    """The latest call from this number that began at most AML_MATCH_MINUTES before `at`."""
    window = timedelta(minutes=settings.AML_MATCH_MINUTES)
    return (
        Call.objects.filter(caller_number__in=number_variants(number), ringing_at__gte=at - window)
        .filter(ringing_at__lte=at + timedelta(minutes=2))  # clocks differ a little
        .order_by("-ringing_at")
        .first()
    )


@transaction.atomic
def adopt_caller_location(location: CallerLocation, incident: Incident, *, actor: User) -> Incident:
    """Use the handset's position as the incident's location (with its accuracy)."""
    if location.incident_id not in (None, incident.pk):
        raise ActionError(_("This position belongs to another incident."), "wrong_incident", 409)
    if location.incident_id is None:
        CallerLocation.objects.filter(pk=location.pk).update(incident=incident)
    return locate_incident(
        incident, location.point, actor=actor, source=location.source, accuracy_m=location.accuracy_m
    )


def record_aml(fix: AmlFix) -> CallerLocation | None:
    """An AML fix joins the call from the same number around that time (the incident too, if
    the call was taken). A message with no position (pm=N) stores nothing."""
    if not fix.has_position:
        return None
    at = fix.measured_at or timezone.now()
    call = matching_call(fix.number, at)
    return record_caller_location(
        source="aml",
        point=Point(fix.lon, fix.lat, srid=4326),
        accuracy_m=fix.accuracy_m,
        caller_number=fix.number,
        call=call,
        measured_at=fix.measured_at,
        method=fix.method,
        raw={"form": fix.form, "confidence": fix.confidence, **fix.raw},
    )
