"""The pre-hospital care record (院前急救病历) a receiving hospital keeps: the incident's and the
unit's times, the complaint, the dispatcher's triage, the crew's findings, every set of vital
signs, interventions and drugs, who was on the unit and who received the patient. One dict,
drawn as a printable page (templates/care_record.html) and as a PDF (record_pdf.py), also for
hospitals without a FHIR endpoint.

Who may open it is the caller's business (views.py: permissions.visible_notices): the receiving
hospital's staff and the control room. Like the ER board, it never carries the caller's phone or
name nor the dispatcher's free-text notes.
"""

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dispatch.core.event_kinds import EventKind
from dispatch.handoff.reads import patient, triage_path, triage_protocols
from dispatch.models import VITAL_RANGES, Event, PreArrivalNotice, Role, User, VitalSign
from fleet.models import CrewRole, CrewShift

VITAL_NAMES = list(VITAL_RANGES)


def vital_labels() -> dict[str, str]:
    return {
        "heart_rate": _("Heart rate"),
        "systolic_bp": _("Systolic BP"),
        "diastolic_bp": _("Diastolic BP"),
        "spo2": "SpO₂",
        "respiratory_rate": _("Respiratory rate"),
        "temperature_c": _("Temperature"),
        "gcs": "GCS",
        "glucose_mmol": _("Blood glucose"),
    }


def person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def crew_on_job(notice: PreArrivalNotice) -> list[dict[str, str]]:
    """Who was on the unit while it had this job: shifts overlapping dispatch to handover."""
    a = notice.assignment
    end = a.handover_at or a.cleared_at or a.cancelled_at or timezone.now()
    shifts = (
        CrewShift.objects.filter(unit=a.unit, started_at__lte=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=a.dispatched_at))
        .select_related("user")
        .order_by("started_at", "pk")
    )
    roles = dict(CrewRole.choices)
    return [{"name": person(s.user), "role": str(roles.get(s.role, s.role))} for s in shifts]


def receiving_clinician(notice: PreArrivalNotice) -> str:
    """Who at the hospital recorded the handover; else who acknowledged the notice there."""
    a = notice.assignment
    handed = (
        Event.objects.filter(kind=EventKind.HANDOVER_COMPLETED, data__assignment=a.pk)
        .select_related("actor")
        .order_by("seq")
        .first()
    )
    if handed and handed.actor and handed.actor.role == Role.HOSPITAL:
        return person(handed.actor)
    ack = notice.acknowledgements.filter(hospital=notice.hospital).select_related("acknowledged_by").first()
    return person(ack.acknowledged_by) if ack and not ack.by_phone else ""


def blood_pressure(v: VitalSign) -> str | None:
    if v.systolic_bp is None and v.diastolic_bp is None:
        return None
    return f"{v.systolic_bp or '—'}/{v.diastolic_bp or '—'}"


def vital_table(
    vitals: list[VitalSign], names: dict[str, str]
) -> tuple[list[tuple[str, str]], list[tuple[datetime, list]]]:
    """Columns (label, unit) and rows (time, values) of the readings taken; blood pressure as
    one column, systolic/diastolic, as a clinician writes it."""
    shown = [n for n in VITAL_NAMES if any(getattr(v, n) is not None for v in vitals)]
    both_bp = "systolic_bp" in shown and "diastolic_bp" in shown
    columns: list[tuple[str, str]] = []
    getters: list[Callable[[VitalSign], object]] = []
    for name in shown:
        if both_bp and name == "diastolic_bp":
            continue
        if both_bp and name == "systolic_bp":
            columns.append((_("Blood pressure"), "mmHg"))
            getters.append(blood_pressure)
            continue
        columns.append((names[name], VITAL_RANGES[name][2]))
        getters.append(operator.attrgetter(name))
    return columns, [(v.taken_at, [get(v) for get in getters]) for v in vitals]


def drugs_given(drugs: list[dict]) -> list[dict[str, str]]:
    """The crew's drugs with the time each was given in the centre's time (when recorded)."""
    out = []
    for d in drugs or []:
        given = parse_datetime(str(d.get("given_at") or ""))
        out.append(
            {
                "name": str(d.get("name") or ""),
                "dose": str(d.get("dose") or ""),
                "route": str(d.get("route") or ""),
                "given_at": timezone.localtime(given).strftime("%H:%M") if given else "",
            }
        )
    return out


def times(notice: PreArrivalNotice) -> list[tuple[str, datetime | None]]:
    a, incident = notice.assignment, notice.assignment.incident
    return [
        (_("Call received"), incident.call_received_at or incident.created_at),
        (_("Dispatched"), a.dispatched_at),
        (_("On scene"), a.on_scene_at),
        (_("Left scene"), a.transport_started_at),
        (_("At hospital"), a.at_hospital_at),
        (_("Handover"), a.handover_at),
    ]


def care_record(notice: PreArrivalNotice) -> dict[str, Any]:
    """Everything the record shows, in the current language."""
    a = notice.assignment
    incident, unit = a.incident, a.unit
    record = getattr(a, "patient_record", None)
    columns, rows = vital_table(list(a.vitals.order_by("taken_at", "pk")), vital_labels())
    found = patient(record, incident)
    found["drugs"] = drugs_given(found["drugs"])
    return {
        "notice": notice,
        "incident_number": incident.number,
        "hospital": notice.hospital.name,
        "unit": unit.call_sign,
        "unit_phone": unit.phone,
        "priority": incident.priority,
        "address": incident.address,
        "chief_complaint": (record.chief_complaint if record else "") or incident.chief_complaint,
        "patient": found,
        "triage": triage_path(incident.triage_answers, triage_protocols([incident])),
        "times": times(notice),
        "vital_columns": columns,
        "vitals": rows,
        "crew": crew_on_job(notice),
        "receiving_clinician": receiving_clinician(notice),
        "printed_at": timezone.now(),
    }
