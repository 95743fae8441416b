"""The shapes of the ER board, the pre-arrival notices and ER status in the API."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from dispatch.crew.schemas import CrewNoticeOut


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
    patient: BoardPatientOut
    vitals: list[dict[str, Any]] = Field(description="every set of readings, oldest first")
    latest: list[LatestVitalOut]
    unit: BoardUnitOut
    eta: EtaOut
    arrived_at: datetime | None
    handover_at: datetime | None


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
    notices: list[NoticeRowOut]
    last_seq: int
    alert_after_s: int


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
