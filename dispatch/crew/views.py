"""The ambulance crew's tablet page. The page is a shell: everything on it is read from and
written to the crew API (dispatch/crew/api.py), through an offline queue in the browser."""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from dispatch.core.events import last_seq
from dispatch.core.permissions import CREW, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.crew import reads as crew
from dispatch.models import VITAL_RANGES
from fleet.models import UnitKind, UnitStatus


def tablet_config(request: SignedInRequest) -> dict:
    """What tablet.js needs before its first API call. `next` is the server's own rule, so a
    tap made offline moves the screen exactly as the server will move the unit. `shift_hours`
    is how long a crew's sign-in lasts: the service worker keeps no copy of the job longer."""
    return {
        "user": request.user.username,
        "last_seq": last_seq(),
        "time_zone": settings.TIME_ZONE,
        "status": {value: str(label) for value, label in UnitStatus.choices},
        "kind": {value: str(label) for value, label in UnitKind.choices},
        "next": {value: crew.next_statuses(value) for value in UnitStatus.values},
        "vital_ranges": {name: [low, high, unit] for name, (low, high, unit) in VITAL_RANGES.items()},
        "shift_hours": settings.SESSION_HOURS_BY_ROLE["crew"],
        "undo_seconds": settings.UNDO_STATUS_SECONDS,
    }


SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "tablet-sw.js"


def service_worker(request: HttpRequest) -> HttpResponse:
    """static/js/tablet-sw.js, served from /tablet/ so that its scope is the tablet page. It
    holds no data of its own; what it keeps is what the signed-in crew already read."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # a new version reaches the tablets at their next load
    return response


@role_required(*CREW, message=gettext_lazy("The tablet is for ambulance crews."))
def tablet(request: SignedInRequest) -> HttpResponse:
    return render(request, "tablet.html", {"config": tablet_config(request)})
