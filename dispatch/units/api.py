"""The unit board's API: every unit with its status and position, and a status set by the
control room."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema

from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, DISPATCHERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus

router = Router(tags=["units"])


class FleetUnitOut(Schema):
    id: int
    call_sign: str
    kind: str
    capabilities: list[str]
    status: str
    home_station: int | None
    lon: float | None
    lat: float | None
    position_at: datetime | None
    position_stale: bool
    speed_kmh: float | None
    heading: float | None


def unit_row(unit: Unit, now: datetime) -> dict:
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "capabilities": unit.capabilities,
        "status": unit.status,
        "home_station": unit.home_station_id,
        "lon": unit.position.x if unit.position else None,
        "lat": unit.position.y if unit.position else None,
        "position_at": unit.position_at,
        "position_stale": unit.is_position_stale(now),
        "speed_kmh": unit.speed_kmh,
        "heading": unit.heading,
    }


@router.get(
    "/units", response={200: list[FleetUnitOut], **errors(403)}, summary="Every unit with status and position"
)
def units(request: SignedInRequest) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    now = timezone.now()
    return [unit_row(u, now) for u in Unit.objects.all()]


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
