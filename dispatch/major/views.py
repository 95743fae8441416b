"""The major-incident pages: the list of active major incidents (with declaring one on an open
incident by its number) and the casualty board of one (static/js/major-board.js), for the
control room. Crews and hospitals read their part through the API (tablet, ER board)."""

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy

from dispatch.core.events import last_seq
from dispatch.core.permissions import CONTROL_ROOM, may_dispatch, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.core.spreadsheet import cell
from dispatch.major.reads import major_report, major_summary, picture
from dispatch.models import CasualtyStatus, Incident, MajorIncident, MajorLevel, MajorStatus, TriageTag
from fleet.models import UnitKind, UnitStatus

REFUSED = gettext_lazy("Major incidents are followed in the control room.")


@role_required(*CONTROL_ROOM, message=REFUSED)
def major_list(request: SignedInRequest) -> HttpResponse:
    active = MajorIncident.objects.filter(status=MajorStatus.ACTIVE).select_related(
        "incident", "declared_by", "command_unit"
    )
    ended = MajorIncident.objects.filter(status=MajorStatus.STOOD_DOWN).select_related("incident")[:20]
    config = {
        "active": [major_summary(m) for m in active],
        "may_dispatch": may_dispatch(request.user),
        "levels": [{"value": v, "label": str(label)} for v, label in MajorLevel.choices],
        "open_incidents": list(
            Incident.objects.open()
            .filter(major__isnull=True)
            .order_by("-created_at")
            .values("id", "number", "chief_complaint", "address", "patient_count")[:50]
        ),
    }
    return render(request, "major_list.html", {"config": config, "ended": ended})


@role_required(*CONTROL_ROOM, message=REFUSED)
def major_board(request: SignedInRequest, major_id: int) -> HttpResponse:
    major = MajorIncident.objects.select_related("incident").filter(pk=major_id).first()
    if major is None:
        raise Http404
    seq = last_seq()
    config = {
        "picture": picture(major),
        "last_seq": seq,
        "may_dispatch": may_dispatch(request.user),
        "levels": [{"value": v, "label": str(label)} for v, label in MajorLevel.choices],
        "unit_status": {value: str(label) for value, label in UnitStatus.choices},
        "unit_kind": {value: str(label) for value, label in UnitKind.choices},
    }
    return render(request, "major_board.html", {"config": config, "major": major})


@role_required(*CONTROL_ROOM, message=REFUSED)
def major_report_csv(request: SignedInRequest, major_id: int) -> HttpResponse:
    """The major-incident report as CSV: the milestones, then one line per casualty (tag number,
    tag, where, ambulance, hospital, times). A byte order mark first, for spreadsheet programs."""
    major = MajorIncident.objects.select_related("incident").filter(pk=major_id).first()
    if major is None:
        raise Http404
    report = major_report(major)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for label, key in MILESTONES:
        writer.writerow([str(label), cell(report[key])])
    writer.writerow([])
    writer.writerow([str(h) for h in CASUALTY_HEADER])
    for c in picture(major)["casualties"]:
        tag, where = str(TriageTag(c["tag"]).label), str(CasualtyStatus(c["where"]).label)
        rest = [cell(c[k]) for k in CASUALTY_COLUMNS]
        writer.writerow([cell(c["tag_number"]), tag, where, *rest])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="120-major-{major.incident.number}.csv"'
    return response


MILESTONES = (
    (gettext_lazy("incident"), "incident_number"),
    (gettext_lazy("level"), "level"),
    (gettext_lazy("started"), "started_at"),
    (gettext_lazy("declared"), "declared_at"),
    (gettext_lazy("first unit on scene"), "first_unit_on_scene_at"),
    (gettext_lazy("last patient carried"), "last_patient_carried_at"),
    (gettext_lazy("to first unit on scene (s)"), "to_first_unit_on_scene_s"),
    (gettext_lazy("to last patient carried (s)"), "to_last_patient_carried_s"),
    (gettext_lazy("units sent"), "units_sent"),
    (gettext_lazy("casualties"), "casualties"),
    (gettext_lazy("not carried"), "not_carried"),
)
CASUALTY_COLUMNS = ("unit", "hospital_name", "registered_at", "transported_at", "acknowledged_at")
CASUALTY_HEADER = (
    gettext_lazy("tag number"),
    gettext_lazy("triage tag"),
    gettext_lazy("where"),
    gettext_lazy("ambulance"),
    gettext_lazy("hospital"),
    gettext_lazy("registered"),
    gettext_lazy("carried"),
    gettext_lazy("acknowledged by the ER"),
)


urlpatterns = [
    path("", major_list, name="major_list"),
    path("<int:major_id>/", major_board, name="major_board"),
    path("<int:major_id>/report.csv", major_report_csv, name="major_report_csv"),
]
