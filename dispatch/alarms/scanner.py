"""The alarm scanner's pass: which conditions hold now, read from the database; an alarm
raised for each that has none open, and each open alarm whose condition went away cleared.

The conditions, each against its target in settings (docs/targets.md):
- notice_unacknowledged: a pre-arrival notice of a patient still on board that nobody at its
  hospital acknowledged within NOTICE_ACK_ALERT_SECONDS (phone the ER);
- unit_not_acknowledging: a unit sent that has neither acknowledged nor moved on within
  TARGET_UNIT_ACK_SECONDS;
- incident_undispatched_overdue: an open incident with no unit sent TARGET_PROCESSING_SECONDS
  after the call (the console's red clock: call to dispatch, the same for every priority);
- turnout_exceeded: a unit sent that is not en route (nor further on) TARGET_TURNOUT_SECONDS
  after it was sent.
A closed incident, a unit stood down or cleared, a withdrawn or handed-over notice: no condition.

The same loop escalates a crew alert nobody answers (`escalate`): a job not acknowledged
CREW_ALERT_SMS_AFTER_SECONDS after dispatch gets an SMS to the unit's phone ("crew_sms"
outbox row), and CREW_ALERT_VOICE_AFTER_SECONDS after it a voice call ("crew_voice",
dispatch/calls/telephony/voice.py); a unit without a phone gets neither, and the timeline says so.
Each step is one `assignment.escalated` event, its marker: the step is taken under a lock on the
assignment's row, after checking the marker is not there, so scanners on several nodes take it
once. TARGET_UNIT_ACK_SECONDS later still, the unit_not_acknowledging alarm above.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dispatch.alarms.actions import clear_alarm, raise_alarm
from dispatch.alarms.reads import notice_detail
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import (
    Alarm,
    AlarmKind,
    Assignment,
    Event,
    Incident,
    IncidentStatus,
    Outbox,
    PreArrivalNotice,
)

Key = tuple[str, int, int | None]  # kind, incident, unit


@dataclass
class Condition:
    kind: AlarmKind
    incident: Incident
    assignment: Assignment | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.kind.value, self.incident.pk, self.assignment.unit_id if self.assignment else None)


# A unit past any of these has moved on from the dispatch: it acknowledged and rolled.
MOVED_ON = ("en_route_at", "on_scene_at", "patient_contact_at", "transport_started_at", "at_hospital_at")


def conditions(now: datetime) -> list[Condition]:
    """Every alarm condition that holds at `now`."""
    found: list[Condition] = []
    waiting = (
        Assignment.objects.live()
        .filter(incident__status=IncidentStatus.OPEN, **{f"{name}__isnull": True for name in MOVED_ON})
        .select_related("incident", "unit")
    )
    ack_before = now - timedelta(seconds=settings.TARGET_UNIT_ACK_SECONDS)
    turnout_before = now - timedelta(seconds=settings.TARGET_TURNOUT_SECONDS)
    for a in waiting.filter(Q(dispatched_at__lte=ack_before) | Q(dispatched_at__lte=turnout_before)):
        unit = {"call_sign": a.unit.call_sign, "dispatched_at": a.dispatched_at.isoformat()}
        if a.acknowledged_at is None and a.dispatched_at <= ack_before:
            detail = {**unit, "target_s": settings.TARGET_UNIT_ACK_SECONDS}
            found.append(Condition(AlarmKind.UNIT_NOT_ACKNOWLEDGING, a.incident, a, detail))
        if a.dispatched_at <= turnout_before:
            detail = {**unit, "target_s": settings.TARGET_TURNOUT_SECONDS}
            found.append(Condition(AlarmKind.TURNOUT_EXCEEDED, a.incident, a, detail))

    dispatch_before = now - timedelta(seconds=settings.TARGET_PROCESSING_SECONDS)
    undispatched = (
        Incident.objects.open()
        .filter(dispatched_at__isnull=True)
        .annotate(started=Coalesce("call_received_at", "created_at"))
        .filter(started__lte=dispatch_before)
    )
    for incident in undispatched:
        detail = {"target_s": settings.TARGET_PROCESSING_SECONDS, "since": incident.started.isoformat()}
        found.append(Condition(AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE, incident, None, detail))

    notice_before = now - timedelta(seconds=settings.NOTICE_ACK_ALERT_SECONDS)
    notices = (
        PreArrivalNotice.objects.on_board()
        .unacknowledged()
        .filter(sent_at__lte=notice_before, assignment__incident__status=IncidentStatus.OPEN)
        .select_related("hospital", "assignment__incident", "assignment__unit")
    )
    for notice in notices:
        a = notice.assignment
        found.append(Condition(AlarmKind.NOTICE_UNACKNOWLEDGED, a.incident, a, notice_detail(notice)))
    return found


def alarm_key(alarm: Alarm) -> Key:
    return (alarm.kind, alarm.incident_id, alarm.unit_id)


def scan(now: datetime | None = None) -> dict[str, int]:
    """One pass: raise what is due, clear what went away. The counts of each."""
    now = now or timezone.now()
    due = {c.key: c for c in conditions(now)}
    open_alarms = list(Alarm.objects.open())
    raised = cleared = 0
    for alarm in open_alarms:
        if alarm_key(alarm) not in due and clear_alarm(alarm, now):
            cleared += 1
    held = {alarm_key(a) for a in open_alarms}
    for key, c in due.items():
        if key in held:
            continue
        if raise_alarm(c.kind, c.incident, assignment=c.assignment, detail=c.detail, now=now):
            raised += 1
    return {"raised": raised, "cleared": cleared}


# ---------------------------------------------------------------------------- crew alert escalation

SMS, VOICE, NO_PHONE = "sms", "voice", "no_phone"
CHANNELS = {SMS: "crew_sms", VOICE: "crew_voice"}


def escalation_steps() -> dict[str, int]:
    """Each step and how long after the dispatch it is due, from the settings."""
    return {SMS: settings.CREW_ALERT_SMS_AFTER_SECONDS, VOICE: settings.CREW_ALERT_VOICE_AFTER_SECONDS}


def unanswered() -> Any:
    """Jobs whose crew has neither acknowledged nor moved on: what an escalation is for."""
    return Assignment.objects.live().filter(
        incident__status=IncidentStatus.OPEN,
        acknowledged_at__isnull=True,
        **{f"{name}__isnull": True for name in MOVED_ON},
    )


def steps_taken(assignment_ids: list[int]) -> dict[int, set[str]]:
    taken: dict[int, set[str]] = {}
    rows = Event.objects.filter(kind=EventKind.ASSIGNMENT_ESCALATED, data__assignment__in=assignment_ids)
    for assignment_id, step in rows.values_list("data__assignment", "data__step"):
        taken.setdefault(assignment_id, set()).add(step)
    return taken


def escalate(now: datetime | None = None) -> dict[str, int]:
    """One pass of the crew alert's escalation: every step due and not yet taken, taken once.
    The counts of each step taken."""
    now = now or timezone.now()
    steps = escalation_steps()
    counts = dict.fromkeys([SMS, VOICE, NO_PHONE], 0)
    due_from = now - timedelta(seconds=min(steps.values()))
    candidates = list(unanswered().filter(dispatched_at__lte=due_from).values_list("pk", "dispatched_at"))
    taken = steps_taken([pk for pk, _at in candidates])
    for pk, dispatched_at in candidates:
        done = taken.get(pk, set())
        if NO_PHONE in done:
            continue
        for step, after_s in steps.items():
            if step not in done and dispatched_at <= now - timedelta(seconds=after_s):
                result = take_step(pk, step, after_s)
                if result:
                    counts[result] += 1
                if result == NO_PHONE:
                    break
    return counts


@transaction.atomic
def take_step(assignment_id: int, step: str, after_s: int) -> str | None:
    """Take one escalation step for one job, unless it was taken meanwhile (another scanner)
    or the job no longer waits (acknowledged, moved on, stood down, cleared): the step taken
    (NO_PHONE when the unit has no phone to reach), or None."""
    # The row lock serialises scanners on this job, and orders this step after an
    # acknowledgement committing now (it updates the same row).
    list(Assignment.objects.select_for_update().filter(pk=assignment_id).values_list("pk"))
    assignment = unanswered().filter(pk=assignment_id).select_related("incident", "unit").first()
    if assignment is None:
        return None
    taken = steps_taken([assignment.pk]).get(assignment.pk, set())
    if step in taken or NO_PHONE in taken:
        return None
    unit, incident = assignment.unit, assignment.incident
    phone = unit.phone.strip()
    if not phone:
        record_escalation(assignment, NO_PHONE, after_s, None, no_phone_words(unit.call_sign))
        return NO_PHONE
    words = {"body": sms_body(assignment)} if step == SMS else {"speech": speech(assignment)}
    row = Outbox.objects.create(
        channel=CHANNELS[step],
        recipient=phone,
        incident=incident,
        payload={"assignment": assignment.pk, "unit": unit.pk, **words},
    )
    record_escalation(assignment, step, after_s, row, step_words(step, unit.call_sign, after_s))
    return step


def record_escalation(
    assignment: Assignment, step: str, after_s: int, row: Outbox | None, words: dict[str, str]
) -> None:
    # On the incident and the unit: the control room's timeline and the crew's own.
    record_event(
        EventKind.ASSIGNMENT_ESCALATED,
        incident=assignment.incident,
        unit=assignment.unit,
        data={
            "assignment": assignment.pk,
            "step": step,
            "call_sign": assignment.unit.call_sign,
            "after_s": after_s,
            "outbox": row.pk if row else None,
            **words,
        },
    )


def in_both(message: str, values: dict[str, Any]) -> dict[str, str]:
    """A timeline line in the centre's two languages (like the notice alarm's text/text_en)."""
    with translation.override("zh-hans"):
        text = _(message) % values
    with translation.override("en"):
        text_en = _(message) % values
    return {"text": text, "text_en": text_en}


def step_words(step: str, call_sign: str, after_s: int) -> dict[str, str]:
    values = {"unit": call_sign, "seconds": after_s}
    if step == SMS:
        return in_both(gettext_noop("SMS sent to %(unit)s (not acknowledged after %(seconds)s s)"), values)
    return in_both(gettext_noop("Voice call to %(unit)s (not acknowledged after %(seconds)s s)"), values)


def no_phone_words(call_sign: str) -> dict[str, str]:
    message = gettext_noop("%(unit)s has no phone: no SMS or voice call (not acknowledged)")
    return in_both(message, {"unit": call_sign})


def job_values(assignment: Assignment) -> dict[str, Any]:
    incident = assignment.incident
    return {
        "unit": assignment.unit.call_sign,
        "number": incident.number,
        "priority": incident.priority or "-",
        "address": incident.address or "-",
        "complaint": incident.chief_complaint or "-",
    }


def sms_body(assignment: Assignment) -> str:
    """The crew's SMS, Chinese first then English: what, where, and to acknowledge."""
    both = in_both(
        gettext_noop("120 job for %(unit)s: %(number)s, priority %(priority)s, %(address)s. Acknowledge it."),
        job_values(assignment),
    )
    return f"{both['text']} / {both['text_en']}"


def speech(assignment: Assignment) -> str:
    """What the voice call says (in Chinese; the telephony sender reads it twice)."""
    with translation.override("zh-hans"):
        return _(
            "120 dispatch for %(unit)s. New job, priority %(priority)s. Address: %(address)s. "
            "Complaint: %(complaint)s. Acknowledge on the tablet now."
        ) % job_values(assignment)
