"""The coverage layer of the control room's map: the demand cells no free unit reaches within the
target time, now (dispatch/coverage/live.py). Dispatchers and supervisors only."""

from typing import Any

from ninja import Router, Schema
from pydantic import Field

from dispatch.core.openapi import errors
from dispatch.core.permissions import DISPATCHERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.coverage import live

router = Router(tags=["coverage"])


class UncoveredCellOut(Schema):
    lon: float = Field(description="the cell's demand node")
    lat: float
    bounds: list[float] = Field(description="the cell as [west, south, east, north]")
    weight: float = Field(description="the cell's share of the expected calls")
    district: str


class DistrictCoverageOut(Schema):
    name: str
    uncovered_share: float = Field(description="share of the district's demand no free unit reaches in time")


class CoverageOut(Schema):
    by_road: bool = Field(description="false: no road network loaded, straight-line times")
    target_s: float = Field(description="a unit covers a cell it reaches within this")
    cell_m: float
    units: int = Field(description="covering units: free, located, with a crew on shift")
    cells: int = Field(description="demand cells in all")
    covered_share: float = Field(description="share of the demand some free unit reaches in time")
    expected_uncovered: float = Field(description="demand expected to find no covering unit free")
    incidents: int = Field(description="incidents of the recent history the demand is built from")
    districts: list[DistrictCoverageOut]
    uncovered: list[UncoveredCellOut]


def coverage_data(snap: live.Snapshot) -> dict[str, Any]:
    """The layer's payload: small (the uncovered cells only, coordinates to 5 decimals)."""
    d = snap.demand
    cells = [
        {
            "lon": round(float(d.lon[j]), 5),
            "lat": round(float(d.lat[j]), 5),
            "bounds": [round(float(v), 5) for v in d.bounds[j]],
            "weight": round(float(d.weight[j]), 6),
            "district": d.district[j],
        }
        for j in snap.uncovered.nonzero()[0].tolist()
    ]
    return {
        "by_road": snap.by_road,
        "target_s": snap.target_s,
        "cell_m": d.cell_m,
        "units": len(snap.unit_ids),
        "cells": len(d),
        "covered_share": round(1.0 - snap.uncovered_share, 6) if len(d) else 1.0,
        "expected_uncovered": round(snap.expected_uncovered, 6),
        "incidents": d.incidents,
        "districts": [{"name": n, "uncovered_share": round(s, 6)} for n, s in snap.districts.items()],
        "uncovered": cells,
    }


@router.get(
    "/coverage",
    response={200: CoverageOut, **errors(403)},
    summary="Coverage now: the demand cells no free unit reaches within the target time",
)
def coverage_now(request: SignedInRequest) -> dict[str, Any]:
    require_role(request, *DISPATCHERS)
    return coverage_data(live.snapshot())
