"""Recommendation: the units and the destination hospitals for an incident, or for a point the
console has pinned before the incident is saved, ranked by road time with reasons."""

from dataclasses import asdict
from datetime import datetime

from django.contrib.gis.geos import Point
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import Field

from dispatch.core.actions import ActionError, checked_point, reachable_scene
from dispatch.core.fields import Latitude, Longitude
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Incident
from dispatch.recommend.reads import (
    diversion_category_for,
    hospital_shortfall,
    recommend_hospitals,
    recommend_units,
)
from fleet.models import UnitCapability
from hospitals.models import Capability

router = Router(tags=["recommendation"])


class WordsOut(Schema):
    zh: str
    en: str


class RankedUnitOut(Schema):
    rank: int
    id: int
    call_sign: str
    kind: str
    status: str
    lon: float | None
    lat: float | None
    eta_s: float | None
    road_m: float | None
    straight_m: float | None
    position_age_s: float | None
    stale: bool
    free_in_s: float = Field(
        description="seconds until free: 0 free now; at hospital or transporting, the estimate"
    )
    has_capability: bool
    reasons: list[WordsOut]
    dispatchable: bool = Field(
        description="the dispatch action takes this unit now: in service, a crew on shift, free "
        "(available or returning). Units that cannot go at all (no crew on shift, out of service) "
        "are listed after every unit that can"
    )
    confirm_by_radio: bool = Field(
        description="dispatchable, but its position is stale or unknown (`stale`): ask the crew by "
        "radio where they are before sending it"
    )
    crew_on_shift: bool = Field(description="somebody is on shift on the unit")
    out_of_service_reason: str = Field(description="why it is out of service; empty otherwise")
    expected_back_at: datetime | None = Field(description="when an out-of-service unit should be back")


class RankedHospitalOut(Schema):
    rank: int
    id: int
    name: str
    short_name: str
    lon: float
    lat: float
    eta_s: float | None
    road_m: float | None
    straight_m: float
    has_capability: bool
    diverting: bool
    diverting_categories: list[str]
    resus_beds: int | None
    reasons: list[WordsOut]


class RecommendationOut(Schema):
    incident: int | None
    lon: float
    lat: float
    capability: str | None
    hospital_capability: str | None
    diversion_category: str | None
    by_road: bool
    network: int | None
    scene_off_road_m: float | None
    units: list[RankedUnitOut]
    shortfall: WordsOut | None
    hospitals: list[RankedHospitalOut]
    hospital_shortfall: WordsOut | None


class Needs(Schema):
    capability: str | None = Field(None, max_length=20, description="unit capability, e.g. als")
    hospital_capability: str | None = Field(None, max_length=20, description="e.g. stroke, chest_pain")
    limit: int = Field(
        10,
        ge=1,
        le=50,
        description="how many units that can go to list; those that cannot (no crew on shift, out of "
        "service) but would rank among them are listed after them, at most as many again",
    )
    priority: int | None = Field(
        None,
        ge=1,
        le=4,
        description="1 (I) to 4 (IV); from II down, of near-equal ETAs the least capable unit that "
        "meets the need is ranked first (an incident's own priority unless given)",
    )


class PointNeeds(Needs):
    lon: Longitude
    lat: Latitude


def checked_choice(value: str | None, choices: list[str], what: str) -> str | None:
    """A capability asked for in the query: None when absent, "" for none, or a 400 naming the
    choices."""
    if value and value not in choices:
        raise ActionError(f"Unknown {what} {value!r}: use one of {', '.join(choices)}.", "bad_capability")
    return value


def checked_needs(needs: Needs) -> tuple[str | None, str | None]:
    return (
        checked_choice(needs.capability, UnitCapability.values, "unit capability"),
        checked_choice(needs.hospital_capability, Capability.values, "hospital capability"),
    )


def hospital_recommendation(point: Point, hospital_capability: str) -> dict:
    """The ranked destinations for a point: the hospital half of RecommendationOut (the crew
    tablet asks for this half alone)."""
    hospitals = recommend_hospitals(point, hospital_capability)
    shortfall = hospital_shortfall(hospitals, hospital_capability or None)
    return {
        "hospital_capability": hospital_capability or None,
        "diversion_category": diversion_category_for(hospital_capability),
        "hospitals": [asdict(h) for h in hospitals],
        "hospital_shortfall": asdict(shortfall) if shortfall else None,
    }


def incident_hospital_capability(incident: Incident) -> str:
    """What triage said the receiving hospital must offer ("" for nothing in particular)."""
    return (incident.triage_answers or {}).get("hospital_capability") or ""


def recommendation(
    point: Point, capability: str, hospital_capability: str, limit: int, priority: int | None
) -> dict:
    """Both ranked lists for a point, as RecommendationOut."""
    units = recommend_units(point, capability, priority=priority, limit=limit)
    return {
        "incident": None,
        "lon": point.x,
        "lat": point.y,
        "capability": capability or None,
        "by_road": units.by_road,
        "network": units.network_id,
        "scene_off_road_m": units.scene_off_road_m,
        "units": [asdict(u) for u in units.units],
        "shortfall": asdict(units.shortfall) if units.shortfall else None,
        **hospital_recommendation(point, hospital_capability),
    }


@router.get(
    "/incidents/{incident_id}/recommendation",
    response={200: RecommendationOut, **errors(403, 409)},
    summary="Units and hospitals for an incident, ranked by road time, with reasons",
)
def for_incident(request: SignedInRequest, incident_id: int, needs: Query[Needs]) -> dict:
    """The incident's triaged needs unless the query overrides them (an empty value: none)."""
    require_role(request, *CONTROL_ROOM)
    capability, hospital_capability = checked_needs(needs)
    incident = get_object_or_404(Incident, pk=incident_id)
    if incident.location is None:
        raise ActionError("The incident has no location yet: locate it first.", "no_location", 409)
    if capability is None:
        capability = incident.capability_needed
    if hospital_capability is None:
        hospital_capability = incident_hospital_capability(incident)
    priority = needs.priority or incident.priority
    answer = recommendation(incident.location, capability, hospital_capability, needs.limit, priority)
    return {**answer, "incident": incident.pk}


@router.get(
    "/recommendation",
    response={200: RecommendationOut, **errors(403)},
    summary="Units and hospitals for a point (before the incident is saved), ranked by road time",
)
def for_point(request: SignedInRequest, needs: Query[PointNeeds]) -> dict:
    require_role(request, *CONTROL_ROOM)
    capability, hospital_capability = checked_needs(needs)
    point = reachable_scene(checked_point(needs.lon, needs.lat))
    return recommendation(point, capability or "", hospital_capability or "", needs.limit, needs.priority)
