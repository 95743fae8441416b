"""Move-up suggestions: the open ones (control room), accepted or dismissed by a dispatcher or a
supervisor; a relocating unit's crew reads its move and taps "arrived" (its own unit only)."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, CREW, MOVE_UP_DECIDERS, crew_unit_id, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.coverage import moveup
from dispatch.models import MoveUpState

router = Router(tags=["move-up"])


class MoveUpOut(Schema):
    id: int
    unit: int
    call_sign: str
    from_station: str = Field(description="the station nearest the unit when suggested")
    site_kind: str = Field(description="station or standby")
    site_id: int
    site_name: str
    site_name_en: str
    lon: float
    lat: float
    district: str = Field(description="the district whose coverage the move restores the most")
    uncovered_before: float = Field(description="expected uncovered demand now (share of all demand)")
    uncovered_after: float = Field(description="... once the unit is at the site")
    eta_s: float | None
    state: str = Field(description=", ".join(MoveUpState.values))
    proposed_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    ended_at: datetime | None
    end_reason: str


class RelocationOut(Schema):
    move_up: MoveUpOut | None = Field(description="my unit's move under way, null when none")


@router.get(
    "/move-ups",
    response={200: list[MoveUpOut], **errors(403)},
    summary="Open move-up suggestions, moves under way and units waiting where a move took them "
    "(state done, until the unit's status changes), newest first",
)
def list_move_ups(request: SignedInRequest) -> list[dict[str, Any]]:
    require_role(request, *CONTROL_ROOM)
    return [moveup.move_data(m) for m in moveup.open_move_ups()]


@router.post(
    "/move-ups/{move_up_id}/accept",
    response={200: MoveUpOut, **errors(403, 409)},
    summary="Accept a suggestion: the unit becomes relocating (409 when decided meanwhile)",
)
def accept(request: SignedInRequest, move_up_id: int) -> dict[str, Any]:
    require_role(request, *MOVE_UP_DECIDERS)
    return moveup.move_data(moveup.accept_move_up(moveup.get_move(move_up_id), actor=request.user))


@router.post(
    "/move-ups/{move_up_id}/dismiss",
    response={200: MoveUpOut, **errors(403, 409)},
    summary="Dismiss a suggestion (not suggested again for a while; 409 when decided meanwhile)",
)
def dismiss(request: SignedInRequest, move_up_id: int) -> dict[str, Any]:
    require_role(request, *MOVE_UP_DECIDERS)
    return moveup.move_data(moveup.dismiss_move_up(moveup.get_move(move_up_id), actor=request.user))


@router.get(
    "/crew/relocation",
    response={200: RelocationOut, **errors(403)},
    summary="My unit's move-up under way (where to relocate), null when none",
)
def relocation(request: SignedInRequest) -> dict[str, Any]:
    require_role(request, *CREW)
    unit_id = crew_unit_id(request.user)
    move = moveup.relocation_of(unit_id) if unit_id else None
    return {"move_up": moveup.move_data(move) if move else None}


@router.post(
    "/crew/relocation/arrived",
    response={200: MoveUpOut, **errors(403, 409)},
    summary="My unit reached its move-up site: available there (409 when not relocating)",
)
def arrived(request: SignedInRequest) -> dict[str, Any]:
    require_role(request, *CREW)
    unit_id = crew_unit_id(request.user)
    if unit_id is None:
        raise ActionError(_("You are not on shift on a unit."), "no_shift", 409)
    move = moveup.relocation_of(unit_id)
    if move is None:
        raise ActionError(_("This unit is not relocating."), "not_relocating", 409)
    return moveup.move_data(moveup.arrive(move, actor=request.user, how="crew"))
