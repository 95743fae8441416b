"""The dispatcher's console page (its script is static/js/console.js)."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from dispatch.calls.actions import TAKEOVER_MINUTES
from dispatch.core.events import last_seq
from dispatch.core.permissions import DISPATCHERS, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.handover.reads import seat_context
from dispatch.map.views import map_labels
from dispatch.models import MajorLevel
from dispatch.units.actions import ALLOWED_NEXT
from fleet.models import RoadNetwork, UnitStatus


def radio_statuses() -> dict[str, list[str]]:
    """The statuses a unit may report by radio next, by its status now, in job order with
    "available" (the job done) last. Dispatch is the console's own (sending a unit); out of
    service and back in service go through their own controls, with a reason."""
    by_hand = {UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE}
    job_order = [s for s in UnitStatus if s != UnitStatus.AVAILABLE] + [UnitStatus.AVAILABLE]
    return {
        str(status): [s.value for s in job_order if s in allowed - by_hand]
        for status, allowed in ALLOWED_NEXT.items()
        if status != UnitStatus.OUT_OF_SERVICE
    }


def console_targets() -> dict:
    return {
        "processing_s": settings.TARGET_PROCESSING_SECONDS,
        "turnout_s": settings.TARGET_TURNOUT_SECONDS,
        "response_s": settings.TARGET_RESPONSE_SECONDS,
        "stale_s": settings.STALE_POSITION_SECONDS,
    }


@role_required(*DISPATCHERS, message=gettext_lazy("The console is for dispatchers and supervisors."))
def console(request: SignedInRequest) -> HttpResponse:
    """The dispatcher's console. The page carries the event number its data will be read at;
    the socket then sends everything after it."""
    return render(
        request,
        "console.html",
        {
            "last_seq": last_seq(),
            "takeover_minutes": TAKEOVER_MINUTES,
            "network": RoadNetwork.objects.active(),
            **seat_context(request.user),  # the seat in the header (dispatch/handover)
            "config": {
                "targets": console_targets(),
                "labels": map_labels(),
                "time_zone": settings.TIME_ZONE,
                "geocoder": bool(settings.GEOCODER),
                "radio_statuses": radio_statuses(),
                # Declaring a major incident (static/js/console-major.js): the levels, and the
                # patients from which the rule gives each (dispatch/major/rules.py).
                "major_levels": [{"value": v, "label": str(label)} for v, label in MajorLevel.choices],
                "major_level_floors": settings.MAJOR_LEVEL_BY_PATIENTS,
            },
        },
    )
