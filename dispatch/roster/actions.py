"""Writing the roster, approving a shift off the roster, and the shift rules the crew's
start_shift and the shift-end loop apply.

A crew member may start a shift on a unit only when rostered to it now (planned start minus
ROSTER_EARLY_START_MINUTES ≤ now < planned end) or holding a supervisor's approval for it, used
within SHIFT_APPROVAL_MINUTES. A unit's crew is the set of its open shifts: a second member
rostered (or approved) on the same unit joins, each with a CrewShift row of their own; nobody
else can take the unit over. A shift ends by itself SHIFT_END_GRACE_MINUTES after the latest
planned end of its member's entries on that unit, unless its unit is still on a job.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.core.permissions import may_approve_shifts, may_write_roster
from dispatch.models import Assignment, Role, User
from fleet.models import CrewRole, CrewShift, RosterEntry, RosterSource, ShiftApproval, Unit

# The longest one entry may be: a 24-hour shift and a handover hour either side.
MAX_ENTRY = timedelta(hours=26)
MAX_APPROVED_HOURS = 26


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def early_window() -> timedelta:
    return timedelta(minutes=settings.ROSTER_EARLY_START_MINUTES)


def entry_data(entry: RosterEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "unit": entry.unit_id,
        "call_sign": entry.unit.call_sign,
        "user": entry.user.username,
        "role": entry.role,
        "planned_start": iso(entry.planned_start),
        "planned_end": iso(entry.planned_end),
        "source": entry.source,
    }


def refuse_unless_writer(actor: User | None) -> None:
    """None is the system (a command run by an operator, the demo): it may write the roster."""
    if actor is not None and not may_write_roster(actor):
        raise ActionError(_("Only supervisors and administrators may change the roster."), "forbidden", 403)


def checked_member(user: User) -> User:
    if user.role != Role.CREW or not user.is_active:
        raise ActionError(
            _("%(user)s is not an active crew member: only crew are rostered on units.")
            % {"user": user.username},
            "not_crew",
        )
    return user


def checked_times(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ActionError(_("Planned times need a time zone."), "bad_time")
    if end <= start:
        raise ActionError(_("The planned end must come after the planned start."), "bad_time")
    if end - start > MAX_ENTRY:
        raise ActionError(_("One roster entry lasts at most 26 hours."), "bad_time")
    return start, end


def refuse_overlap(user: User, start: datetime, end: datetime) -> None:
    """One member is on one unit at a time: no two of their entries share a minute."""
    clash = RosterEntry.objects.filter(user=user).overlapping(start, end).select_related("unit").first()
    if clash is not None:
        local = timezone.localtime
        raise ActionError(
            _("%(user)s is already rostered on %(unit)s from %(start)s to %(end)s.")
            % {
                "user": user.username,
                "unit": clash.unit.call_sign,
                "start": f"{local(clash.planned_start):%Y-%m-%d %H:%M}",
                "end": f"{local(clash.planned_end):%Y-%m-%d %H:%M}",
            },
            "roster_overlap",
            409,
        )


def write_entry(
    unit: Unit, user: User, role: str, start: datetime, end: datetime, *, actor: User | None, source: str
) -> RosterEntry:
    if role not in CrewRole.values:
        raise ActionError(_("Unknown crew role %(role)s.") % {"role": role}, "bad_role")
    checked_member(user)
    start, end = checked_times(start, end)
    # The member's row lock makes two writers rostering the same person take turns.
    User.objects.select_for_update().filter(pk=user.pk).first()
    refuse_overlap(user, start, end)
    entry = RosterEntry.objects.create(
        unit=unit,
        user=user,
        role=role,
        planned_start=start,
        planned_end=end,
        source=source,
        created_by=actor if actor and actor.pk else None,
    )
    # No unit on the event: the roster is the control room's, not the unit's crew's.
    record_event(EventKind.ROSTER_ADDED, actor=actor, data=entry_data(entry))
    return entry


@transaction.atomic
def add_roster_entry(
    unit: Unit,
    user: User,
    start: datetime,
    end: datetime,
    *,
    role: str = CrewRole.DOCTOR,
    actor: User | None,
    source: str = RosterSource.FORM,
) -> RosterEntry:
    """Roster one member on one unit from `start` to `end` (a day, night or custom shift)."""
    refuse_unless_writer(actor)
    return write_entry(unit, user, role, start, end, actor=actor, source=source)


def roster_now(
    user: User, unit: Unit, *, hours: int = 12, role: str = CrewRole.DOCTOR, actor: User | None = None
) -> RosterEntry:
    """The member's entry on this unit for now: the one that lets a shift start now, or a new
    one from now for `hours` (the demo, the drill, the benchmarks and tests staff this way)."""
    entry = RosterEntry.objects.filter(user=user, unit=unit).startable(timezone.now(), early_window()).first()
    if entry is not None:
        return entry
    now = timezone.now()
    return add_roster_entry(unit, user, now, now + timedelta(hours=hours), role=role, actor=actor)


@transaction.atomic
def add_roster_week(
    unit: Unit,
    user: User,
    monday: date,
    days: list[int],
    start: time,
    end: time,
    *,
    role: str = CrewRole.DOCTOR,
    actor: User | None,
) -> list[RosterEntry]:
    """The week form: the same shift on the chosen days (0 Monday .. 6 Sunday) of the week
    beginning `monday`, in the centre's time zone; an end at or before the start is the next
    morning (a night shift). All or nothing: one refused day writes no day."""
    refuse_unless_writer(actor)
    chosen = sorted(set(days))
    if not chosen or any(d not in range(7) for d in chosen):
        raise ActionError(_("Pick at least one day of the week."), "no_days")
    entries = []
    for day in chosen:
        on = monday + timedelta(days=day)
        planned_start = timezone.make_aware(datetime.combine(on, start))
        planned_end = timezone.make_aware(
            datetime.combine(on if end > start else on + timedelta(days=1), end)
        )
        try:
            entries.append(
                write_entry(unit, user, role, planned_start, planned_end, actor=actor, source="week")
            )
        except ActionError as refused:
            refused.message = f"{on:%Y-%m-%d}: {refused.message}"
            raise
    return entries


@transaction.atomic
def remove_roster_entry(entry: RosterEntry, *, actor: User | None) -> None:
    """Take an entry off the roster. Not the one a member is on shift under now: the shift
    would lose its planned end (end the shift first)."""
    refuse_unless_writer(actor)
    entry = RosterEntry.objects.select_for_update().select_related("unit", "user").get(pk=entry.pk)
    now = timezone.now()
    on_it = CrewShift.objects.current().filter(user=entry.user, unit=entry.unit).exists()
    if on_it and entry.planned_start - early_window() <= now < entry.planned_end:
        raise ActionError(
            _("%(user)s is on shift on %(unit)s under this entry: end the shift first.")
            % {"user": entry.user.username, "unit": entry.unit.call_sign},
            "on_shift",
            409,
        )
    data = entry_data(entry)
    entry.delete()
    record_event(EventKind.ROSTER_REMOVED, actor=actor, data=data)


@dataclass
class ImportRow:
    line: int
    call_sign: str
    username: str
    role: str
    start: datetime
    end: datetime


class RosterImportError(Exception):
    """The file was refused; `errors` are (line, message) pairs. Nothing was written."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@transaction.atomic
