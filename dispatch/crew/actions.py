"""Actions of the crew tablet: the patient record, vital signs and the message line.

Patient and vitals events carry the assignment's destination as their `hospital`, so the
receiving ER's board hears of the patient before the ambulance arrives, and the crew's unit as
their `unit`, so the crew's other tablets see them too.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event, record_job_event
from dispatch.core.permissions import is_control_room
from dispatch.models import (
    VITAL_RANGES,
    Assignment,
    Message,
    MessageDirection,
    PatientRecord,
    Role,
    Sex,
    User,
    VitalSign,
)
from dispatch.roster.actions import claim_shift_start
from dispatch.units.actions import set_unit_status
from fleet.models import CrewShift, Unit, UnitStatus

PATIENT_TEXT_FIELDS = {"name": 60, "chief_complaint": 200, "findings": 4000, "interventions": 2000}
PATIENT_FIELDS = {*PATIENT_TEXT_FIELDS, "sex", "age", "drugs"}
MAX_DRUGS = 30
DRUG_TEXT_FIELDS = {"name": 60, "dose": 30, "route": 20}

VITAL_LABELS = {
    "heart_rate": gettext_lazy("Heart rate"),
    "systolic_bp": gettext_lazy("Systolic blood pressure"),
    "diastolic_bp": gettext_lazy("Diastolic blood pressure"),
    "spo2": gettext_lazy("SpO2"),
    "respiratory_rate": gettext_lazy("Respiratory rate"),
    "temperature_c": gettext_lazy("Temperature"),
    "gcs": gettext_lazy("GCS"),
    "glucose_mmol": gettext_lazy("Blood glucose"),
}
WHOLE_NUMBER_VITALS = {"heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs"}
# A reading "taken" later than this ahead of the server clock is a tablet clock fault.
CLOCK_SKEW = timedelta(minutes=5)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- the patient record ----------------------------------------------------------------------


@transaction.atomic
def update_patient_record(
    assignment: Assignment, *, actor: User | None, client_time: datetime | None = None, **fields: Any
) -> PatientRecord:
    """Set the fields given (others stay as they are); the first change creates the record.
    `drugs` replaces the whole list, so a replayed change lands the same way twice."""
    unknown = set(fields) - PATIENT_FIELDS
    if unknown:
        raise ActionError(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}, "bad_field"
        )
    changes = checked_patient_fields(fields)
    # The assignment's row lock makes two tablets creating the record at once take turns.
    locked = Assignment.objects.select_for_update(of=("self",)).select_related("unit", "hospital")
    assignment = locked.get(pk=assignment.pk)
    record, _created = PatientRecord.objects.get_or_create(assignment=assignment)
    for name, value in changes.items():
        setattr(record, name, value)
    record.updated_at = timezone.now()
    record.updated_by = actor if actor and actor.pk else None
    record.client_time = client_time
    record.save()
    record_job_event(
        EventKind.PATIENT_UPDATED,
        assignment,
        actor=actor,
        data={
            "assignment": assignment.pk,
            "record": record.pk,
            "fields": changes,
            "client_time": iso(client_time),
        },
    )
    return record


def checked_patient_fields(fields: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name in PATIENT_TEXT_FIELDS:
            changes[name] = checked_text(value, name.replace("_", " "), PATIENT_TEXT_FIELDS[name])
        elif name == "sex":
            changes[name] = checked_sex(value)
        elif name == "age":
            changes[name] = checked_age(value)
        elif name == "drugs":
            changes[name] = checked_drugs(value)
    return changes


def checked_sex(value: str | None) -> str:
    value = (value or "").strip().upper()
    if value not in ("", *Sex.values):
        raise ActionError(_("Sex must be M, F or empty."), "bad_sex")
    return value


def checked_age(value: int | None) -> int | None:
    if value is not None and not (type(value) is int and 0 <= value <= 150):
        raise ActionError(_("Age must be a whole number of years from 0 to 150."), "bad_age")
    return value


def checked_drugs(drugs: list[dict] | None) -> list[dict]:
    drugs = drugs or []
    if not isinstance(drugs, list) or len(drugs) > MAX_DRUGS:
        raise ActionError(_("Drugs given: a list of at most %(n)d entries.") % {"n": MAX_DRUGS}, "bad_drugs")
    return [checked_drug(drug) for drug in drugs]


def checked_drug(drug: dict) -> dict:
    if not isinstance(drug, dict):
        raise ActionError(_("Each drug given is an object with name, dose, route, given_at."), "bad_drugs")
    entry: dict[str, str | None] = {
        name: checked_text(drug.get(name), f"drug {name}", n) for name, n in DRUG_TEXT_FIELDS.items()
    }
    if not entry["name"]:
        raise ActionError(_("Each drug given needs its name."), "bad_drugs")
    given_at = drug.get("given_at")
    if isinstance(given_at, str):
        given_at = parse_datetime(given_at)
        if given_at is None:
            raise ActionError(_("A drug's given_at must be a date and time."), "bad_drugs")
    entry["given_at"] = iso(given_at)
    return entry


# --- vital signs -----------------------------------------------------------------------------


@transaction.atomic
def record_vitals(
    assignment: Assignment,
    *,
    actor: User | None,
    taken_at: datetime | None = None,
    client_time: datetime | None = None,
    **readings: float | int | None,
) -> VitalSign:
    """One set of readings, checked against physiologic ranges; at least one reading."""
    checked = checked_readings(readings)
    now = timezone.now()
    taken_at = checked_taken_at(taken_at or client_time or now, now)
    assignment = Assignment.objects.select_related("unit", "hospital", "incident").get(pk=assignment.pk)
    vitals = VitalSign.objects.create(
        assignment=assignment,
        taken_at=taken_at,
        recorded_at=now,
        recorded_by=actor if actor and actor.pk else None,
        client_time=client_time,
        **checked,
    )
    record_job_event(
        EventKind.VITALS_RECORDED,
        assignment,
        actor=actor,
        data={
            "assignment": assignment.pk,
            "id": vitals.pk,
            "taken_at": iso(taken_at),
            "readings": checked,
            "client_time": iso(client_time),
        },
    )
    return vitals


def checked_readings(readings: dict[str, float | int | None]) -> dict[str, float | int]:
    unknown = set(readings) - set(VITAL_RANGES)
    if unknown:
        raise ActionError(
            _("Unknown readings: %(names)s.") % {"names": ", ".join(sorted(unknown))}, "bad_field"
        )
    given = {name: value for name, value in readings.items() if value is not None}
    if not given:
        raise ActionError(_("Enter at least one reading."), "no_reading")
    problems = [p for name, value in given.items() if (p := reading_problem(name, value))]
    problems += blood_pressure_problems(given)
    if problems:
        raise ActionError(
            " ".join(problems) + " " + _("Check the readings; nothing was saved."), "bad_reading"
        )
    return given


def reading_problem(name: str, value: float | int) -> str | None:
    low, high, unit = VITAL_RANGES[name]
    label = VITAL_LABELS[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _("%(label)s must be a number.") % {"label": label}
    if name in WHOLE_NUMBER_VITALS and value != int(value):
        return _("%(label)s must be a whole number.") % {"label": label}
    if not low <= value <= high:
        return _("%(label)s %(value)s %(unit)s is outside %(low)s–%(high)s %(unit)s.") % {
            "label": label,
            "value": value,
            "unit": unit,
            "low": low,
            "high": high,
        }
    return None


def blood_pressure_problems(given: dict[str, float | int]) -> list[str]:
    systolic, diastolic = given.get("systolic_bp"), given.get("diastolic_bp")
    if (systolic is None) != (diastolic is None):
        return [_("Give systolic and diastolic blood pressure together.")]
    # Both given or neither (above); the type checker needs both tested.
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        return [
            _("Diastolic pressure must be below systolic (%(s)s/%(d)s).") % {"s": systolic, "d": diastolic}
        ]
    return []


def checked_taken_at(taken_at: datetime, now: datetime) -> datetime:
    if taken_at > now + CLOCK_SKEW:
        raise ActionError(
            _("The reading's time %(at)s is in the future: check the tablet's clock.")
            % {"at": iso(taken_at)},
            "bad_time",
        )
    return taken_at


# --- the message line ------------------------------------------------------------------------


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "unit": message.unit_id,
        "assignment": message.assignment_id,
        "incident": message.incident_id,
        "direction": message.direction,
        "sender": message.sender.username,
        "sender_name": message.sender.get_full_name() or message.sender.username,
        "call_sign": message.unit.call_sign,
        "text": message.text,
        "sent_at": iso(message.sent_at),
        "client_time": iso(message.client_time),
        "read_at": iso(message.read_at),
    }


@transaction.atomic
def send_message(unit: Unit, text: str, *, actor: User, client_time: datetime | None = None) -> Message:
    """A line from the control room to a unit's crew, or from a crew to the control room. It
    belongs to the unit's live assignment, if any, so it stays with the job's record."""
    text = checked_text(text, "text", 500)
    if not text:
        raise ActionError(_("A message needs some text."), "empty_message")
    direction = message_direction(unit, actor)
    assignment = Assignment.objects.live().filter(unit=unit).first()
    message = Message.objects.create(
        unit=unit,
        assignment=assignment,
        incident_id=assignment.incident_id if assignment else None,
        direction=direction,
        sender=actor,
        text=text,
        client_time=client_time,
    )
    record_event(
        EventKind.MESSAGE_SENT,
        actor=actor,
        incident=message.incident,
        unit=unit,
        data=message_data(message),
    )
    return message


def message_direction(unit: Unit, actor: User) -> str:
    """Crews write from their own unit only; the control room writes to a crew that is there."""
    shifts = CrewShift.objects.current().filter(unit=unit)
    if actor.role == Role.CREW and not actor.is_superuser:
        if not shifts.filter(user=actor).exists():
            raise ActionError(
                _("You can only write from the unit you are on shift with."), "not_your_unit", 403
            )
        return MessageDirection.TO_CONTROL
    if not is_control_room(actor):
        raise ActionError(_("Your role may not send messages to crews."), "forbidden", 403)
    if not shifts.exists():
        raise ActionError(
            _("No crew is signed in on %(unit)s: nobody would read it. Call the vehicle instead.")
            % {"unit": unit.call_sign},
            "no_crew",
            409,
        )
    return MessageDirection.TO_CREW


@transaction.atomic
def mark_read(message: Message, *, actor: User, client_time: datetime | None = None) -> Message:
    """The receiving side has read the message. Reading it again changes nothing."""
    crew_side = actor.role == Role.CREW and not actor.is_superuser
    if not (crew_side or is_control_room(actor)):
        raise ActionError(_("Your role may not read crew messages."), "forbidden", 403)
    receiving = MessageDirection.TO_CREW if crew_side else MessageDirection.TO_CONTROL
    if message.direction != receiving:
        raise ActionError(_("Only the receiving side marks a message read."), "not_the_recipient", 409)
    now = timezone.now()
    won = Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now, read_by=actor)
    message.refresh_from_db()
    if won:
        record_event(
            EventKind.MESSAGE_READ,
            actor=actor,
            incident=message.incident,
            unit=message.unit,
            data={
                "id": message.pk,
                "direction": message.direction,
                "read_at": iso(now),
                "client_time": iso(client_time),
            },
        )
    return message


# --- ending a job before transport -------------------------------------------------------

# Why a crew clears a job from the scene, before transport (or handover): the tablet asks, the
# job keeps it, the console's timeline says it.
END_REASONS = {
    "treated_on_scene": ("现场处置", "treated on scene"),
    "refused_transport": ("拒绝送院", "refused transport"),
    "died": ("死亡", "died"),
    "cancelled": ("取消", "cancelled by dispatch"),
    "other": ("其他", "other"),
}
# A unit in one of these has not transported the patient: going available ends the job early.
EARLY_END_FROM = (UnitStatus.ON_SCENE, UnitStatus.PATIENT_CONTACT)


def ends_early(current: str, status: str) -> bool:
    return status == UnitStatus.AVAILABLE and current in EARLY_END_FROM


def checked_end_reason(reason: str | None, note: str | None) -> tuple[str, str]:
    """The reason code and its words; "other" needs the words. A 422 names the choices."""
    reason = (reason or "").strip()
    note = checked_text(note, "end note", 200)
    if not reason:
        raise ActionError(
            _("Say why the job ends before transport: %(choices)s.") % {"choices": ", ".join(END_REASONS)},
            "end_reason_required",
        )
    if reason not in END_REASONS:
        raise ActionError(
            _("Unknown reason %(reason)s: use one of %(choices)s.")
            % {"reason": repr(reason[:30]), "choices": ", ".join(END_REASONS)},
            "bad_end_reason",
        )
    if reason == "other" and not note:
        raise ActionError(_("Say in a few words why the job ends (other)."), "end_note_required")
    return reason, note


@transaction.atomic
def end_job_early(
    unit: Unit,
    assignment: Assignment,
    reason: str | None,
    note: str | None,
    *,
    actor: User,
    client_time: datetime | None = None,
) -> Unit:
    """The crew clears the job from the scene without transport (treated on scene, refused,
    died, cancelled, other): the unit goes available, the job keeps why, and the control room
    sees it on the incident's timeline."""
    reason, note = checked_end_reason(reason, note)
    set_unit_status(unit, UnitStatus.AVAILABLE, actor=actor, client_time=client_time)
    Assignment.objects.filter(pk=assignment.pk).update(end_reason=reason, end_note=note)
    zh, en = END_REASONS[reason]
    record_job_event(
        EventKind.ASSIGNMENT_ENDED_EARLY,
        assignment,
        actor=actor,
        data={
            "assignment": assignment.pk,
            "call_sign": unit.call_sign,
            "reason": reason,
            "note": note,
            "text": f"{unit.call_sign} {zh}" + (f"：{note}" if note else ""),
            "text_en": f"{unit.call_sign} {en}" + (f": {note}" if note else ""),
            "client_time": iso(client_time),
        },
    )
    return unit


