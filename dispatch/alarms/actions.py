"""Raising, acknowledging and clearing alarms: each one transaction and one event.

Alarm events name the incident but neither unit nor hospital (the unit is in their data), so
the live socket and the event log give them to the control room only: a crew receives its
unit's events and a hospital its patients', and an alarm is about them, not for them.
Several scanners may run at once (one per app node): a raise is claimed by the partial unique
constraint of one open alarm per kind, incident and unit, a clear and an acknowledgement by a
conditional update, so each happens, and is announced, once.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch.alarms.reads import alarm_data
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Alarm, AlarmKind, Assignment, Incident, User


def raise_alarm(
    kind: AlarmKind,
    incident: Incident,
    *,
    assignment: Assignment | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Alarm | None:
    """Raise this alarm unless one is open already for its kind, incident and unit; the new
    alarm, or None when it was open already. Joins the caller's transaction when there is one."""
    unit = assignment.unit if assignment is not None else None
    open_now = Alarm.objects.open().filter(kind=kind, incident=incident, unit=unit)
    if open_now.exists():
        return None
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                kind=kind,
                incident=incident,
                assignment=assignment,
                unit=unit,
                detail=detail or {},
                raised_at=now or timezone.now(),
            )
            announce(EventKind.ALARM_RAISED, alarm)
    except IntegrityError:  # raised meanwhile by another scanner
        return None
    return alarm


@transaction.atomic
def acknowledge_alarm(alarm: Alarm, *, actor: User) -> Alarm:
    """Record who acknowledged the alarm, once: a second acknowledgement (a second console, a
    double press) changes nothing and answers the first."""
    now = timezone.now()
    if Alarm.objects.filter(pk=alarm.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=actor
    ):
        alarm = fresh(alarm.pk)
        announce(EventKind.ALARM_ACKNOWLEDGED, alarm, actor=actor)
        return alarm
    return fresh(alarm.pk)


@transaction.atomic
def clear_alarm(alarm: Alarm, now: datetime | None = None) -> bool:
    """The condition went away: close the alarm, once. True when this call cleared it."""
    if not Alarm.objects.filter(pk=alarm.pk, cleared_at__isnull=True).update(
        cleared_at=now or timezone.now()
    ):
        return False
    announce(EventKind.ALARM_CLEARED, fresh(alarm.pk))
    return True


def fresh(pk: int) -> Alarm:
    return Alarm.objects.select_related("incident", "unit", "acknowledged_by").get(pk=pk)


def announce(kind: EventKind, alarm: Alarm, actor: User | None = None) -> None:
    # No unit, no hospital on the event: control room only (see the module's docstring).
    record_event(kind, actor=actor, incident=alarm.incident, data=alarm_data(alarm))


__all__ = ["raise_alarm", "acknowledge_alarm", "clear_alarm"]
