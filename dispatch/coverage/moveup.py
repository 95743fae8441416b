"""Move-up suggestions in the product: after each dispatch, each unit coming free and on a timer
(`manage.py run_move_ups`), whether relocating one idle unit to a station or a standby point with
room restores coverage (policy.best_move, the study's rule: one move at a time, at most one per
unit-hour). A suggestion is a MoveUp row; a dispatcher accepts or dismisses it; an accepted one
sets the unit RELOCATING (still free for a job, which cancels the move) until the crew taps
"arrived" or its position comes within ARRIVED_M of the site.

The live inputs (demand nodes, road ETAs from points to them, the coverage target) come from
dispatch.coverage.live through the three small functions below, so tests can give a
hand-checked network instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.coverage.policy import best_move, coverage_counts, covers, expected_uncovered
from dispatch.models import MoveUp, MoveUpState, User
from fleet.models import CrewShift, StandbyPoint, Station, Unit, UnitStatus
from fleet.roads.readers import haversine_m

# The study's settings (docs/coverage-study.md): the least gain worth a move (a share of the
# demand), the longest drive, one move per unit an hour.
MIN_GAIN = 0.0005
MAX_TRAVEL_S = 600.0
COOLDOWN = timedelta(hours=1)
# A suggestion dismissed is not made again for this long (the dispatcher had a reason).
DISMISSED_QUIET = timedelta(minutes=30)
# A relocating unit this close to its site has arrived (GPS), metres.
ARRIVED_M = 100.0
# Recomputed on these events, and at least this often.
TIMER = timedelta(seconds=60)
TRIGGER_KINDS = (
    EventKind.ASSIGNMENT_CREATED,
    EventKind.ASSIGNMENT_CANCELLED,
    EventKind.UNIT_STATUS,
    EventKind.UNIT_STATUS_CORRECTED,
    EventKind.SHIFT_STARTED,
    EventKind.SHIFT_ENDED,
    EventKind.MOVE_UP_ACCEPTED,
    EventKind.MOVE_UP_DISMISSED,
    EventKind.MOVE_UP_ARRIVED,
    EventKind.MOVE_UP_CANCELLED,
)


# --------------------------------------------------------------------------------------------
# the live inputs (dispatch.coverage.live)


@dataclass(frozen=True)
class Network:
    """Demand nodes (weights, district of each) and the ETA function from points to them."""

    weights: np.ndarray
    districts: list[str]
    target_s: float
    busy: float  # each unit busy with this probability (MEXCLP; the coverage layer's too)

    def etas_from(self, points: list[tuple[float, float]]) -> np.ndarray:
        from dispatch.coverage import live

        if not points:
            return np.zeros((0, len(self.weights)))
        return np.asarray(live.etas_from(points), np.float64)


def network() -> Network:
    from dispatch.coverage import live

    demand = live.demand()
    return Network(
        np.asarray(demand.weight, np.float64),
        list(demand.district),
        float(settings.COVERAGE_TARGET_S),
        float(settings.COVERAGE_BUSY_FRACTION),
    )


def travel_s(origins: list[tuple[float, float]], site: tuple[float, float]) -> np.ndarray:
    """Road time from each origin to the site (inf when unreachable); without a road network a
    straight line at the coverage layer's speed, as its ETAs are then."""
    from dispatch.coverage.live import STRAIGHT_LINE_MPS
    from fleet.roads.router import get_router

    if not origins:
        return np.empty(0)
    router = get_router()
    if router is None:
        o = np.asarray(origins, np.float64).reshape(-1, 2)
        metres = haversine_m(o[:, 0], o[:, 1], np.full(len(o), site[0]), np.full(len(o), site[1]))
        return np.asarray(metres / STRAIGHT_LINE_MPS, np.float64)
    return np.asarray(router.travel_times_to(site[0], site[1], origins).seconds, np.float64)


# --------------------------------------------------------------------------------------------
# the situation and the plan


@dataclass(frozen=True)
class Site:
    kind: str  # "station" or "standby"
    id: int
    name: str
    name_en: str
    district: str
    lon: float
    lat: float

    @property
    def point(self) -> tuple[float, float]:
        return (self.lon, self.lat)


