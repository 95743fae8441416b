"""What the console reads of an alarm: the same shape in the list and in every alarm event."""

from typing import Any

from django.conf import settings

from dispatch.models import Alarm, AlarmQuerySet, PreArrivalNotice


def open_alarms() -> AlarmQuerySet:
    """Open alarms, oldest first, with what their rows show."""
    return (
        Alarm.objects.open().select_related("incident", "unit", "acknowledged_by").order_by("raised_at", "pk")
    )


def alarm_data(alarm: Alarm) -> dict[str, Any]:
    """One alarm as the list and the events carry it (times as ISO strings)."""
    by = alarm.acknowledged_by
    return {
        "id": alarm.pk,
        "kind": alarm.kind,
        "incident": alarm.incident_id,
        "incident_number": alarm.incident.number,
        "priority": alarm.incident.priority,
        "assignment": alarm.assignment_id,
        "unit": alarm.unit_id,
        "call_sign": alarm.unit.call_sign if alarm.unit else None,
        "detail": alarm.detail,
        "raised_at": alarm.raised_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "acknowledged_by": (by.get_full_name() or by.username) if by else None,
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }


def notice_detail(notice: PreArrivalNotice) -> dict[str, Any]:
    """What a notice alarm shows: the unit, the hospital to phone and its number."""
    hospital = notice.hospital
    return {
        "notice": notice.pk,
        "call_sign": notice.assignment.unit.call_sign,
        "hospital_name": hospital.name,
        "hospital_name_en": hospital.name_en or hospital.name,
        "hospital_phone": hospital.phone,
        "target_s": settings.NOTICE_ACK_ALERT_SECONDS,
    }
