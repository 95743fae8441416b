"""Pages every role shares: each role's landing page, and the health probe."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from dispatch.core.permissions import (
    ER_STAFF,
    has_role,
    is_admin,
    is_control_room,
    is_crew,
    is_station_screen,
    is_wallboard_screen,
    may_dispatch,
    may_read_reports,
    may_read_wallboard,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Incident, Role, User
from fleet.models import FREE_STATUSES, RoadNetwork, Unit


def healthz(request: HttpRequest) -> JsonResponse:
    """For HAProxy and drills: this process answers. It must not touch the database, or a
    database failover would mark every app node down at once."""
    return JsonResponse({"status": "ok"})


def landing_links(user: User) -> list[dict]:
    """Where each role goes from its landing page: only screens that exist."""
    links = []
    if may_dispatch(user):
        links.append(
            {
                "url": "/console/",
                "title": _("Dispatch console"),
                "text": _("Take incidents, locate, triage, send units, follow every job."),
            }
        )
    if is_control_room(user):
        links.append(
            {
                "url": "/map/",
                "title": _("City map"),
                "text": _("Road network, stations, hospitals and every unit, live."),
            }
        )
        links.append(
            {
                "url": "/major/",
                "title": _("Major incidents"),
                "text": _("Mass-casualty incidents: situation report, casualties by tag, hospitals."),
            }
        )
        links.append(
            {"url": "/api/docs/", "title": _("API"), "text": _("The JSON API and its OpenAPI document.")}
        )
    if may_read_reports(user):
        links.append(
            {
                "url": "/reports/",
                "title": _("Response-time reports"),
                "text": _("Percentiles and compliance with targets, charts, drill-down and exports."),
            }
        )
    if may_read_wallboard(user):
        links.append(
            {
                "url": "/wallboard/",
                "title": _("Wallboard"),
                "text": _("The centre's figures today, live, for the control room's big screen."),
            }
        )
    if has_role(user, *ER_STAFF):
        links.append(
            {
                "url": "/er/",
                "title": _("ER board"),
                "text": _("Patients on the way, their ETA and vital signs; notices, diversion and beds."),
            }
        )
    if is_crew(user):
        links.append(
            {
                "url": "/tablet/",
                "title": _("Crew tablet"),
                "text": _("Your unit's job: status taps, navigation, patient record, messages."),
            }
        )
    if user.role == Role.ADMIN or user.is_staff:
        links.append(
            {
                "url": "/admin/",
                "title": _("Administration"),
                "text": _("Users, fleet, hospitals and reference data."),
            }
        )
    if is_admin(user):  # the audit page's own rule (role_required(Role.ADMIN))
        links.append(
            {
                "url": reverse("audit"),
                "title": _("Audit trail"),
                "text": _("Sign-ins and every admin edit: who, when, what."),
            }
        )
    links.append(
        {
            "url": reverse("two_factor"),
            "title": _("Two-factor sign-in"),
            "text": _("A code from an authenticator app at each sign-in."),
        }
    )
    return links


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if is_station_screen(user):  # a wall screen has one page: its station's alerts
        return redirect("station")
    if is_wallboard_screen(user):  # the wallboard screen has one page
        return redirect("wallboard")
    context: dict[str, object] = {
        "links": landing_links(user),
        "role_label": Role(user.role).label if user.role in Role.values else user.role,
        "network": RoadNetwork.objects.active(),
    }
    context["is_control_room"] = is_control_room(user)
    if is_control_room(user):
        context["open_incidents"] = Incident.objects.open().count()
        context["available_units"] = Unit.objects.available().count()
        context["busy_units"] = Unit.objects.in_service().exclude(status__in=FREE_STATUSES).count()
    if user.role == Role.HOSPITAL:
        context["hospital"] = user.hospital
    if user.role == Role.CREW:
        context["shift"] = user.shifts.current().select_related("unit").first()
    return render(request, "home.html", context)