def site_of(move: MoveUp) -> Site:
    place: Station | StandbyPoint = move.site
    kind = "station" if move.to_station_id else "standby"
    return Site(kind, place.pk, place.name, place.name_en, place.district, place.location.x, place.location.y)


def standby_taken() -> dict[int, int]:
    """Units at or heading to each standby point: accepted moves there, and moves done there
    whose unit has not changed status since it arrived."""
    taken: dict[int, int] = {}
    rows = MoveUp.objects.filter(to_standby__isnull=False).filter(
        Q(state=MoveUpState.ACCEPTED) | Q(state=MoveUpState.DONE, unit__status=UnitStatus.AVAILABLE)
    )
    latest: dict[int, MoveUp] = {}
    for move in rows.select_related("unit").order_by("proposed_at"):
        latest[move.unit_id] = move
    for move in latest.values():
        if move.state == MoveUpState.DONE and move.ended_at and move.unit.status_changed_at > move.ended_at:
            continue
        if move.to_standby_id is not None:
            taken[move.to_standby_id] = taken.get(move.to_standby_id, 0) + 1
    return taken


def candidate_sites() -> list[Site]:
    """Every station, and the active standby points with room for one more unit."""
    sites = [
        Site("station", s.pk, s.name, s.name_en, s.district, s.location.x, s.location.y)
        for s in Station.objects.order_by("code")
    ]
    taken = standby_taken()
    for p in StandbyPoint.objects.filter(active=True).order_by("code"):
        if taken.get(p.pk, 0) < p.capacity:
            sites.append(Site("standby", p.pk, p.name, p.name_en, p.district, p.location.x, p.location.y))
    return sites


def where_unit_covers(unit: Unit, heading: dict[int, Site]) -> tuple[float, float] | None:
    """Where a free unit counts for coverage: its site when relocating, its home station when
    returning, else where it is."""
    if unit.pk in heading:
        return heading[unit.pk].point
    if unit.status == UnitStatus.RETURNING and unit.home_station is not None:
        return (unit.home_station.location.x, unit.home_station.location.y)
    if unit.position is None:
        return None
    return (unit.position.x, unit.position.y)


def recently_moved(now: datetime) -> set[int]:
    """Units relocated within the hour (the per-unit-hour limit)."""
    moved = MoveUp.objects.filter(
        state__in=[MoveUpState.ACCEPTED, MoveUpState.DONE, MoveUpState.CANCELLED],
        decided_at__gte=now - COOLDOWN,
    )
    return set(moved.values_list("unit_id", flat=True))


def dismissed_pairs(now: datetime) -> set[tuple[int, str, int]]:
    """(unit, site kind, site id) dismissed lately: not suggested again for a while."""
    rows = MoveUp.objects.filter(state=MoveUpState.DISMISSED, decided_at__gte=now - DISMISSED_QUIET)
    return {
        (m.unit_id, "station" if m.to_station_id else "standby", m.to_station_id or m.to_standby_id or 0)
        for m in rows
    }


@dataclass(frozen=True)
class Plan:
    unit: Unit
    site: Site
    uncovered_before: float
    uncovered_after: float
    district: str
    eta_s: float


