"""Reading the roster: the control room reads every unit's; a crew member only their own
entries (never another unit's crew, nor their colleagues' hours)."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dispatch.core.event_kinds import EventKind
from dispatch.core.permissions import is_control_room, is_crew
from dispatch.models import Event, User
from fleet.models import CrewShift, RosterEntry, RosterEntryQuerySet

MAX_RANGE = timedelta(days=62)


def visible_roster(user: User) -> RosterEntryQuerySet:
    entries: RosterEntryQuerySet = RosterEntry.objects.select_related("unit", "user", "created_by")
    if is_control_room(user):
        return entries
    if is_crew(user):
        return entries.filter(user=user)
    return entries.none()


def entry_out(entry: RosterEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "unit": entry.unit_id,
        "call_sign": entry.unit.call_sign,
        "user": entry.user.username,
        "name": entry.user.get_full_name(),
        "role": entry.role,
        "planned_start": entry.planned_start,
        "planned_end": entry.planned_end,
        "source": entry.source,
    }


def last_ended_shift(user: User) -> dict[str, Any] | None:
    """The member's most recent shift, if it has ended: where, when, and whether it ended by
    itself (the tablet tells the crew "your shift ended at ...")."""
    shift = CrewShift.objects.filter(user=user).select_related("unit").order_by("-started_at").first()
    if shift is None or shift.ended_at is None:
        return None
    event = (
        Event.objects.filter(kind=EventKind.SHIFT_ENDED, unit=shift.unit, data__user=user.username)
        .order_by("-seq")
        .only("data")
        .first()
    )
    return {
        "call_sign": shift.unit.call_sign,
        "ended_at": shift.ended_at,
        "automatic": bool(event and event.data.get("automatic")),
    }


def upcoming(user: User, now: datetime | None = None) -> QuerySet[RosterEntry]:
    """The member's entries not over yet, for the next week."""
    now = now or timezone.now()
    return visible_roster(user).filter(
        user=user, planned_end__gt=now, planned_start__lt=now + timedelta(days=7)
    )
