"""The handover page (/handover/) and its forms: sign on to a seat (also from the console's
header), a note for the next team, the incoming team's acknowledgement, a new seat. The page
prints as it is (the browser's print, static/js/handover.js)."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dispatch.core.actions import ActionError
from dispatch.core.permissions import CONTROL_ROOM, may_dispatch, may_write_roster, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.handover import actions
from dispatch.handover.reads import current_seat, handover_state, seat_context
from dispatch.models import Seat

for_control_room = role_required(
    *CONTROL_ROOM, message=gettext_lazy("The handover page is for the control room.")
)
# Where a form sends the user back to: this page, or the console the seat form sits on.
BACK = {"console": "console", "handover": "handover"}


def page(request: SignedInRequest, error: str = "", status: int = 200) -> HttpResponse:
    state = handover_state()
    context = {
        "state": state,
        **seat_context(request.user),
        "now": timezone.now(),
        "may_dispatch": may_dispatch(request.user),
        "may_add_seats": may_write_roster(request.user),
        "error": error,
    }
    return render(request, "handover.html", context, status=status)


@for_control_room
def handover(request: SignedInRequest) -> HttpResponse:
    return page(request)


def refused(request: SignedInRequest, error: ActionError) -> HttpResponse:
    return page(request, error.message, error.status)


def back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(BACK.get(request.POST.get("next", ""), "handover")))


@require_POST
@for_control_room
def seat(request: SignedInRequest) -> HttpResponse:
    try:
        if request.POST.get("seat"):
            wanted = request.POST["seat"]
            chosen = get_object_or_404(Seat, pk=int(wanted) if wanted.isdigit() and len(wanted) < 10 else 0)
            actions.sign_on(chosen, actor=request.user)
        else:
            actions.sign_off(actor=request.user)
    except ActionError as error:
        return refused(request, error)
    return back(request)


@require_POST
@for_control_room
def add_seat(request: SignedInRequest) -> HttpResponse:
    try:
        actions.create_seat(request.POST.get("name", ""), actor=request.user)
    except ActionError as error:
        return refused(request, error)
    return back(request)


@require_POST
@for_control_room
def note(request: SignedInRequest) -> HttpResponse:
    try:
        actions.write_note(request.POST.get("text", ""), actor=request.user)
    except ActionError as error:
        return refused(request, error)
    return back(request)


@require_POST
@for_control_room
def acknowledge(request: SignedInRequest) -> HttpResponse:
    try:
        actions.acknowledge_handover(
            handover_state().summary(), actor=request.user, seat=current_seat(request.user)
        )
    except ActionError as error:
        return refused(request, error)
    return back(request)


urlpatterns = [
    path("", handover, name="handover"),
    path("seat/", seat, name="handover_seat"),
    path("seats/", add_seat, name="handover_add_seat"),
    path("note/", note, name="handover_note"),
    path("acknowledge/", acknowledge, name="handover_acknowledge"),
]