def plan(now: datetime | None = None, net: Network | None = None) -> Plan | None:
    """The one move worth making now, or None (coverage complete, nobody movable, no gain)."""
    now = now or timezone.now()
    from dispatch.coverage import live

    units = live.covering_units()  # free, located, crewed as the recommendation requires
    sites = candidate_sites()
    if not units or not sites:
        return None
    heading = {
        m.unit_id: site_of(m) for m in MoveUp.objects.under_way().select_related("to_station", "to_standby")
    }
    placed = [(u, p) for u in units if (p := where_unit_covers(u, heading)) is not None]
    if not placed:
        return None
    net = net or network()
    crewed = set(CrewShift.objects.current().values_list("unit_id", flat=True))
    cooling = recently_moved(now)
    quiet = dismissed_pairs(now)
    free = [u for u, _p in placed]
    cover = covers(net.etas_from([p for _u, p in placed]), net.target_s)
    movable = np.array(
        [u.status == UnitStatus.AVAILABLE and u.pk in crewed and u.pk not in cooling for u in free], bool
    )
    if not movable.any():
        return None
    site_cover = covers(net.etas_from([s.point for s in sites]), net.target_s)
    travel = np.full((len(free), len(sites)), np.inf)
    origins = np.flatnonzero(movable).tolist()
    for j, site in enumerate(sites):
        times = travel_s([placed[i][1] for i in origins], site.point)
        for i, t in zip(origins, times, strict=True):
            if (free[i].pk, site.kind, site.id) not in quiet:
                travel[i, j] = t
    busy = net.busy
    move = best_move(cover, movable, site_cover, travel, net.weights, busy, MAX_TRAVEL_S, MIN_GAIN)
    if move is None:
        return None
    counts = coverage_counts(cover)
    before = expected_uncovered(counts, net.weights, busy)
    after_counts = counts - cover[move.unit] + site_cover[move.point]
    district = restored_district(counts, after_counts, net, busy)
    return Plan(free[move.unit], sites[move.point], before, before - move.gain, district, move.travel_s)


def restored_district(before: np.ndarray, after: np.ndarray, net: Network, busy: float) -> str:
    """The district whose expected uncovered demand falls the most with the move."""
    w = net.weights
    fall = w * np.power(busy, before) - w * np.power(busy, after)
    by_district: dict[str, float] = {}
    for name, f in zip(net.districts, fall.tolist(), strict=True):
        by_district[name] = by_district.get(name, 0.0) + f
    if not by_district:
        return ""
    return max(by_district.items(), key=lambda item: item[1])[0]


# --------------------------------------------------------------------------------------------
# the named actions


def move_data(move: MoveUp) -> dict[str, Any]:
    """A suggestion as the console and the events show it."""
    site = site_of(move)
    return {
        "id": move.pk,
        "unit": move.unit_id,
        "call_sign": move.unit.call_sign,
        "from_station": move.from_station.name if move.from_station else "",
        "site_kind": site.kind,
        "site_id": site.id,
        "site_name": site.name,
        "site_name_en": site.name_en,
        "lon": site.lon,
        "lat": site.lat,
        "district": move.district,
        "uncovered_before": round(move.uncovered_before, 6),
        "uncovered_after": round(move.uncovered_after, 6),
        "eta_s": round(move.eta_s, 1) if math.isfinite(move.eta_s) else None,
        "state": move.state,
        "proposed_at": move.proposed_at.isoformat(),
        "decided_at": move.decided_at.isoformat() if move.decided_at else None,
        "decided_by": move.decided_by.get_full_name() or move.decided_by.username
        if move.decided_by
        else None,
        "ended_at": move.ended_at.isoformat() if move.ended_at else None,
        "end_reason": move.end_reason,
    }


def nearest_station(unit: Unit) -> Station | None:
    if unit.position is None:
        return unit.home_station
    from django.contrib.gis.db.models.functions import GeometryDistance

    return Station.objects.order_by(GeometryDistance("location", unit.position)).first()


@transaction.atomic
def propose(p: Plan) -> MoveUp:
    """Write a suggestion (the control room hears it; the crew not until it is accepted)."""
    move = MoveUp.objects.create(
        unit=p.unit,
        from_station=nearest_station(p.unit),
        from_position=p.unit.position,
        to_station_id=p.site.id if p.site.kind == "station" else None,
        to_standby_id=p.site.id if p.site.kind == "standby" else None,
        uncovered_before=p.uncovered_before,
        uncovered_after=p.uncovered_after,
        district=p.district[:60],
        eta_s=p.eta_s,
    )
    record_event(EventKind.MOVE_UP_PROPOSED, data=move_data(move))
    return move


