"""The roster's API: read it (the control room every unit's, a crew member their own entries),
write it (supervisors and administrators: one entry, a week, an import, a removal), approve a
shift off the roster (supervisors), and the tablet's own view (its entries and how its last
shift ended)."""

from datetime import date, datetime, time, timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, CREW, ROSTER_WRITERS, SHIFT_APPROVERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import User
from dispatch.roster import actions
from dispatch.roster import reads as roster
from fleet.models import CrewRole, RosterEntry, Unit

router = Router(tags=["roster"])


class RosterEntryOut(Schema):
    id: int
    unit: int
    call_sign: str
    user: str
    name: str
    role: str
    planned_start: datetime
    planned_end: datetime
    source: str = Field(description="form, week, import, or approval (a supervisor's approval used)")


class RosterQuery(Schema):
    unit: int | None = None
    start: datetime | None = Field(None, description="from (default: a day ago)")
    end: datetime | None = Field(None, description="to (default: a week ahead); at most 62 days after start")


def checked_moment(value: datetime, name: str) -> datetime:
    """A time the roster can hold: with its zone (the centre's when none is given), between the
    years 2000 and 2100."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not 2000 <= value.year <= 2100:
        raise ActionError(
            _("%(name)s must fall between the years 2000 and 2100.") % {"name": name}, "bad_time"
        )
    return value


@router.get(
    "/roster",
    response={200: list[RosterEntryOut], **errors(403)},
    summary="Roster entries overlapping a period (a crew member sees only their own)",
)
def roster_list(request: SignedInRequest, filters: Query[RosterQuery]) -> list[dict]:
    require_role(request, *CONTROL_ROOM, *CREW)
    now = timezone.now()
    start = checked_moment(filters.start, "start") if filters.start else now - timedelta(days=1)
    end = checked_moment(filters.end, "end") if filters.end else start + timedelta(days=8)
    if end <= start or end - start > roster.MAX_RANGE:
        raise ActionError(_("Ask for a period of at most 62 days, end after start."), "bad_period")
    entries = roster.visible_roster(request.user).overlapping(start, end)
    if filters.unit is not None:
        entries = entries.filter(unit_id=filters.unit)
    return [roster.entry_out(entry) for entry in entries[:5000]]


class RosterEntryIn(Schema):
    unit: int
    user: str = Field(max_length=150, description="the crew member's username")
    role: CrewRole = CrewRole.DOCTOR
    planned_start: datetime
    planned_end: datetime


def named_unit(unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise ActionError(_("Unit %(id)s not found.") % {"id": unit_id}, "no_unit")
    return unit


def named_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ActionError(_("No user named %(user)s.") % {"user": username}, "no_user")
    return user


@router.post(
    "/roster",
    response={200: RosterEntryOut, **errors(403, 409)},
    summary="Roster one crew member on one unit (a day, night or custom shift)",
)
def roster_add(request: SignedInRequest, payload: RosterEntryIn) -> dict:
    require_role(request, *ROSTER_WRITERS)
    entry = actions.add_roster_entry(
        named_unit(payload.unit),
        named_user(payload.user),
        checked_moment(payload.planned_start, "planned_start"),
        checked_moment(payload.planned_end, "planned_end"),
        role=payload.role,
        actor=request.user,
    )
    return roster.entry_out(entry)


class RosterWeekIn(Schema):
    unit: int
    user: str = Field(max_length=150)
    role: CrewRole = CrewRole.DOCTOR
    monday: date = Field(description="the first day of the week")
    days: list[int] = Field(max_length=7, description="0 Monday .. 6 Sunday")
    start: time = Field(description="e.g. 08:00 (day), 20:00 (night)")
    end: time = Field(description="at or before start: the next morning")


@router.post(
    "/roster/week",
    response={200: list[RosterEntryOut], **errors(403, 409)},
    summary="The week form: one shift on the chosen days of a week, all or nothing",
)
def roster_week(request: SignedInRequest, payload: RosterWeekIn) -> list[dict]:
    require_role(request, *ROSTER_WRITERS)
    if not 2000 <= payload.monday.year <= 2100:
        raise ActionError(
            _("%(name)s must fall between the years 2000 and 2100.") % {"name": "monday"}, "bad_time"
        )
    entries = actions.add_roster_week(
        named_unit(payload.unit),
        named_user(payload.user),
        payload.monday,
        payload.days,
        payload.start.replace(tzinfo=None),  # times of day in the centre's zone
        payload.end.replace(tzinfo=None),
        role=payload.role,
        actor=request.user,
    )
    return [roster.entry_out(entry) for entry in entries]


@router.delete(
    "/roster/entries/{entry_id}",
    response={204: None, **errors(403, 409)},
    summary="Take an entry off the roster",
)
def roster_remove(request: SignedInRequest, entry_id: int) -> Status:
    require_role(request, *ROSTER_WRITERS)
    actions.remove_roster_entry(get_object_or_404(RosterEntry, pk=entry_id), actor=request.user)
    return Status(204, None)


class ApprovalIn(Schema):
    unit: int
    user: str = Field(max_length=150)
    reason: str = Field(max_length=200)
    hours: int = Field(12, description="how long the approved shift is planned to last (1 to 26)")


class ApprovalOut(Schema):
    id: int
    user: str
    call_sign: str
    approved_by: str
    reason: str
    valid_until: datetime = Field(description="the shift must start before this")
    shift_until: datetime


@router.post(
    "/roster/approvals",
    response={200: ApprovalOut, **errors(403)},
    summary="A supervisor approves a crew member's shift on a unit off the roster",
)
def approve(request: SignedInRequest, payload: ApprovalIn) -> dict:
    require_role(request, *SHIFT_APPROVERS)
    unit, user = named_unit(payload.unit), named_user(payload.user)
    approval = actions.approve_shift(user, unit, payload.reason, actor=request.user, hours=payload.hours)
    return {
        "id": approval.pk,
        "user": user.username,
        "call_sign": unit.call_sign,
        "approved_by": request.user.username,
        "reason": approval.reason,
        "valid_until": approval.valid_until,
        "shift_until": approval.shift_until,
    }


class LastShiftOut(Schema):
    call_sign: str
    ended_at: datetime
    automatic: bool = Field(description="ended by itself after its planned end")


class MyRosterOut(Schema):
    entries: list[RosterEntryOut]
    last_shift: LastShiftOut | None


@router.get(
    "/roster/mine",
    response={200: MyRosterOut, **errors(403)},
    summary="The crew member's own roster for the coming week, and how their last shift ended",
)
def my_roster(request: SignedInRequest) -> dict:
    require_role(request, *CREW)
    return {
        "entries": [roster.entry_out(entry) for entry in roster.upcoming(request.user)],
        "last_shift": roster.last_ended_shift(request.user),
    }