def import_roster(rows: list[ImportRow], *, actor: User | None) -> list[RosterEntry]:
    """Write every row, or none: each refused row is reported with its line, then the whole
    import is rolled back (the events with it)."""
    refuse_unless_writer(actor)
    units = {u.call_sign: u for u in Unit.objects.filter(call_sign__in={r.call_sign for r in rows})}
    users = {u.username: u for u in User.objects.filter(username__in={r.username for r in rows})}
    errors: list[tuple[int, str]] = []
    entries = []
    for row in rows:
        unit, user = units.get(row.call_sign), users.get(row.username)
        if unit is None:
            errors.append(
                (row.line, _("No unit with call sign %(call_sign)s.") % {"call_sign": row.call_sign})
            )
            continue
        if user is None:
            errors.append((row.line, _("No user named %(user)s.") % {"user": row.username}))
            continue
        try:
            with transaction.atomic():
                entries.append(
                    write_entry(
                        unit, user, row.role, row.start, row.end, actor=actor, source=RosterSource.IMPORT
                    )
                )
        except ActionError as refused:
            errors.append((row.line, refused.message))
    if errors:
        raise RosterImportError(errors)
    return entries


# --- approvals and the shift rules -----------------------------------------------------------


@transaction.atomic
def approve_shift(
    user: User, unit: Unit, reason: str, *, actor: User, hours: int = 12, now: datetime | None = None
) -> ShiftApproval:
    """A supervisor lets one crew member start a shift on one unit off the roster: the reason is
    recorded with the supervisor; the approval must be used within SHIFT_APPROVAL_MINUTES and
    the shift it starts is planned to last `hours`."""
    if not may_approve_shifts(actor):
        raise ActionError(_("Only a supervisor may approve a shift off the roster."), "forbidden", 403)
    checked_member(user)
    reason = checked_text(reason, "reason", 200)
    if not reason:
        raise ActionError(_("Give the reason for the approval."), "no_reason")
    if not (type(hours) is int and 1 <= hours <= MAX_APPROVED_HOURS):
        raise ActionError(_("An approved shift lasts 1 to 26 hours."), "bad_hours")
    now = now or timezone.now()
    approval = ShiftApproval.objects.create(
        unit=unit,
        user=user,
        approved_by=actor,
        reason=reason,
        approved_at=now,
        valid_until=now + timedelta(minutes=settings.SHIFT_APPROVAL_MINUTES),
        shift_until=now + timedelta(hours=hours),
    )
    record_event(
        EventKind.SHIFT_APPROVED,
        actor=actor,
        data={
            "id": approval.pk,
            "user": user.username,
            "unit": unit.pk,
            "call_sign": unit.call_sign,
            "reason": reason,
            "valid_until": iso(approval.valid_until),
            "shift_until": iso(approval.shift_until),
        },
    )
    return approval


