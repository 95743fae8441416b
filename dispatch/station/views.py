"""The station screen's pages: the alert screen (static/js/station.js) and the dispatch slip
(派车单) of one job, which prints itself."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.core.events import last_seq
from dispatch.core.permissions import (
    STATION_SCREENS,
    require_station_screen,
    role_required,
    visible_station_assignments,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Priority
from dispatch.station.reads import board, slip
from fleet.models import Station, UnitKind, UnitStatus

for_station_screens = role_required(
    *STATION_SCREENS, message=gettext_lazy("The station screen is for station screen accounts.")
)


@for_station_screens
def station_screen(request: SignedInRequest) -> HttpResponse:
    """The wall screen. The page carries its board and the event number it was read at; the
    socket then brings what changes after it."""
    station = Station.objects.get(pk=require_station_screen(request))
    seq = last_seq()
    config = {
        "board": board(request.user, station),
        "last_seq": seq,
        "time_zone": settings.TIME_ZONE,
        "status": {value: str(label) for value, label in UnitStatus.choices},
        "kind": {value: str(label) for value, label in UnitKind.choices},
    }
    return render(request, "station.html", {"station": station, "config": config, "last_seq": seq})


@for_station_screens
def dispatch_slip(request: SignedInRequest, assignment_id: int) -> HttpResponse:
    """One job's dispatch slip: a page that prints itself (and has a button to print again)."""
    require_station_screen(request)
    assignment = (
        visible_station_assignments(request.user)
        .select_related("incident", "unit", "dispatched_by")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise Http404(_("No such job for this station."))
    context = slip(assignment)
    priority = assignment.incident.priority
    context["priority_label"] = Priority(priority).label if priority in Priority.values else "—"
    context["time_zone"] = settings.TIME_ZONE
    return render(request, "station_slip.html", context)
