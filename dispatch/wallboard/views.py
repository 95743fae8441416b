"""The wallboard page (static/js/wallboard.js) and its figures as JSON, which the page reads
again when its live socket says the log moved on."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from dispatch.core.events import last_seq
from dispatch.core.permissions import WALLBOARD_READERS, may_read_wallboard, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.reports import targets
from dispatch.wallboard.reads import ANSWER_WITHIN_S, DEPARTURE_WITHIN_S, figures

REFUSED = gettext_lazy("The wallboard is for the control room's screen, supervisors and admins.")


@role_required(*WALLBOARD_READERS, message=REFUSED)
def wallboard(request: SignedInRequest) -> HttpResponse:
    """The board, its figures and the event number they were read at."""
    seq = last_seq()
    config = {
        "figures": figures(),
        "last_seq": seq,
        "time_zone": settings.TIME_ZONE,
        "answer_within_s": ANSWER_WITHIN_S,
        "departure_within_s": DEPARTURE_WITHIN_S,
        "has_targets": bool(targets()),
    }
    return render(request, "wallboard.html", {"config": config})


@never_cache
def wallboard_figures(request: HttpRequest) -> HttpResponse:
    """The figures as JSON; 401 signed out, 403 for a role that may not read them (JSON, as the
    API answers)."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Sign in first."), "code": "signed_out"}, status=401)
    if not may_read_wallboard(request.user):
        return JsonResponse({"detail": str(REFUSED), "code": "forbidden"}, status=403)
    return JsonResponse({"figures": figures(), "last_seq": last_seq()})


urlpatterns = [
    path("", wallboard, name="wallboard"),
    path("figures/", wallboard_figures, name="wallboard_figures"),
]
