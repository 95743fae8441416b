"""The roster page (/roster/): one week of every unit's entries, the week form (day, night or
custom shift on chosen days), removing an entry, and a supervisor's approval of a shift off
the roster. The control room reads it; supervisors and administrators write it (forms posted
to this page, each through the roster's actions)."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dispatch.core.actions import ActionError
from dispatch.core.permissions import CONTROL_ROOM, may_approve_shifts, may_write_roster, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Role, User
from dispatch.roster import actions
from dispatch.roster.reads import visible_roster
from fleet.models import CrewRole, RosterEntry, Unit

for_control_room = role_required(*CONTROL_ROOM, message=gettext_lazy("The roster is for the control room."))
# The shift templates of the week form: a template is only its times.
TEMPLATES = {"day": (time(8), time(20)), "night": (time(20), time(8))}
DAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


def week_of(text: str | None) -> date:
    """The Monday of the week a date falls in (this week when none or nonsense is given)."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        day = timezone.localdate()
    if not 2000 <= day.year <= 2100:
        day = timezone.localdate()
    return day - timedelta(days=day.weekday())


def week_grid(monday: date, user: User) -> list[dict[str, Any]]:
    """One row per unit, one cell per day, each cell the entries starting that day."""
    start = timezone.make_aware(datetime.combine(monday, time()))
    entries = visible_roster(user).overlapping(start, start + timedelta(days=7))
    by_unit: dict[int, list[list[RosterEntry]]] = {}
    for entry in entries:
        day = (timezone.localtime(entry.planned_start).date() - monday).days
        by_unit.setdefault(entry.unit_id, [[] for _ in range(7)])[max(0, min(day, 6))].append(entry)
    return [
        {"unit": unit, "days": by_unit.get(unit.pk, [[] for _ in range(7)])}
        for unit in Unit.objects.select_related("home_station")
    ]


def page(request: SignedInRequest, error: str = "", status: int = 200) -> HttpResponse:
    monday = week_of(request.GET.get("week") or request.POST.get("monday"))
    context = {
        "monday": monday,
        "days": [(monday + timedelta(days=k), DAYS[k]) for k in range(7)],
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "grid": week_grid(monday, request.user),
        "units": Unit.objects.all(),
        "crew": User.objects.filter(role=Role.CREW, is_active=True).order_by("username"),
        "roles": CrewRole.choices,
        "may_write": may_write_roster(request.user),
        "may_approve": may_approve_shifts(request.user),
        "error": error,
        "form": request.POST if request.method == "POST" else QueryDict(),
    }
    return render(request, "roster.html", context, status=status)


@for_control_room
def roster(request: SignedInRequest) -> HttpResponse:
    return page(request)


def back(monday: date) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('roster')}?week={monday.isoformat()}")


def posted_time(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ActionError(
            _("%(name)s must be a time of day, e.g. 08:00.") % {"name": name}, "bad_time"
        ) from None


def posted(request: SignedInRequest, model: type[Unit] | type[User], name: str) -> Any:
    value = request.POST.get(name, "")
    found = model.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 10 else None
    if found is None:
        raise ActionError(_("Choose the %(name)s.") % {"name": name}, "missing")
    return found


@require_POST
@for_control_room
def add_week(request: SignedInRequest) -> HttpResponse:
    monday = week_of(request.POST.get("monday"))
    try:
        template = request.POST.get("template", "day")
        if template in TEMPLATES:
            start, end = TEMPLATES[template]
        else:
            start = posted_time(request.POST.get("start", ""), _("start"))
            end = posted_time(request.POST.get("end", ""), _("end"))
        days = [int(d) for d in request.POST.getlist("days") if d.isdigit() and len(d) < 3]
        actions.add_roster_week(
            posted(request, Unit, "unit"),
            posted(request, User, "user"),
            monday,
            days,
            start,
            end,
            role=request.POST.get("role", CrewRole.DOCTOR),
            actor=request.user,
        )
    except ActionError as refused:
        return page(request, refused.message, refused.status)
    return back(monday)


@require_POST
@for_control_room
def remove(request: SignedInRequest, entry_id: int) -> HttpResponse:
    entry = visible_roster(request.user).filter(pk=entry_id).first()
    try:
        if entry is None:
            raise ActionError(_("No such roster entry."), "not_found", 404)
        actions.remove_roster_entry(entry, actor=request.user)
    except ActionError as refused:
        return page(request, refused.message, refused.status)
    return back(week_of(request.POST.get("monday")))


@require_POST
@for_control_room
def approve(request: SignedInRequest) -> HttpResponse:
    try:
        hours = request.POST.get("hours", "12")
        actions.approve_shift(
            posted(request, User, "user"),
            posted(request, Unit, "unit"),
            request.POST.get("reason", ""),
            actor=request.user,
            hours=int(hours) if hours.isdigit() and len(hours) < 4 else 0,
        )
    except ActionError as refused:
        return page(request, refused.message, refused.status)
    return back(week_of(request.POST.get("monday")))


urlpatterns = [
    path("", roster, name="roster"),
    path("week/", add_week, name="roster_week"),
    path("entries/<int:entry_id>/remove/", remove, name="roster_remove"),
    path("approvals/", approve, name="roster_approve"),
]
