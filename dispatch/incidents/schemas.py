"""The shapes of incidents and their assignments in the API."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


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
    address_building: str
    address_unit: str
    address_floor: str
    address_room: str
    access_notes: str
    hazards: str
    priority: int | None
    chief_complaint: str
    capability_needed: str
    triage: dict
    patient_name: str
    patient_sex: str
    patient_age: int | None
    patient_count: int
    notes: str
    outcome: str
    linked_to: int | None
    call_received_at: datetime | None
    call_answered_at: datetime | None
    created_at: datetime
    location_confirmed_at: datetime | None
    triaged_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    closed_at: datetime | None
    assignments: list[AssignmentOut]


class HospitalAssignmentOut(Schema):
    """A unit bound for the reader's hospital, as its staff see it."""

    id: int
    unit: int
    unit_call_sign: str
    unit_status: str
    hospital: int
    dispatched_at: datetime
    acknowledged_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    transport_started_at: datetime | None
    at_hospital_at: datetime | None
    handover_at: datetime | None
    cleared_at: datetime | None


class HospitalIncidentOut(Schema):
    """An incident as hospital staff see it, while a unit not stood down is bound for their
    hospital: the patient, the scene and the clock. Never the caller's phone or name, the
    dispatcher's notes, the access notes and flat number, the call, nor other units."""

    view: Literal["hospital"] = Field(description="this reduced view; the full one has no `view`")
    id: int
    number: str
    status: str
    lon: float | None
    lat: float | None
    address: str
    hazards: str
    priority: int | None
    chief_complaint: str
    capability_needed: str
    triage: dict
    patient_name: str
    patient_sex: str
    patient_age: int | None
    patient_count: int
    outcome: str
    created_at: datetime
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    closed_at: datetime | None
    assignments: list[HospitalAssignmentOut] = Field(description="only the units bound for this hospital")


class IncidentFoundOut(Schema):
    """One incident a search found, open or closed."""

    id: int
    number: str
    status: str
    outcome: str
    priority: int | None
    chief_complaint: str
    address: str
    caller_number: str
    caller_name: str
    patient_name: str
    created_at: datetime
    dispatched_at: datetime | None
    closed_at: datetime | None
