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
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from dispatch.alarms.actions import clear_alarm, raise_alarm
from dispatch.alarms.reads import notice_detail
from dispatch.models import Alarm, AlarmKind, Assignment, Incident, IncidentStatus, PreArrivalNotice

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
