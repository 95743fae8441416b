"""The unit board's API: every unit with its status, position, crew and why it is out of service;
a status set by the control room; a unit taken out of service with a reason, and back."""

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db import models
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, DISPATCHERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.units.actions import return_to_service, set_unit_status, take_out_of_service
from fleet.models import CrewShift, Unit, UnitStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

router = Router(tags=["units"])


class Crewed(TypedDict):
    """What crewed() annotates on each unit."""

    crew_on_shift: bool


class FleetUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    capabilities: list[str]
    status: str
    status_changed_at: datetime = Field(
        description="when the unit went into its present status: the unit board's time in status"
    )
    home_station: int | None
    lon: float | None
    lat: float | None
    position_at: datetime | None
    position_stale: bool
    speed_kmh: float | None
    heading: float | None
    crew_on_shift: bool = Field(
        description="somebody is on shift on the unit (started on its tablet); without, it is not sent"
    )
    out_of_service_reason: str = Field(description="why the unit is out of service; empty otherwise")
    expected_back_at: datetime | None = Field(description="when it should be back in service, if known")


def crewed(units: models.QuerySet[Unit]) -> "models.QuerySet[WithAnnotations[Unit, Crewed]]":
    """The units with `crew_on_shift` annotated, in the same query."""
    return units.annotate(crew_on_shift=Exists(CrewShift.objects.current().filter(unit=OuterRef("pk"))))


def unit_row(unit: "WithAnnotations[Unit, Crewed]", now: datetime) -> dict:
    """One row of the board; the unit comes from crewed()."""
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "capabilities": unit.capabilities,
        "status": unit.status,
        "status_changed_at": unit.status_changed_at,
        "home_station": unit.home_station_id,
        "lon": unit.position.x if unit.position else None,
        "lat": unit.position.y if unit.position else None,
        "position_at": unit.position_at,
        "position_stale": unit.is_position_stale(now),
        "speed_kmh": unit.speed_kmh,
        "heading": unit.heading,
        "crew_on_shift": unit.crew_on_shift,
        "out_of_service_reason": unit.out_of_service_reason,
        "expected_back_at": unit.expected_back_at,
    }


@router.get(
    "/units", response={200: list[FleetUnitOut], **errors(403)}, summary="Every unit with status and position"
)
def units(request: SignedInRequest) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    now = timezone.now()
    return [unit_row(u, now) for u in crewed(Unit.objects.all())]


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
def unit_status(request: SignedInRequest, unit_id: int, payload: UnitStatusIn) -> dict:
    require_role(request, *DISPATCHERS)
    unit = get_object_or_404(Unit, pk=unit_id)
    set_unit_status(unit, payload.status, actor=request.user)
    return {"id": unit.pk, "status": unit.status}


class OutOfServiceIn(Schema):
    reason: str = Field(max_length=120, description="why, e.g. 车辆故障 vehicle fault (required)")
    expected_back_at: datetime | None = Field(
        None, description="when it should be back in service, later than now and within a year"
    )


@router.post(
    "/units/{unit_id}/out-of-service",
    response={200: FleetUnitOut, **errors(409)},
    summary="Take a free unit out of service, with the reason and the expected return (control room)",
)
def unit_out_of_service(request: SignedInRequest, unit_id: int, payload: OutOfServiceIn) -> dict:
    """The recommendation lists an out-of-service unit last with its reason and never offers it.
    409 for a unit on a job; a unit already out of service gets the new reason and time."""
    require_role(request, *DISPATCHERS)
    unit = get_object_or_404(Unit, pk=unit_id)
    take_out_of_service(unit, payload.reason, payload.expected_back_at, actor=request.user)
    return unit_row(get_object_or_404(crewed(Unit.objects.all()), pk=unit_id), timezone.now())


@router.post(
    "/units/{unit_id}/back-in-service",
    response={200: FleetUnitOut, **errors(409)},
    summary="Put an out-of-service unit back in service: available again (control room)",
)
def unit_back_in_service(request: SignedInRequest, unit_id: int) -> dict:
    """409 for a unit that is not out of service."""
    require_role(request, *DISPATCHERS)
    unit = get_object_or_404(Unit, pk=unit_id)
    return_to_service(unit, actor=request.user)
    return unit_row(get_object_or_404(crewed(Unit.objects.all()), pk=unit_id), timezone.now())
