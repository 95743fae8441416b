"""The station screen's API: its board (units and the jobs waiting to roll) and acknowledging a
job at the station. Station screens only; every other role is refused (403)."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.openapi import errors
from dispatch.core.permissions import require_station_screen, visible_station_assignments
from dispatch.core.signed_in import SignedInRequest
from dispatch.station.actions import acknowledge_at_station
from dispatch.station.reads import board, job_out, station_acknowledgements
from fleet.models import Station

router = Router(tags=["station"])


class StationScreenStation(Schema):
    id: int
    code: str
    name: str
    name_en: str


class StationScreenSite(Schema):
    name: str
    name_en: str


class StationScreenUnit(Schema):
    id: int
    call_sign: str
    kind: str
    status: str
    status_changed_at: datetime
    relocating_to: StationScreenSite | None = Field(
        description="where a move-up sent the unit to stand by (still free for a job); null otherwise"
    )


class StationScreenJob(Schema):
    assignment: int
    number: str
    priority: int | None
    chief_complaint: str
    address: str
    unit: str = Field(description="the unit's call sign")
    unit_status: str
    dispatched_at: datetime
    crew_acknowledged_at: datetime | None = Field(description="the crew acknowledged on its tablet")
    station_acknowledged_at: datetime | None = Field(description="someone acknowledged on a station screen")
    station_acknowledged_by: str | None


class StationScreenBoard(Schema):
    station: StationScreenStation
    units: list[StationScreenUnit]
    jobs: list[StationScreenJob] = Field(description="jobs whose unit has not left yet, oldest first")


@router.get(
    "/station/board",
    response={200: StationScreenBoard, **errors(403)},
    summary="A station screen's units and the jobs waiting to roll (station screens only)",
)
def station_board(request: SignedInRequest) -> dict[str, Any]:
    station = Station.objects.get(pk=require_station_screen(request))
    return board(request.user, station)


@router.post(
    "/station/assignments/{assignment_id}/acknowledge",
    response={200: StationScreenJob, **errors(403, 409)},
    summary="Acknowledge a job on the station screen (once: again answers the first)",
)
def acknowledge_station_job(request: SignedInRequest, assignment_id: int) -> dict[str, Any]:
    require_station_screen(request)
    assignment = (
        visible_station_assignments(request.user).select_related("incident", "unit").filter(pk=assignment_id)
    ).first()
    if assignment is None:
        raise ActionError(_("No such job for this station."), "not_found", 404)
    acknowledge_at_station(assignment, actor=request.user)
    assignment.refresh_from_db()
    return job_out(assignment, station_acknowledgements([assignment.pk]).get(assignment.pk))