# --- shifts ------------------------------------------------------------------------------


@transaction.atomic
def start_shift(user: User, unit: Unit, role: str = "doctor", *, now: datetime | None = None) -> CrewShift:
    """Only on a unit the member is rostered to now, or with a supervisor's approval
    (dispatch.roster.actions.claim_shift_start: a 403 with the reason otherwise). A member
    joining a unit already crewed gets a shift row of their own beside the others'."""
    if user.role != Role.CREW:
        raise ActionError("Only crew members can be bound to a unit.", "not_crew", 403)
    now = now or timezone.now()
    permit = claim_shift_start(user, unit, role, now)
    CrewShift.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
    shift = CrewShift.objects.create(user=user, unit=unit, role=role, started_at=now)
    data = {"user": user.username, "role": role, **permit}
    record_event(EventKind.SHIFT_STARTED, actor=user, unit=unit, data=data)
    return shift


@transaction.atomic
def end_shift(user: User) -> int:
    shifts = list(CrewShift.objects.filter(user=user, ended_at__isnull=True).select_related("unit"))
    CrewShift.objects.filter(pk__in=[s.pk for s in shifts]).update(ended_at=timezone.now())
    for shift in shifts:
        record_event(EventKind.SHIFT_ENDED, actor=user, unit=shift.unit, data={"user": user.username})
    return len(shifts)