@transaction.atomic
def supersede(move: MoveUp, reason: str) -> bool:
    """A proposed suggestion the situation has overtaken; False when it was decided meanwhile."""
    now = timezone.now()
    won = MoveUp.objects.filter(pk=move.pk, state=MoveUpState.PROPOSED).update(
        state=MoveUpState.SUPERSEDED, ended_at=now, end_reason=reason[:120]
    )
    if won:
        move.state, move.ended_at, move.end_reason = MoveUpState.SUPERSEDED, now, reason[:120]
        record_event(EventKind.MOVE_UP_SUPERSEDED, data=move_data(move))
    return bool(won)


def get_move(move_id: int) -> MoveUp:
    move = (
        MoveUp.objects.select_related("unit", "to_station", "to_standby", "from_station")
        .filter(pk=move_id)
        .first()
    )
    if move is None:
        raise ActionError(_("Move-up %(id)s not found.") % {"id": move_id}, "not_found", 404)
    return move


def refuse_unless_proposed(move: MoveUp) -> None:
    raise ActionError(
        _("This move-up is no longer open (%(state)s).") % {"state": MoveUpState(move.state).label},
        "not_open",
        409,
    )


@transaction.atomic
def accept_move_up(move: MoveUp, *, actor: User) -> MoveUp:
    """Accept a suggestion: the unit becomes RELOCATING (claimed from available: a unit sent
    meanwhile is not moved). Two dispatchers at once: one wins, the other gets a 409."""
    now = timezone.now()
    won = MoveUp.objects.filter(pk=move.pk, state=MoveUpState.PROPOSED).update(
        state=MoveUpState.ACCEPTED, decided_at=now, decided_by=actor
    )
    if not won:
        move.refresh_from_db(fields=["state"])
        refuse_unless_proposed(move)
    unit = move.unit
    claimed = Unit.objects.filter(pk=unit.pk, status=UnitStatus.AVAILABLE).update(
        status=UnitStatus.RELOCATING, status_changed_at=now
    )
    if not claimed:
        transaction.set_rollback(True)
        raise ActionError(
            _("%(unit)s is no longer available; the move-up lapses.") % {"unit": unit.call_sign},
            "conflict",
            409,
        )
    unit.status, unit.status_changed_at = UnitStatus.RELOCATING, now
    move.state, move.decided_at, move.decided_by = MoveUpState.ACCEPTED, now, actor
    record_event(
        EventKind.MOVE_UP_ACCEPTED,
        actor=actor,
        unit=unit,
        data={**move_data(move), "from": UnitStatus.AVAILABLE, "to": UnitStatus.RELOCATING},
    )
    return move


@transaction.atomic
def dismiss_move_up(move: MoveUp, *, actor: User) -> MoveUp:
    now = timezone.now()
    won = MoveUp.objects.filter(pk=move.pk, state=MoveUpState.PROPOSED).update(
        state=MoveUpState.DISMISSED, decided_at=now, decided_by=actor, ended_at=now
    )
    if not won:
        move.refresh_from_db(fields=["state"])
        refuse_unless_proposed(move)
    move.state, move.decided_at, move.decided_by, move.ended_at = MoveUpState.DISMISSED, now, actor, now
    record_event(EventKind.MOVE_UP_DISMISSED, actor=actor, data=move_data(move))
    return move


@transaction.atomic
def arrive(move: MoveUp, *, actor: User | None, how: str) -> MoveUp:
    """The unit reached its site (`how`: "crew" tapped, "gps" came within ARRIVED_M): it is
    available again, there."""
    now = timezone.now()
    won = MoveUp.objects.filter(pk=move.pk, state=MoveUpState.ACCEPTED).update(
        state=MoveUpState.DONE, ended_at=now, end_reason=how
    )
    if not won:
        raise ActionError(_("This unit is not relocating."), "not_relocating", 409)
    unit = move.unit
    claimed = Unit.objects.filter(pk=unit.pk, status=UnitStatus.RELOCATING).update(
        status=UnitStatus.AVAILABLE, status_changed_at=now
    )
    if not claimed:
        transaction.set_rollback(True)
        raise ActionError(_("This unit is not relocating."), "not_relocating", 409)
    unit.status, unit.status_changed_at = UnitStatus.AVAILABLE, now
    move.state, move.ended_at, move.end_reason = MoveUpState.DONE, now, how
    record_event(
        EventKind.MOVE_UP_ARRIVED,
        actor=actor,
        unit=unit,
        data={**move_data(move), "from": UnitStatus.RELOCATING, "to": UnitStatus.AVAILABLE, "how": how},
    )
    return move


