"""What the ER board shows: the patients bound for one hospital, soonest first, each with its
road ETA, priority, complaint, the dispatcher's triage in words, vital signs and their trend, the
crew's notes, the crew <-> ER message line, and the unit's call sign and phone; below them the
patients handed over in the last ER_HANDED_OVER_VISIBLE_MINUTES, and the notices withdrawn from
this hospital (redirected elsewhere, stood down, not transported) until someone here acknowledges
the withdrawal. The FHIR Bundle and the SMS summary are made from the same rows.

This module reads dispatch's data (the ER board is dispatch work; decision 13); hospitals' models never
import dispatch. Confinement is in the first query: a hospital's rows are the notices sent to it
whose assignment still goes there.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from dispatch.core.event_kinds import EventKind
from dispatch.models import (
    VITAL_RANGES,
    ErMessage,
    ErMessageDirection,
    Event,
    Incident,
    NoticeAcknowledgement,
    NoticeWithdrawal,
    PreArrivalNotice,
    TriageProtocol,
    VitalSign,
    WithdrawalReason,
)
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


def with_row_data(notices: QuerySet[PreArrivalNotice]) -> QuerySet[PreArrivalNotice]:
    """Everything a row needs, in a fixed number of queries however many rows."""
    return notices.select_related(
        "hospital",
        "sent_by",
        "assignment__unit",
        "assignment__incident",
        "assignment__patient_record",
    ).prefetch_related(
        Prefetch(
            "acknowledgements",
            queryset=NoticeAcknowledgement.objects.select_related("acknowledged_by"),
        ),
        Prefetch("assignment__vitals", queryset=VitalSign.objects.order_by("taken_at", "pk")),
        Prefetch("er_messages", queryset=ErMessage.objects.select_related("sender")),
    )


def board_notices(hospital_id: int) -> QuerySet[PreArrivalNotice]:
    """The notices on this hospital's board, with everything a row needs."""
    return with_row_data(
        PreArrivalNotice.objects.on_board()
        .for_hospital(hospital_id)
        .filter(assignment__hospital_id=hospital_id)
    )


def handed_over_since(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.ER_HANDED_OVER_VISIBLE_MINUTES)


def delivered_here(hospital_id: int) -> Q:
    """Notices whose patient was brought here: handed over, or arrived and the unit cleared
    without the handover being recorded."""
    return Q(
        hospital_id=hospital_id,
        assignment__hospital_id=hospital_id,
        assignment__cancelled_at__isnull=True,
    ) & (
        Q(assignment__handover_at__isnull=False)
        | Q(assignment__at_hospital_at__isnull=False, assignment__cleared_at__isnull=False)
    )


def handed_over_notices(hospital_id: int, now: datetime) -> QuerySet[PreArrivalNotice]:
    """This hospital's patients handed over in the last ER_HANDED_OVER_VISIBLE_MINUTES."""
    since = handed_over_since(now)
    recent = Q(assignment__handover_at__gte=since) | Q(
        assignment__handover_at__isnull=True, assignment__cleared_at__gte=since
    )
    return with_row_data(PreArrivalNotice.objects.filter(delivered_here(hospital_id)).filter(recent))


def board_rows(hospital: Hospital, now: datetime | None = None) -> list[dict[str, Any]]:
    """Rows for the board, soonest arrival first (arrived ones first of all, unknown last)."""
    now = now or timezone.now()
    notices = list(board_notices(hospital.pk))
    return rows_for(hospital, notices, now)


