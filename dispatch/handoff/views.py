"""The ER board page (急诊预到院看板): a server-rendered shell; static/js/er-board.js reads
/api/er/board and follows the live socket. Staff get their own hospital; the control room may
open any hospital's board with ?hospital=<id>. And the pre-hospital care record (院前急救病历)
of one patient, as a printable page and a PDF: the receiving hospital's staff and the control
room only (any other notice id is the same 404 as none)."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.core.permissions import (
    ER_STAFF,
    is_control_room,
    is_hospital_staff,
    own_hospital,
    role_required,
    visible_notices,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.handoff.record import care_record
from dispatch.handoff.record_pdf import care_record_pdf
from dispatch.models import PreArrivalNotice, User
from fleet.models import UnitStatus
from hospitals.models import BedCategory, DiversionCategory, Hospital


def board_hospital(user: User, asked: str | None) -> Hospital:
    if is_hospital_staff(user):
        return own_hospital(user)  # whatever ?hospital= says: staff see only their own
    hospital = Hospital.objects.filter(pk=asked).first() if asked and asked.isdigit() else None
    if hospital is None:
        hospital = Hospital.objects.order_by("name").first()
    if hospital is None:
        raise Http404(_("No hospital on file yet."))
    return hospital


@role_required(*ER_STAFF, message=gettext_lazy("The ER board is for hospital staff and the control room."))
def er_board(request: SignedInRequest) -> HttpResponse:
    hospital = board_hospital(request.user, request.GET.get("hospital"))
    config = {
        "hospital": hospital.pk,
        "alert_after_s": settings.NOTICE_ACK_ALERT_SECONDS,
        "stale_s": settings.STALE_POSITION_SECONDS,
        "time_zone": settings.TIME_ZONE,
        "diversion": {value: str(label) for value, label in DiversionCategory.choices},
        "beds": {value: str(label) for value, label in BedCategory.choices},
        "status": {value: str(label) for value, label in UnitStatus.choices},
        "handed_over_minutes": settings.ER_HANDED_OVER_VISIBLE_MINUTES,
        # The receiving hospital's staff answer the crew; the control room reads the line.
        "may_reply": is_hospital_staff(request.user),
    }
    others = Hospital.objects.order_by("name") if is_control_room(request.user) else Hospital.objects.none()
    return render(request, "er_board.html", {"hospital": hospital, "config": config, "others": others})


RECORD_DENIED = gettext_lazy("The care record is for the receiving hospital and the control room.")


def record_notice(user: User, notice_id: int) -> PreArrivalNotice:
    """A notice of a patient bound for (or brought to) the user's hospital; any for the control
    room. The rule of the board and the API (permissions.visible_notices)."""
    notice = (
        visible_notices(user)
        .filter(pk=notice_id)
        .select_related("hospital", "assignment__unit", "assignment__incident", "assignment__patient_record")
        .first()
    )
    if notice is None or not (is_control_room(user) or notice.assignment.hospital_id == user.hospital_id):
        raise Http404(_("No such care record."))
    return notice


@role_required(*ER_STAFF, message=RECORD_DENIED)
def care_record_page(request: SignedInRequest, notice_id: int) -> HttpResponse:
    record = care_record(record_notice(request.user, notice_id))
    return render(request, "care_record.html", {"r": record})


@role_required(*ER_STAFF, message=RECORD_DENIED)
def care_record_file(request: SignedInRequest, notice_id: int) -> HttpResponse:
    record = care_record(record_notice(request.user, notice_id))
    response = HttpResponse(care_record_pdf(record), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="care-record-{record["incident_number"]}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
