"""Road ETAs of ambulances to a hospital, from their last reported positions.

The ER board and the pre-arrival notice show when the patient will arrive. Positions arrive
through the tracker endpoints into Unit.position; the road time comes from the resident router
(fleet.roads.router), one search from the hospital over the reversed graph for every ambulance
bound there, as dispatch.recommend.reads does for units to a scene.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from fleet.models import Unit
from fleet.roads.router import get_router
from hospitals.models import Hospital


@dataclass(frozen=True)
class Eta:
    """One ambulance's way to the hospital. `seconds` is None when it cannot be computed; then
    `reason` says why (no position, no road network, no road to the hospital)."""

    seconds: float | None
    metres: float | None
    computed_at: datetime
    position_at: datetime | None
    stale: bool
    reason: str = ""  # "", "no_position", "no_network", "no_road"

    @property
    def arrives_at(self) -> datetime | None:
        if self.seconds is None:
            return None
        return self.computed_at + timedelta(seconds=self.seconds)


def is_stale(position_at: datetime | None, now: datetime) -> bool:
    return position_at is None or (now - position_at).total_seconds() > settings.STALE_POSITION_SECONDS


def road_etas(hospital: Hospital, units: list[Unit], now: datetime | None = None) -> dict[int, Eta]:
    """Each unit's road ETA to the hospital, by unit id, from one router search."""
    now = now or timezone.now()
    etas = {u.pk: Eta(None, None, now, None, True, "no_position") for u in units if u.position is None}
    located = [(u, u.position) for u in units if u.position is not None]
    if not located:
        return etas
    router = get_router()
    if router is None:
        for u, _position in located:
            etas[u.pk] = Eta(None, None, now, u.position_at, is_stale(u.position_at, now), "no_network")
        return etas
    origins = [(position.x, position.y) for _unit, position in located]
    times = router.travel_times_to(hospital.location.x, hospital.location.y, origins)
    rows = zip(located, times.seconds.tolist(), times.metres.tolist(), strict=True)
    for (u, _position), seconds, metres in rows:
        stale = is_stale(u.position_at, now)
        if math.isfinite(seconds):
            etas[u.pk] = Eta(seconds, metres, now, u.position_at, stale)
        else:
            etas[u.pk] = Eta(None, None, now, u.position_at, stale, "no_road")
    return etas


def road_eta(hospital: Hospital, unit: Unit, now: datetime | None = None) -> Eta:
    return road_etas(hospital, [unit], now)[unit.pk]