def board_sections(hospital: Hospital, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """The whole board: patients on the way, those handed over lately (newest first), and the
    notices withdrawn from here not yet acknowledged."""
    now = now or timezone.now()
    on_way = list(board_notices(hospital.pk))
    handed = list(handed_over_notices(hospital.pk, now))
    rows = rows_for(hospital, on_way + handed, now)
    handed_ids = {n.pk for n in handed}
    done = [r for r in rows if r["id"] in handed_ids]
    done.sort(key=lambda r: r["departed_at"] or "", reverse=True)
    return {
        "notices": [r for r in rows if r["id"] not in handed_ids],
        "handed_over": done,
        "withdrawn": withdrawn_rows(hospital, now),
    }


def rows_for(hospital: Hospital, notices: list[PreArrivalNotice], now: datetime) -> list[dict[str, Any]]:
    etas = road_etas(hospital, [n.assignment.unit for n in notices], now)
    phones = crew_phones([n.assignment.unit_id for n in notices])
    protocols = triage_protocols([n.assignment.incident for n in notices])
    rows = [notice_row(n, etas[n.assignment.unit_id], phones, protocols) for n in notices]
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


def notice_row(
    notice: PreArrivalNotice, eta: Eta, phones: dict[int, list], protocols: dict[str, TriageProtocol]
) -> dict[str, Any]:
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
        "triage": triage_path(incident.triage_answers, protocols),
        "messages": [
            message_row(m, unit.call_sign)
            for m in notice.er_messages.all()
            if m.hospital_id == notice.hospital_id
        ],
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
        "departed_at": iso(a.handover_at or (a.cleared_at if a.at_hospital_at else None)),
    }


def message_row(message: ErMessage, call_sign: str) -> dict[str, Any]:
    sender = message.sender
    name = sender.get_full_name() or sender.username
    return {
        "id": message.pk,
        "direction": message.direction,
        "text": message.text,
        "sent_at": iso(message.sent_at),
        "sender": f"{call_sign} · {name}" if message.direction == ErMessageDirection.TO_ER else name,
    }


def triage_protocols(incidents: list[Incident]) -> dict[str, TriageProtocol]:
    """The protocols these incidents were triaged with, in one query."""
    codes = {str((i.triage_answers or {}).get("protocol") or "") for i in incidents} - {""}
    return {p.code: p for p in TriageProtocol.objects.filter(code__in=codes)} if codes else {}


def triage_path(answers: dict, protocols: dict[str, TriageProtocol]) -> dict[str, Any]:
    """The dispatcher's triage as the protocol's questions and the answers given, in words (both
    languages): what the caller said, not the codes it led to."""
    answers = answers or {}
    protocol = protocols.get(str(answers.get("protocol") or ""))
    path: list[dict[str, str]] = []
    if protocol is not None:
        nodes = (protocol.questions or {}).get("questions") or {}
        qid = (protocol.questions or {}).get("start")
        for index in list(answers.get("answers") or []):
            node = nodes.get(qid) if isinstance(qid, str) else None
            if not isinstance(node, dict):
                break
            choices = node.get("answers")
            if not isinstance(choices, list) or type(index) is not int or not 0 <= index < len(choices):
                break  # a protocol edited since: the priority and complaint still stand
            chosen = choices[index]
            path.append(
                {
                    "question": str(node.get("text", "")),
                    "question_en": str(node.get("text_en", "")),
                    "answer": str(chosen.get("label", "")),
                    "answer_en": str(chosen.get("label_en", "")),
                }
            )
            qid = chosen.get("next")
    return {
        "protocol_name": protocol.name if protocol else None,
        "protocol_name_en": protocol.name_en if protocol else None,
        "path": path,
    }


# --- notices withdrawn from a hospital ---------------------------------------------------------

WITHDRAWN_LOOKBACK = timedelta(hours=12)


def withdrawn_now(hospital_id: int, now: datetime) -> Q:
    """Notices this hospital holds whose patient is no longer coming: sent elsewhere (before the
    handoff loop moves the notice there), stood down, or cleared without transport. Bounded to
    the last hours, so old jobs from before this board existed never reappear."""
    since = now - WITHDRAWN_LOOKBACK
    redirected = ~Q(assignment__hospital_id=hospital_id) | Q(assignment__hospital__isnull=True)
    stood_down = Q(assignment__cancelled_at__gte=since)
    not_transported = Q(
        assignment__cancelled_at__isnull=True,
        assignment__cleared_at__gte=since,
        assignment__at_hospital_at__isnull=True,
        assignment__handover_at__isnull=True,
    )
    return Q(hospital_id=hospital_id) & (
        (redirected & Q(updated_at__gte=since, assignment__cancelled_at__isnull=True))
        | stood_down
        | not_transported
    )


