"""Sending units and following them: dispatch, stand down, reassign, destination, status."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatch.core.openapi import errors
from dispatch.core.permissions import DISPATCHERS, require_role
from dispatch.incidents import actions
from dispatch.incidents.api import AssignmentOut, assignment_out, dispatcher_incident
from dispatch.models import Assignment
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital

router = Router(tags=["assignments"])


def live_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    require_role(request, *DISPATCHERS)
    return get_object_or_404(Assignment.objects.select_related("incident", "unit"), pk=assignment_id)


def fresh(assignment: Assignment) -> dict:
    return assignment_out(Assignment.objects.select_related("unit", "hospital").get(pk=assignment.pk))


class DispatchIn(Schema):
    unit: int
    hospital: int | None = None
    recommended_rank: int | None = Field(None, ge=1, le=10_000)
    eta_s: float | None = Field(None, ge=0, le=86_400)
    hospital_rank: int | None = Field(None, ge=1, le=10_000)
    override_reason: str = Field("", max_length=200)


@router.post(
    "/incidents/{incident_id}/dispatch", response={201: AssignmentOut, **errors(409)}, summary="Send a unit"
)
def dispatch(request: HttpRequest, incident_id: int, payload: DispatchIn) -> Status:
    incident = dispatcher_incident(request, incident_id)
    unit = get_object_or_404(Unit, pk=payload.unit)
    hospital = get_object_or_404(Hospital, pk=payload.hospital) if payload.hospital else None
    assignment = actions.dispatch_unit(
        incident,
        unit,
        actor=request.user,
        hospital=hospital,
        recommended_rank=payload.recommended_rank,
        eta_s=payload.eta_s,
        hospital_rank=payload.hospital_rank,
        override_reason=payload.override_reason,
    )
    return Status(201, fresh(assignment))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/assignments/{assignment_id}/cancel",
    response={200: AssignmentOut, **errors(409)},
    summary="Stand a unit down",
)
def cancel(request: HttpRequest, assignment_id: int, payload: ReasonIn) -> dict:
    assignment = live_assignment(request, assignment_id)
    actions.cancel_assignment(assignment, actor=request.user, reason=payload.reason)
    return fresh(assignment)


class ReassignIn(Schema):
    unit: int
    reason: str = Field(..., min_length=1, max_length=200)
    recommended_rank: int | None = Field(None, ge=1, le=10_000)
    eta_s: float | None = Field(None, ge=0, le=86_400)


@router.post(
    "/assignments/{assignment_id}/reassign",
    response={201: AssignmentOut, **errors(409)},
    summary="Send another unit instead",
)
def reassign(request: HttpRequest, assignment_id: int, payload: ReassignIn) -> Status:
    assignment = live_assignment(request, assignment_id)
    unit = get_object_or_404(Unit, pk=payload.unit)
    new = actions.reassign(
        assignment,
        unit,
        actor=request.user,
        reason=payload.reason,
        recommended_rank=payload.recommended_rank,
        eta_s=payload.eta_s,
    )
    return Status(201, fresh(new))


class AssignmentDestinationIn(Schema):
    hospital: int
    hospital_rank: int | None = Field(None, ge=1, le=10_000)


@router.post(
    "/assignments/{assignment_id}/destination",
    response={200: AssignmentOut, **errors(409)},
    summary="Choose the receiving hospital",
)
def destination(request: HttpRequest, assignment_id: int, payload: AssignmentDestinationIn) -> dict:
    assignment = live_assignment(request, assignment_id)
    hospital = get_object_or_404(Hospital, pk=payload.hospital)
    actions.set_destination(assignment, hospital, actor=request.user, hospital_rank=payload.hospital_rank)
    return fresh(assignment)


class UnitStatusIn(Schema):
    status: UnitStatus


class UnitStatusOut(Schema):
    id: int
    status: UnitStatus


@router.post(
    "/units/{unit_id}/status",
    response={200: UnitStatusOut, **errors(409)},
    summary="Change a unit's status (control room)",
)
def unit_status(request: HttpRequest, unit_id: int, payload: UnitStatusIn) -> dict:
    require_role(request, *DISPATCHERS)
    unit = get_object_or_404(Unit, pk=unit_id)
    set_unit_status(unit, payload.status, actor=request.user)
    return {"id": unit.pk, "status": unit.status}
