"""What the crew tablet reads: the crew's unit and shift, its assignments and their record.

Confinement lives in the queries (Assignment.objects.for_crew, Message.objects.for_crew): a
crew member asking for another unit's assignment, record or message by id gets the same 404
as for an id that does not exist.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.crew.actions import message_data
from dispatch.crew.diversion import destination_alert
from dispatch.locate.gazetteer import search_keys
from dispatch.models import (
    Assignment,
    CallerInstruction,
    Message,
    PatientRecord,
    PreArrivalNotice,
    TriageProtocol,
    User,
    VitalSign,
)
from dispatch.triage import protocols as triage
from dispatch.units.actions import ALLOWED_NEXT
from fleet.models import CrewShift, Unit, UnitStatus

# Statuses a crew never sets itself: a job starts only by dispatch (which creates the assignment).
NOT_FROM_TABLET = {UnitStatus.DISPATCHED}
CLOCK_FIELDS = (
    "dispatched_at",
    "acknowledged_at",
    "en_route_at",
    "on_scene_at",
    "patient_contact_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
    "cleared_at",
    "cancelled_at",
)
VITAL_FIELDS = (
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "spo2",
    "respiratory_rate",
    "temperature_c",
    "gcs",
    "glucose_mmol",
)


def current_shift(user: User) -> CrewShift | None:
    return CrewShift.objects.current().filter(user=user).select_related("unit").first()


def crew_unit(user: User) -> Unit:
    """The unit this crew member is on shift with, or a 409 telling them to start a shift."""
    shift = current_shift(user)
    if shift is None:
        raise ActionError(_("Start a shift on a unit first."), "no_shift", 409)
    return shift.unit


def crew_assignments(user: User) -> QuerySet[Assignment]:
    return Assignment.objects.for_crew(user).select_related("unit", "hospital", "incident", "notice")


def crew_assignment(user: User, assignment_id: int) -> Assignment:
    """One of this crew's assignments, or 404 (the same for another crew's and for none)."""
    assignment = crew_assignments(user).filter(pk=assignment_id).first()
    if assignment is None:
        raise ActionError(
            _("Assignment %(id)s not found on your unit.") % {"id": assignment_id}, "not_found", 404
        )
    return assignment


def live_assignment(unit: Unit) -> Assignment | None:
    related = ("unit", "hospital", "incident", "notice")
    return Assignment.objects.live().filter(unit=unit).select_related(*related).first()


def live_job(unit: Unit) -> Assignment | None:
    """The unit's live assignment, its own row only: what a tap is checked against, where
    live_assignment's joined rows (all of the incident's) would be read for nothing."""
    return Assignment.objects.live().filter(unit=unit).first()


def crew_message(user: User, message_id: int) -> Message:
    message = Message.objects.for_crew(user).select_related("sender", "unit").filter(pk=message_id).first()
    if message is None:
        raise ActionError(_("Message %(id)s not found on your unit.") % {"id": message_id}, "not_found", 404)
    return message


def next_statuses(status: str) -> list[str]:
    """What the crew may tap next, in job order."""
    allowed = ALLOWED_NEXT[UnitStatus(status)] - NOT_FROM_TABLET
    return [s.value for s in UnitStatus if s in allowed]


def refuse_unless_next(unit: Unit, status: str) -> None:
    """A 409 that says what the crew can do instead; the action re-checks under its claim."""
    unit.refresh_from_db(fields=["status"])
    allowed = next_statuses(unit.status)
    if status in allowed:
        return
    raise ActionError(
        _("%(unit)s is %(current)s and cannot go to %(wanted)s. Next: %(next)s. Nothing was changed.")
        % {
            "unit": unit.call_sign,
            "current": UnitStatus(unit.status).label,
            "wanted": UnitStatus(status).label,
            "next": ", ".join(str(UnitStatus(s).label) for s in allowed) or "-",
        },
        "bad_transition",
        409,
    )


def refuse_unless_live(assignment: Assignment, unit: Unit) -> None:
    """A change queued for a job must not land on the next job of the same unit."""
    if assignment.unit_id != unit.pk or assignment.cancelled_at or assignment.cleared_at:
        raise ActionError(
            _("Assignment %(id)s is no longer your unit's current job (finished, cancelled or reassigned).")
            % {"id": assignment.pk},
            "not_live",
            409,
        )


# --- what the tablet shows ------------------------------------------------------------------


def unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "status": unit.status,
        "status_label": str(UnitStatus(unit.status).label),
        "status_changed_at": unit.status_changed_at,
        "next_statuses": [
            {"status": s, "label": str(UnitStatus(s).label)} for s in next_statuses(unit.status)
        ],
    }


def shift_out(shift: CrewShift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {"id": shift.pk, "unit": unit_out(shift.unit), "role": shift.role, "started_at": shift.started_at}


def triage_summary(answers: dict) -> dict[str, Any]:
    """The dispatcher's triage as the questions asked and the answers given, in order."""
    answers = answers or {}
    protocol = TriageProtocol.objects.filter(code=answers.get("protocol") or "").first()
    path: list[dict[str, str]] = []
    if protocol is not None:
        try:
            step = triage.evaluate(protocol, list(answers.get("answers") or []))
            path = [
                {"question": p.text, "question_en": p.text_en, "answer": p.label, "answer_en": p.label_en}
                for p in step.path
            ]
        except triage.TriageError:
            pass  # a protocol edited since: the priority and complaint still stand
    return {
        "protocol": protocol.code if protocol else None,
        "protocol_name": protocol.name if protocol else None,
        "protocol_name_en": protocol.name_en if protocol else None,
        "hospital_capability": answers.get("hospital_capability") or None,
        "instruction": answers.get("instruction") or None,
        **instruction_titles(answers.get("instruction") or ""),
        "path": path,
    }