def recorded_withdrawal(hospital_id: int) -> Exists:
    """A withdrawal row for this hospital at the notice's current revision (acknowledged, or
    written when the notice moved on): the row then speaks for it."""
    return Exists(
        NoticeWithdrawal.objects.filter(
            notice=OuterRef("pk"), hospital_id=hospital_id, revision=OuterRef("revision")
        )
    )


def pending_withdrawals(
    hospital_id: int, now: datetime
) -> tuple[list[NoticeWithdrawal], list[PreArrivalNotice]]:
    """What the board shows struck through: open withdrawal rows, and notices withdrawn but not
    yet written down as such."""
    rows = list(
        NoticeWithdrawal.objects.filter(
            hospital_id=hospital_id, acknowledged_at__isnull=True, superseded_at__isnull=True
        ).select_related("redirected_to", "notice__assignment__unit", "notice__assignment__incident")
    )
    derived = list(
        PreArrivalNotice.objects.filter(withdrawn_now(hospital_id, now))
        .filter(~recorded_withdrawal(hospital_id))
        .select_related("assignment__unit", "assignment__incident", "assignment__hospital")
    )
    return rows, derived


def derived_withdrawal(notice: PreArrivalNotice, hospital_id: int) -> dict[str, Any]:
    """Why and when a notice still held here was withdrawn, from its assignment."""
    a = notice.assignment
    if a.cancelled_at:
        return {"reason": WithdrawalReason.STOOD_DOWN, "redirected_to": None, "at": a.cancelled_at}
    if a.hospital_id != hospital_id:
        moved = (
            Event.objects.filter(
                kind=EventKind.ASSIGNMENT_REDIRECTED, hospital_id=hospital_id, data__assignment=a.pk
            )
            .order_by("-seq")
            .values_list("at", flat=True)
            .first()
        )
        return {
            "reason": WithdrawalReason.REDIRECTED,
            "redirected_to": a.hospital,
            "at": moved or notice.updated_at,
        }
    return {"reason": WithdrawalReason.NOT_TRANSPORTED, "redirected_to": None, "at": a.cleared_at}


def withdrawn_rows(hospital: Hospital, now: datetime) -> list[dict[str, Any]]:
    """The minimum a hospital keeps of a patient no longer coming: which unit and incident,
    the complaint the dispatcher took, why it was withdrawn and where the patient goes
    instead. Never the name, the vital signs, the record or the message line."""
    rows, derived = pending_withdrawals(hospital.pk, now)
    out = [withdrawn_row(w.notice, w.revision, w.reason, w.redirected_to, w.withdrawn_at) for w in rows]
    for notice in derived:
        why = derived_withdrawal(notice, hospital.pk)
        out.append(withdrawn_row(notice, notice.revision, why["reason"], why["redirected_to"], why["at"]))
    out.sort(key=lambda r: r["withdrawn_at"] or "", reverse=True)
    return out


def withdrawn_row(
    notice: PreArrivalNotice, revision: int, reason: str, to: Hospital | None, at: datetime | None
) -> dict[str, Any]:
    a = notice.assignment
    return {
        "id": notice.pk,
        "revision": revision,
        "reason": reason,
        "reason_label": str(WithdrawalReason(reason).label),
        "redirected_to": {"id": to.pk, "name": to.name, "name_en": to.name_en} if to else None,
        "withdrawn_at": iso(at),
        "call_sign": a.unit.call_sign,
        "incident_number": a.incident.number,
        "priority": a.incident.priority,
        "chief_complaint": a.incident.chief_complaint,
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
        .prefetch_related("acknowledgements__acknowledged_by", "assignment__vitals", "er_messages__sender")
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
