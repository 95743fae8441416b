"""The shapes of incidents and their assignments in the API."""

from datetime import datetime

from ninja import Schema


class AssignmentOut(Schema):
    id: int
    unit: int
    unit_call_sign: str
    unit_status: str
    hospital: int | None
    hospital_name: str | None
    dispatched_at: datetime
    recommended_rank: int | None
    eta_at_dispatch_s: float | None
    override_reason: str
    acknowledged_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    transport_started_at: datetime | None
    at_hospital_at: datetime | None
    handover_at: datetime | None
    cleared_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str


class IncidentOut(Schema):
    id: int
    number: str
    status: str
    caller_number: str
    caller_name: str
    lon: float | None
    lat: float | None
    location_source: str
    location_accuracy_m: float | None
    address: str
    priority: int | None
    chief_complaint: str
    capability_needed: str
    triage: dict
    patient_name: str
    patient_sex: str
    patient_age: int | None
    notes: str
    outcome: str
    call_received_at: datetime | None
    created_at: datetime
    location_confirmed_at: datetime | None
    triaged_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    closed_at: datetime | None
    assignments: list[AssignmentOut]
