"""What the ER board shows: the patients bound for one hospital, soonest first, each with its
road ETA, priority, complaint, vital signs and their trend, the crew's notes, and the unit's call
sign and callback number. The FHIR Bundle and the SMS summary are made from the same rows.

This module reads dispatch's data (the ER board is dispatch work; decision 13); hospitals' models never
import dispatch. Confinement is in the first query: a hospital's rows are the notices sent to it
whose assignment still goes there.
"""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from dispatch.models import VITAL_RANGES, NoticeAcknowledgement, PreArrivalNotice, VitalSign
from fleet.models import CrewShift, UnitStatus
from hospitals.eta import Eta, road_etas
from hospitals.models import Hospital

VITAL_ORDER = list(VITAL_RANGES)
# A change smaller than this is "steady", not a trend (per reading, in its own unit).
TREND_STEP = {
    "heart_rate": 5,
    "systolic_bp": 5,
    "diastolic_bp": 5,
    "spo2": 1,
    "respiratory_rate": 2,
    "temperature_c": 0.3,
    "gcs": 1,
    "glucose_mmol": 0.5,
}
ARRIVING_STATUSES = {UnitStatus.TRANSPORTING}


def board_notices(hospital_id: int) -> QuerySet[PreArrivalNotice]:
    """The notices on this hospital's board, with everything a row needs, in four queries."""
    return (
        PreArrivalNotice.objects.on_board()
        .for_hospital(hospital_id)
        .filter(assignment__hospital_id=hospital_id)
        .select_related(
            "hospital",
            "sent_by",
            "assignment__unit",
            "assignment__incident",
            "assignment__patient_record",
        )
        .prefetch_related(
            Prefetch(
                "acknowledgements",
                queryset=NoticeAcknowledgement.objects.select_related("acknowledged_by"),
            ),
            Prefetch("assignment__vitals", queryset=VitalSign.objects.order_by("taken_at", "pk")),
        )
    )


def board_rows(hospital: Hospital, now: datetime | None = None) -> list[dict[str, Any]]:
    """Rows for the board, soonest arrival first (arrived ones first of all, unknown last)."""
    now = now or timezone.now()
    notices = list(board_notices(hospital.pk))
    return rows_for(hospital, notices, now)


def rows_for(hospital: Hospital, notices: list[PreArrivalNotice], now: datetime) -> list[dict[str, Any]]:
    etas = road_etas(hospital, [n.assignment.unit for n in notices], now)
    phones = crew_phones([n.assignment.unit_id for n in notices])
    rows = [notice_row(n, etas[n.assignment.unit_id], phones) for n in notices]
    rows.sort(key=arrival_key)
    return rows


def arrival_key(row: dict[str, Any]) -> tuple:
    if row["arrived_at"]:
        return (0, row["arrived_at"])
    seconds = row["eta"]["seconds"]
    return (1, seconds if seconds is not None else float("inf"), row["sent_at"])