def claim_shift_start(user: User, unit: Unit, role: str, now: datetime) -> dict[str, Any]:
    """Run inside the crew's start_shift transaction: the roster entry (or approval, used up
    and written as an entry) that lets `user` start a shift on `unit` now, as the event's data;
    a 403 with the reason otherwise."""
    entry = (
        RosterEntry.objects.filter(user=user, unit=unit)
        .startable(now, early_window())
        .order_by("planned_start")
        .first()
    )
    if entry is not None:
        return {"roster": entry.pk, "planned_end": iso(entry.planned_end)}
    approval = (
        ShiftApproval.objects.select_for_update()
        .filter(user=user, unit=unit, used_at__isnull=True, approved_at__lte=now, valid_until__gt=now)
        .order_by("-approved_at")
        .first()
    )
    if approval is not None:
        approval.used_at = now
        approval.save(update_fields=["used_at"])
        end = max(approval.shift_until, now + timedelta(minutes=1))
        entry = RosterEntry.objects.create(
            unit=unit,
            user=user,
            role=role if role in CrewRole.values else CrewRole.DOCTOR,
            planned_start=now,
            planned_end=end,
            source=RosterSource.APPROVAL,
            created_by=approval.approved_by,
        )
        return {
            "roster": entry.pk,
            "planned_end": iso(entry.planned_end),
            "approval": approval.pk,
            "approved_by": approval.approved_by.username,
        }
    raise ActionError(refusal(user, unit, now), *refusal_code(unit, user))


def refusal_code(unit: Unit, user: User) -> tuple[str, int]:
    crewed = CrewShift.objects.current().filter(unit=unit).exclude(user=user).exists()
    return ("unit_crewed" if crewed else "not_rostered", 403)


def refusal(user: User, unit: Unit, now: datetime) -> str:
    """Why not, and what to do, in the user's language."""
    crew = sorted(
        CrewShift.objects.current()
        .filter(unit=unit)
        .exclude(user=user)
        .values_list("user__username", flat=True)
    )
    if crew:
        message = _(
            "%(unit)s is crewed by %(crew)s and you are not rostered on it now: a second member "
            "joins a crew only when rostered on the same unit."
        ) % {"unit": unit.call_sign, "crew": ", ".join(crew)}
    else:
        message = _("You are not rostered on %(unit)s now.") % {"unit": unit.call_sign}
    elsewhere = sorted(
        RosterEntry.objects.filter(user=user)
        .startable(now, early_window())
        .values_list("unit__call_sign", flat=True)
    )
    if elsewhere:
        message += " " + _("You are rostered on %(units)s.") % {"units": ", ".join(elsewhere)}
    return message + " " + _("A supervisor can approve a shift off the roster.")


# --- shifts ending by themselves -------------------------------------------------------------


def overdue_shifts(now: datetime) -> list[CrewShift]:
    """Open shifts past their planned end plus SHIFT_END_GRACE_MINUTES, whose unit is not on a
    job. The planned end is the latest end of the member's entries on that unit that run past
    the shift's start and have begun (or begin within the early window): back-to-back entries
    make one long shift. A shift with no such entry (started before the roster existed) has no
    planned end and is left to its crew."""
    grace = timedelta(minutes=settings.SHIFT_END_GRACE_MINUTES)
    planned_end = (
        RosterEntry.objects.filter(
            user=OuterRef("user"),
            unit=OuterRef("unit"),
            planned_end__gt=OuterRef("started_at"),
            planned_start__lte=now + early_window(),
        )
        .order_by("-planned_end")
        .values("planned_end")[:1]
    )
    on_a_job = Assignment.objects.live().filter(unit=OuterRef("unit"))
    return list(
        CrewShift.objects.current()
        .annotate(planned_end=Subquery(planned_end), on_a_job=Exists(on_a_job))
        .filter(planned_end__lte=now - grace, on_a_job=False)
        .select_related("unit", "user")
    )


def end_overdue_shifts(now: datetime | None = None) -> int:
    """End every overdue shift, one transaction and one event each; return how many ended.
    Safe on every node at once: a shift is ended by the one conditional update that wins."""
    now = now or timezone.now()
    ended = 0
    for shift in overdue_shifts(now):
        with transaction.atomic():
            won = CrewShift.objects.filter(pk=shift.pk, ended_at__isnull=True).update(ended_at=now)
            if won:
                record_event(
                    EventKind.SHIFT_ENDED,
                    unit=shift.unit,
                    data={
                        "user": shift.user.username,
                        "automatic": True,
                        "planned_end": iso(shift.planned_end),  # type: ignore[attr-defined]
                        "ended_at": iso(now),
                    },
                )
                ended += 1
    return ended
