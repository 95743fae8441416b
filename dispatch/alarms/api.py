"""The console's alarm list: the open alarms (so a console opened or reloaded later shows them)
and acknowledging one by a named dispatcher. Control room only."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from dispatch.alarms.actions import acknowledge_alarm
from dispatch.alarms.reads import alarm_data, open_alarms
from dispatch.core.actions import ActionError
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, DISPATCHERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Alarm, AlarmKind

router = Router(tags=["alarms"])


class AlarmOut(Schema):
    id: int
    kind: str = Field(description=", ".join(AlarmKind.values))
    incident: int
    incident_number: str
    priority: int | None
    assignment: int | None
    unit: int | None
    call_sign: str | None
    detail: dict[str, Any] = Field(description="call sign, hospital and its phone, the target in seconds")
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="the dispatcher who acknowledged it, by name")
    cleared_at: datetime | None


@router.get("/alarms", response={200: list[AlarmOut], **errors(403)}, summary="Open alarms, oldest first")
def list_alarms(request: SignedInRequest) -> list[dict[str, Any]]:
    require_role(request, *CONTROL_ROOM)
    return [alarm_data(alarm) for alarm in open_alarms()]


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    response={200: AlarmOut, **errors(403)},
    summary="Acknowledge an alarm (dispatchers and supervisors; once: again answers the first)",
)
def acknowledge(request: SignedInRequest, alarm_id: int) -> dict[str, Any]:
    require_role(request, *DISPATCHERS)
    alarm = Alarm.objects.filter(pk=alarm_id).first()
    if alarm is None:
        raise ActionError(_("Alarm %(id)s not found.") % {"id": alarm_id}, "not_found", 404)
    return alarm_data(acknowledge_alarm(alarm, actor=request.user))
