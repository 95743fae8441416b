"""What the crew tablet reads and writes: the shapes of its API (dispatch.crew.api)."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from fleet.models import UnitStatus

TABLET_FIELDS = {"idempotency_key", "client_time"}
MAX_BATCH = 200


# --- what the tablet reads -------------------------------------------------------------------


class NextStatusOut(Schema):
    status: str
    label: str


class CrewUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    status_label: str
    status_changed_at: datetime
    next_statuses: list[NextStatusOut] = Field(description="what the crew may tap next, in job order")


class ShiftOut(Schema):
    id: int
    unit: CrewUnitOut
    role: str
    started_at: datetime


class ShiftStateOut(Schema):
    shift: ShiftOut | None


class PickableUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    home_station: str | None
    plate: str
    crew: list[str] = Field(description="who is on shift with it now")
    search: str = Field(
        description="call sign, station, plate and the station's pinyin, lowercase, to filter on"
    )


class TriageStepOut(Schema):
    question: str
    question_en: str
    answer: str
    answer_en: str


class TriageSummaryOut(Schema):
    protocol: str | None
    protocol_name: str | None
    protocol_name_en: str | None
    hospital_capability: str | None
    instruction: str | None
    instruction_title: str | None = Field(description="the instruction's name (instruction is its code)")
    instruction_title_en: str | None
    path: list[TriageStepOut] = Field(description="the questions asked and the answers given")


class CrewIncidentOut(Schema):
    id: int
    number: str
    status: str
    address: str
    lon: float | None
    lat: float | None
    location_accuracy_m: float | None
    caller_number: str = Field(description="the callback number")
    caller_name: str
    priority: int | None
    chief_complaint: str
    capability_needed: str
    patient_name: str
    patient_sex: str
    patient_age: int | None
    patient_count: int
    notes: str = Field(description="the dispatcher's notes")
    address_building: str = Field(description="楼栋: building")
    address_unit: str = Field(description="单元: entrance")
    address_floor: str = Field(description="楼层: floor")
    address_room: str = Field(description="房号: room")
    access_notes: str = Field(description="how to get in")
    hazards: str = Field(description="what to watch for at the scene")
    triage: TriageSummaryOut


class DestinationOut(Schema):
    id: int
    name: str
    short_name: str
    address: str
    phone: str
    lon: float
    lat: float


class DrugOut(Schema):
    name: str
    dose: str
    route: str
    given_at: datetime | None


class PatientOut(Schema):
    id: int
    assignment: int
    name: str
    sex: str
    age: int | None
    chief_complaint: str
    findings: str
    interventions: str
    drugs: list[DrugOut]
    updated_at: datetime
    client_time: datetime | None


class VitalOut(Schema):
    id: int
    assignment: int
    taken_at: datetime
    recorded_at: datetime
    client_time: datetime | None
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    spo2: int | None
    respiratory_rate: int | None
    temperature_c: float | None
    gcs: int | None
    glucose_mmol: float | None


class CrewMessageOut(Schema):
    id: int
    unit: int
    assignment: int | None
    incident: int | None
    direction: str = Field(description="to_crew or to_control")
    sender: str
    sender_name: str = Field(description="the person who wrote it")
    call_sign: str = Field(description="the unit's call sign: a crew's messages are signed with it")
    text: str
    sent_at: datetime
    client_time: datetime | None
    read_at: datetime | None


class RecordOut(Schema):
    assignment: int
    patient: PatientOut | None
    vitals: list[VitalOut]


class CrewNoticeOut(Schema):
    """The pre-arrival notice (dispatch.handoff.api sends it)."""

    id: int
    assignment: int
    hospital: int
    revision: int
    sent_at: datetime
    acknowledged_at: datetime | None = Field(description="when the receiving ER acknowledged it")
    acknowledged_by: str | None


class AlternativeOut(Schema):
    id: int
    name: str
    rank: int
    eta_s: float | None


class DestinationAlertOut(Schema):
    """The receiving hospital went on diversion for this patient, or its beds ran out."""

    event: int = Field(description="the alert's event number")
    at: datetime
    hospital: int
    hospital_name: str
    cause: str = Field(description="diversion or beds")
    text: str
    text_en: str
    alternative: AlternativeOut | None


class CrewAssignmentOut(RecordOut):
    id: int
    live: bool
    unit: CrewUnitOut
    incident: CrewIncidentOut
    destination: DestinationOut | None
    clocks: dict[str, datetime | None] = Field(description="server times of the job")
    client_times: dict[str, str] = Field(description="the tablet's own time for each clock it tapped")
    cancel_reason: str
    end_reason: str = Field(description="why the crew ended the job before transport, if it did")
    end_note: str
    destination_alert: DestinationAlertOut | None = Field(
        None, description="the destination cannot take this patient now, with the next best hospital"
    )
    messages: list[CrewMessageOut]
    notice: CrewNoticeOut | None = None


class CurrentOut(Schema):
    shift: ShiftOut | None
    assignment: CrewAssignmentOut | None


class StatusResultOut(Schema):
    unit: CrewUnitOut
    assignment: int | None
    changed_at: datetime
    client_time: datetime | None


class DestinationResultOut(Schema):
    assignment: int
    destination: DestinationOut | None


def shaped(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """The body as its documented schema serializes it: stored answers replay byte for byte."""
    return schema.model_validate(data).model_dump(mode="json")


# --- what the tablet writes: one operation per kind ------------------------------------------


class TabletWrite(Schema):
    # default= by name: the type checker reads only a named default, and TabletWrite() is built
    # in code for a body-less POST.
    idempotency_key: str | None = Field(
        default=None, max_length=80, description="or the Idempotency-Key header"
    )
    client_time: datetime | None = Field(default=None, description="the tablet's clock when the crew acted")


class StatusOp(Schema):
    status: UnitStatus
    assignment: int | None = Field(None, description="the job this tap belongs to; required during a job")
    end_reason: str | None = Field(
        None,
        max_length=30,
        description="going available before transport: treated_on_scene, refused_transport, died, "
        "cancelled or other (required then)",
    )
    end_note: str | None = Field(None, max_length=200, description="the words for end_reason other")


class CrewStatusIn(StatusOp, TabletWrite):
    pass


class AssignmentOp(Schema):
    assignment: int


class UndoOp(Schema):
    unit: int = Field(description="the crew's unit")
    status: UnitStatus = Field(description="the status tapped by mistake (the unit's current one)")
    back_to: UnitStatus = Field(description="the status it had before the tap")


class UndoIn(UndoOp, TabletWrite):
    pass


class DrugIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    dose: str = Field("", max_length=30)
    route: str = Field("", max_length=20)
    given_at: datetime | None = None


class PatientFields(Schema):
    name: str | None = Field(None, max_length=60)
    sex: Literal["M", "F", ""] | None = None
    age: int | None = Field(None, ge=0, le=150)
    chief_complaint: str | None = Field(None, max_length=200)
    findings: str | None = Field(None, max_length=4000)
    interventions: str | None = Field(None, max_length=2000)
    drugs: list[DrugIn] | None = Field(None, max_length=30, description="replaces the whole list")


class PatientOp(PatientFields, AssignmentOp):
    pass


class PatientIn(PatientFields, TabletWrite):
    pass


class VitalsFields(Schema):
    """Range checks are the action's, so a wrong reading gets a message a crew understands."""

    taken_at: datetime | None = Field(None, description="defaults to client_time, then the server's")
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    temperature_c: float | None = None
    gcs: int | None = None
    glucose_mmol: float | None = None


class VitalsOp(VitalsFields, AssignmentOp):
    pass


class VitalsIn(VitalsFields, TabletWrite):
    pass


class DestinationFields(Schema):
    hospital: int
    hospital_rank: int | None = Field(None, ge=1, le=10_000)


class DestinationOp(DestinationFields, AssignmentOp):
    pass


class CrewDestinationIn(DestinationFields, TabletWrite):
    pass


class MessageOp(Schema):
    text: str = Field(..., min_length=1, max_length=500)


class MessageIn(MessageOp, TabletWrite):
    pass


class ReadOp(Schema):
    message: int