def instruction_titles(code: str) -> dict[str, str | None]:
    """The caller instruction's name in both languages: the tablet shows words, not its code."""
    instruction = CallerInstruction.objects.filter(code=code).first() if code else None
    return {
        "instruction_title": instruction.title if instruction else None,
        "instruction_title_en": (instruction.title_en or instruction.title) if instruction else None,
    }


def unit_search_text(unit: Unit) -> str:
    """What the shift list filters on: call sign, station, plate, and the station's pinyin and
    initials (明湾东站: mingwandongzhan, mwdz)."""
    station = unit.home_station.name if unit.home_station else ""
    full, initials = search_keys(station) if station else ("", "")
    words = [unit.call_sign, station, unit.plate, full, initials]
    return " ".join(w.lower() for w in words if w)


def incident_out(assignment: Assignment) -> dict[str, Any]:
    incident = assignment.incident
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "address": incident.address,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
        "location_accuracy_m": incident.location_accuracy_m,
        "caller_number": incident.caller_number,
        "caller_name": incident.caller_name,
        "priority": incident.priority,
        "chief_complaint": incident.chief_complaint,
        "capability_needed": incident.capability_needed,
        "patient_name": incident.patient_name,
        "patient_sex": incident.patient_sex,
        "patient_age": incident.patient_age,
        "patient_count": incident.patient_count,
        "notes": incident.notes,
        "address_building": incident.address_building,
        "address_unit": incident.address_unit,
        "address_floor": incident.address_floor,
        "address_room": incident.address_room,
        "access_notes": incident.access_notes,
        "hazards": incident.hazards,
        "triage": triage_summary(incident.triage_answers),
    }


def hospital_out(assignment: Assignment) -> dict[str, Any] | None:
    hospital = assignment.hospital
    if hospital is None:
        return None
    return {
        "id": hospital.pk,
        "name": hospital.name,
        "short_name": hospital.short_name,
        "address": hospital.address,
        "phone": hospital.phone,
        "lon": hospital.location.x,
        "lat": hospital.location.y,
    }


def patient_out(record: PatientRecord) -> dict[str, Any]:
    fields = ("name", "sex", "age", "chief_complaint", "findings", "interventions", "drugs")
    return {
        "id": record.pk,
        "assignment": record.assignment_id,
        **{name: getattr(record, name) for name in fields},
        "updated_at": record.updated_at,
        "client_time": record.client_time,
    }


def vital_out(vitals: VitalSign) -> dict[str, Any]:
    return {
        "id": vitals.pk,
        "assignment": vitals.assignment_id,
        "taken_at": vitals.taken_at,
        "recorded_at": vitals.recorded_at,
        "client_time": vitals.client_time,
        **{name: getattr(vitals, name) for name in VITAL_FIELDS},
    }


def message_out(message: Message) -> dict[str, Any]:
    return message_data(message)


def patient_record(assignment: Assignment) -> PatientRecord | None:
    return PatientRecord.objects.filter(assignment=assignment).first()


def record_out(assignment: Assignment) -> dict[str, Any]:
    """The patient record and every reading of one assignment."""
    record = patient_record(assignment)
    return {
        "assignment": assignment.pk,
        "patient": patient_out(record) if record is not None else None,
        "vitals": [vital_out(v) for v in assignment.vitals.all()],
    }


def assignment_notice(assignment: Assignment) -> PreArrivalNotice | None:
    """The assignment's notice; read with the assignment when it was selected with it."""
    try:
        return assignment.notice
    except PreArrivalNotice.DoesNotExist:
        return None


def notice_out(notice: PreArrivalNotice) -> dict[str, Any]:
    """The pre-arrival notice as the crew sees it: when it went, and who at the ER acknowledged
    it (null until someone at the current destination has)."""
    ack = (
        notice.acknowledgements.filter(hospital_id=notice.hospital_id)
        .select_related("acknowledged_by")
        .first()
    )
    by = ack.acknowledged_by if ack else None
    return {
        "id": notice.pk,
        "assignment": notice.assignment_id,
        "hospital": notice.hospital_id,
        "revision": notice.revision,
        "sent_at": notice.sent_at,
        "acknowledged_at": ack.acknowledged_at if ack else None,
        "acknowledged_by": (by.get_full_name() or by.username) if by else None,
    }


def assignment_out(assignment: Assignment) -> dict[str, Any]:
    """Everything the crew needs for one job."""
    messages = assignment.messages.select_related("sender", "unit")
    notice = assignment_notice(assignment)
    return {
        "id": assignment.pk,
        "live": assignment.cancelled_at is None and assignment.cleared_at is None,
        "unit": unit_out(assignment.unit),
        "incident": incident_out(assignment),
        "destination": hospital_out(assignment),
        "clocks": {name: getattr(assignment, name) for name in CLOCK_FIELDS},
        "client_times": assignment.client_times,
        "cancel_reason": assignment.cancel_reason,
        "end_reason": assignment.end_reason,
        "end_note": assignment.end_note,
        "destination_alert": destination_alert(assignment),
        "messages": [message_out(m) for m in messages],
        "notice": notice_out(notice) if notice is not None else None,
        **record_out(assignment),
    }