@transaction.atomic
def cancel_move(move: MoveUp, reason: str) -> bool:
    """An accepted move whose unit is no longer relocating (sent to a job, taken out of service)."""
    now = timezone.now()
    won = MoveUp.objects.filter(pk=move.pk, state=MoveUpState.ACCEPTED).update(
        state=MoveUpState.CANCELLED, ended_at=now, end_reason=reason[:120]
    )
    if won:
        move.state, move.ended_at, move.end_reason = MoveUpState.CANCELLED, now, reason[:120]
        record_event(EventKind.MOVE_UP_CANCELLED, unit=move.unit, data=move_data(move))
    return bool(won)


# --------------------------------------------------------------------------------------------
# reads


def open_move_ups() -> list[MoveUp]:
    """Proposed, under way, and the units still waiting where a move took them (done, the
    unit's status unchanged since it arrived: arrive() sets both clocks to the same moment),
    newest first: the console's panel and its unit board's "at 东待命点" note, after a reload too."""
    rows = MoveUp.objects.filter(
        Q(state__in=[MoveUpState.PROPOSED, MoveUpState.ACCEPTED])
        | Q(
            state=MoveUpState.DONE,
            unit__status=UnitStatus.AVAILABLE,
            unit__status_changed_at__lte=F("ended_at"),
        )
    )
    return list(rows.select_related("unit", "to_station", "to_standby", "from_station", "decided_by"))


def relocation_of(unit_id: int) -> MoveUp | None:
    """The accepted move of a unit still relocating (the crew's tablet)."""
    return (
        MoveUp.objects.under_way()
        .filter(unit_id=unit_id, unit__status=UnitStatus.RELOCATING)
        .select_related("unit", "to_station", "to_standby", "from_station", "decided_by")
        .first()
    )


# --------------------------------------------------------------------------------------------
# one pass of the loop


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))[0])


def reconcile() -> dict[str, int]:
    """Accepted moves: cancelled when the unit is no longer relocating, done when its position
    is within ARRIVED_M of the site."""
    counts = {"cancelled": 0, "arrived": 0}
    for move in MoveUp.objects.under_way().select_related("unit", "to_station", "to_standby"):
        unit = move.unit
        if unit.status != UnitStatus.RELOCATING:
            counts["cancelled"] += cancel_move(move, str(UnitStatus(unit.status).label))
            continue
        fresh = unit.position_at is not None and unit.position_at >= (move.decided_at or move.proposed_at)
        if not fresh or unit.position is None:
            continue
        if distance_m((unit.position.x, unit.position.y), site_of(move).point) <= ARRIVED_M:
            try:
                arrive(move, actor=None, how="gps")
                counts["arrived"] += 1
            except ActionError:
                pass
    return counts


def same_suggestion(move: MoveUp, p: Plan) -> bool:
    kind = "station" if move.to_station_id else "standby"
    return move.unit_id == p.unit.pk and (kind, move.to_station_id or move.to_standby_id) == (
        p.site.kind,
        p.site.id,
    )


def refresh(now: datetime | None = None, net: Network | None = None) -> dict[str, int]:
    """Reconcile the moves under way, then make, keep or supersede the one open suggestion."""
    counts = {**reconcile(), "proposed": 0, "superseded": 0}
    current = MoveUp.objects.proposed().select_related("unit", "to_station", "to_standby").first()
    if MoveUp.objects.under_way().exists():
        # One move at a time: nothing new while a unit is on its way.
        if current is not None:
            counts["superseded"] += supersede(current, "another move under way")
        return counts
    best = plan(now, net)
    if current is not None and best is not None and same_suggestion(current, best):
        return counts
    if current is not None:
        counts["superseded"] += supersede(current, "situation changed" if best else "coverage restored")
    if best is not None:
        try:
            propose(best)
            counts["proposed"] += 1
        except IntegrityError:  # another node proposed at the same moment: one open at a time
            pass
    return counts