def crew_phones(unit_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Who is on each unit now, with their phone, for the ER to call back."""
    crews: dict[int, list[dict[str, str]]] = {}
    shifts = CrewShift.objects.current().filter(unit_id__in=unit_ids).select_related("user")
    for shift in shifts:
        user = shift.user
        crews.setdefault(shift.unit_id, []).append(
            {"name": user.get_full_name() or user.username, "role": shift.role, "phone": user.phone}
        )
    return crews


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def notice_row(notice: PreArrivalNotice, eta: Eta, phones: dict[int, list]) -> dict[str, Any]:
    a = notice.assignment
    incident, unit = a.incident, a.unit
    record = getattr(a, "patient_record", None)
    ack = acknowledgement(notice)
    vitals = list(a.vitals.all())
    return {
        "id": notice.pk,
        "assignment": a.pk,
        "revision": notice.revision,
        "sent_at": iso(notice.sent_at),
        "updated_at": iso(notice.updated_at),
        "sent_by": (notice.sent_by.get_full_name() or notice.sent_by.username) if notice.sent_by else None,
        "acknowledged": ack,
        "updated_since_ack": bool(ack and notice.revision > ack["revision"]),
        "alerted_at": iso(notice.alerted_at),
        "incident": {
            "id": incident.pk,
            "number": incident.number,
            "priority": incident.priority,
            "chief_complaint": (record.chief_complaint if record else "") or incident.chief_complaint,
            "address": incident.address,
            "dispatched_at": iso(a.dispatched_at),
        },
        "patient": patient(record, incident),
        "vitals": [vital_set(v) for v in vitals],
        "latest": latest_with_trend(vitals),
        "unit": {
            "id": unit.pk,
            "call_sign": unit.call_sign,
            "kind": unit.kind,
            "status": unit.status,
            "status_label": str(UnitStatus(unit.status).label),
            "phone": unit.phone,
            "crew": phones.get(unit.pk, []),
        },
        "eta": {
            "seconds": eta.seconds,
            "metres": eta.metres,
            "arrives_at": iso(eta.arrives_at),
            "computed_at": iso(eta.computed_at),
            "position_at": iso(eta.position_at),
            "stale": eta.stale,
            "reason": eta.reason,
            "transporting": unit.status in ARRIVING_STATUSES,
        },
        "arrived_at": iso(a.at_hospital_at),
        "handover_at": iso(a.handover_at),
    }


def acknowledgement(notice: PreArrivalNotice) -> dict[str, Any] | None:
    for ack in notice.acknowledgements.all():
        if ack.hospital_id == notice.hospital_id:
            user = ack.acknowledged_by
            return {
                "by": user.get_full_name() or user.username,
                "at": iso(ack.acknowledged_at),
                "by_phone": ack.by_phone,
                "revision": ack.revision,
            }
    return None


def patient(record, incident) -> dict[str, Any]:
    """The crew's record when there is one, else what the caller told the dispatcher."""
    if record is None:
        return {
            "name": incident.patient_name,
            "sex": incident.patient_sex,
            "age": incident.patient_age,
            "findings": "",
            "interventions": "",
            "drugs": [],
            "updated_at": None,
        }
    return {
        "name": record.name or incident.patient_name,
        "sex": record.sex or incident.patient_sex,
        "age": record.age if record.age is not None else incident.patient_age,
        "findings": record.findings,
        "interventions": record.interventions,
        "drugs": record.drugs,
        "updated_at": iso(record.updated_at),
    }


def vital_set(v: VitalSign) -> dict[str, Any]:
    return {"id": v.pk, "taken_at": iso(v.taken_at), **{name: getattr(v, name) for name in VITAL_ORDER}}


def latest_with_trend(vitals: list[VitalSign]) -> list[dict[str, Any]]:
    """Each reading's latest value, its time, and whether it went up, down or stayed since the
    reading before it."""
    out = []
    for name in VITAL_ORDER:
        values = [(v.taken_at, getattr(v, name)) for v in vitals if getattr(v, name) is not None]
        if not values:
            continue
        taken_at, value = values[-1]
        previous = values[-2][1] if len(values) > 1 else None
        out.append(
            {
                "name": name,
                "value": value,
                "unit": VITAL_RANGES[name][2],
                "taken_at": iso(taken_at),
                "previous": previous,
                "trend": trend(name, previous, value),
            }
        )
    return out


def trend(name: str, previous: float | None, value: float) -> str | None:
    if previous is None:
        return None
    if abs(value - previous) < TREND_STEP[name]:
        return "steady"
    return "up" if value > previous else "down"


def notice_row_by_id(notice_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One notice's row, wherever it is (the FHIR sender and the SMS summary use it)."""
    notice = (
        PreArrivalNotice.objects.select_related(
            "hospital", "sent_by", "assignment__unit", "assignment__incident", "assignment__patient_record"
        )
        .prefetch_related("acknowledgements__acknowledged_by", "assignment__vitals")
        .get(pk=notice_id)
    )
    return rows_for(notice.hospital, [notice], now or timezone.now())[0]


SEX_ZH = {"M": "男", "F": "女"}
PRIORITY_ZH = {1: "I级危重", 2: "II级急重", 3: "III级紧急", 4: "IV级非紧急"}


def sms_summary(notice: PreArrivalNotice) -> str:
    """A short text for an ER with neither board nor FHIR endpoint: no name, only what the ER
    needs to get ready (minimal patient data, as SMS travels in the clear)."""
    row = notice_row_by_id(notice.pk)
    p, i, u = row["patient"], row["incident"], row["unit"]
    who = "".join(filter(None, [SEX_ZH.get(p["sex"], ""), f"{p['age']}岁" if p["age"] is not None else ""]))
    eta = row["eta"]["seconds"]
    parts = [
        f"【120预到院】{u['call_sign']}送{who or '患者'}",
        PRIORITY_ZH.get(i["priority"], ""),
        i["chief_complaint"],
        f"约{max(1, round(eta / 60))}分钟到" if eta is not None else "",
        vitals_text(row["latest"]),
        f"回电{u['phone']}" if u["phone"] else "",
        f"事件{i['number']}",
    ]
    return "，".join(p for p in parts if p)[:300]


VITAL_SHORT = {
    "heart_rate": "HR",
    "spo2": "SpO2",
    "respiratory_rate": "RR",
    "temperature_c": "T",
    "gcs": "GCS",
    "glucose_mmol": "GLU",
}


def vitals_text(latest: list[dict[str, Any]]) -> str:
    by_name = {r["name"]: r["value"] for r in latest}
    parts = []
    if "systolic_bp" in by_name and "diastolic_bp" in by_name:
        parts.append(f"BP{by_name['systolic_bp']}/{by_name['diastolic_bp']}")
    parts += [f"{short}{by_name[name]}" for name, short in VITAL_SHORT.items() if name in by_name]
    return " ".join(parts)
