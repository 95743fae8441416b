"""The ER board page (急诊预到院看板): a server-rendered shell; static/js/er-board.js reads
/api/er/board and follows the live socket. Staff get their own hospital; the control room may
open any hospital's board with ?hospital=<id>."""

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
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import User
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
    }
    others = Hospital.objects.order_by("name") if is_control_room(request.user) else Hospital.objects.none()
    return render(request, "er_board.html", {"hospital": hospital, "config": config, "others": others})
