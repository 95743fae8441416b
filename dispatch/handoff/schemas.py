"""The shapes of the ER board, the pre-arrival notices and ER status in the API."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from dispatch.crew.schemas import CrewNoticeOut, TriageStepOut


class AckOut(Schema):
    by: str
    at: datetime
    by_phone: bool
    revision: int


class BoardIncidentOut(Schema):
    id: int
    number: str
    priority: int | None
    chief_complaint: str
    address: str
    dispatched_at: datetime | None


class BoardPatientOut(Schema):
    name: str
    sex: str
    age: int | None
    findings: str
    interventions: str
    drugs: list[dict[str, Any]]
    updated_at: datetime | None


class LatestVitalOut(Schema):
    name: str
    value: float
    unit: str
    taken_at: datetime
    previous: float | None
    trend: str | None = Field(description="up, down, steady, or null for a first reading")


class CrewContactOut(Schema):
    name: str
    role: str
    phone: str


class BoardUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    status_label: str
    phone: str = Field(description="the vehicle's callback number")
    crew: list[CrewContactOut]


class EtaOut(Schema):
    seconds: float | None = Field(description="road time from the last position; null when unknown")
    metres: float | None
    arrives_at: datetime | None
    computed_at: datetime
    position_at: datetime | None
    stale: bool
    reason: str = Field(description="why there is no ETA: no_position, no_network, no_road")
    transporting: bool


class TriagePathOut(Schema):
    protocol_name: str | None
    protocol_name_en: str | None
    path: list[TriageStepOut] = Field(description="the protocol's questions and the answers given, in order")


class ErMessageOut(Schema):
    id: int
    direction: str = Field(description="to_er: the crew wrote; to_crew: the ER answered")
    text: str
    sent_at: datetime
    sender: str = Field(description="the crew's call sign and name, or the ER staff member's name")


class CallerOut(Schema):
    number: str
    name: str


class NoticeRowOut(Schema):
    id: int
    assignment: int
    revision: int
    sent_at: datetime
    updated_at: datetime
    sent_by: str | None
    acknowledged: AckOut | None
    updated_since_ack: bool
    alerted_at: datetime | None
    incident: BoardIncidentOut
    triage: TriagePathOut
    messages: list[ErMessageOut] = Field(description="the crew <-> ER line, oldest first")
    caller: CallerOut | None = Field(None, description="the control room only (never a hospital)")
    dispatcher_notes: str | None = Field(None, description="the control room only (never a hospital)")
    patient: BoardPatientOut
    vitals: list[dict[str, Any]] = Field(description="every set of readings, oldest first")
    latest: list[LatestVitalOut]
    unit: BoardUnitOut
    eta: EtaOut
    arrived_at: datetime | None
    handover_at: datetime | None
    departed_at: datetime | None = Field(description="handover, or the unit cleared after arrival")


class WithdrawnHospitalOut(Schema):
    id: int
    name: str
    name_en: str


class WithdrawnOut(Schema):
    """The minimum a hospital keeps of a patient no longer coming to it."""

    id: int = Field(description="the notice")
    revision: int
    reason: str = Field(description="redirected, stood_down or not_transported")
    reason_label: str
    redirected_to: WithdrawnHospitalOut | None
    withdrawn_at: datetime | None
    call_sign: str
    incident_number: str
    priority: int | None
    chief_complaint: str


class WithdrawalAckOut(Schema):
    notice: int
    hospital: int
    revision: int
    by: str
    at: datetime


class BedOut(Schema):
    category: str
    label: str
    available: int | None
    updated_at: datetime | None


class ChangeOut(Schema):
    kind: str
    at: datetime
    by: str | None
    data: dict[str, Any]


class ErStatusOut(Schema):
    id: int
    name: str
    name_en: str
    phone: str
    diverting: list[str]
    diversion_reason: str
    status_changed_at: datetime | None
    beds: list[BedOut]
    changes: list[ChangeOut] = Field(description="the latest status and bed changes, newest first")


class BoardOut(Schema):
    hospital: ErStatusOut
    notices: list[NoticeRowOut] = Field(description="patients on the way or here, soonest first")
    handed_over: list[NoticeRowOut] = Field(description="handed over in the last handed_over_minutes")
    withdrawn: list[WithdrawnOut] = Field(description="withdrawn from here, until acknowledged")
    handed_over_minutes: int
    last_seq: int
    alert_after_s: int


class CrewErLineOut(Schema):
    """The crew's line to the receiving ER of its live job."""

    assignment: int | None
    notice: int | None = Field(description="null until the pre-arrival notice is sent")
    hospital: int | None
    hospital_name: str | None
    open: bool = Field(description="whether the crew can write (a notice sent, the patient bound there)")
    messages: list[ErMessageOut]


class DeliveryAttemptOut(Schema):
    started_at: datetime
    duration_ms: int
    http_status: int | None
    ok: bool
    error: str
    revision: int


class DeliveryOut(Schema):
    id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str
    revision: int | None


class NoticeDetailOut(NoticeRowOut):
    hospital: int
    hospital_name: str
    deliveries: list[DeliveryOut]
    attempts: list[DeliveryAttemptOut]


BriefNoticeOut = CrewNoticeOut
