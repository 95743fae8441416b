"""Which ambulance, and which hospital: ranked by road travel time, with reasons.

Straight-line distance sends the wrong unit across a river or a strait (docs/targets.md), so units
are ranked by their road time to the scene, from one search of the resident router (decision
6, docs/decisions/). Every row says why it sits where it does, and when nothing fits the answer says
why in a `shortfall` (Resgrid's lesson: a dispatcher must see why no unit fits, not an empty
list). Hospitals are ranked by diversion, capability, resuscitation beds and road time from
the scene. Reasons carry Chinese and English side by side: the console shows the user's
language, quality review reads either.

How units are ranked, first rule first:

1. Units that can go: in service with a crew on shift (fleet.CrewShift; REQUIRE_CREW_ON_SHIFT).
   Then units with nobody on shift ("no crew on shift"), then units out of service with their
   reason and expected return. Only the first kind is ever `dispatchable`, and only while free
   (available or returning): a unit still at hospital or transporting is listed with its ETA
   counted from when it should be free (`free_in_s`), but is sent only once free. The list
   holds `limit` units that can go, then those that cannot but would rank among them.
2. Located before not located; reachable by road before not; able to do what the patient needs
   (`capability`) before not.
3. By ETA (road time plus the time until free), except that ETAs within NEAR_EQUAL_S (60 s) of
   the fastest unit still unranked count as equal. One minute is below what a road time from
   a two-minute-old fix can promise, and above what the dispatcher's choice can gain back.
   Among near-equal units the one ranked first is, in this order of importance:
   a. the one whose position is confirmed (reported within STALE_POSITION_SECONDS): a stale
      position is a guess, and Enter must not send a guess. A stale unit much faster than
      every confirmed one still leads, and its row says so and asks to confirm by radio
      (`confirm_by_radio`);
   b. the one free now, before one whose free time is an estimate (at hospital, transporting);
   c. for priority II to IV only, the one with the fewest capabilities beyond the need (BLS,
      then ALS, then the specialised negative-pressure and neonatal units; then the shorter
      list): a fall does not take the ALS unit a cardiac arrest may need next ("keeps ALS
      free"). Never for priority I, nor an incident not triaged yet: there the fastest capable
      unit leads.
   The winner is taken, and the rule applied again to the units left, so a unit is passed over
   only by one within a minute of it. Without a road network the units are ranked by straight
   line and none of this applies.
4. Coverage, for the first place only and for priority II to IV only (never priority I, nor an
   incident not triaged yet): among the units free now with a confirmed position whose ETA is
   within dispatch.coverage.policy.margin_for(priority) of the fastest (1 min for II, 3 for III
   and IV), the one whose departure leaves the least expected demand uncovered within the
   coverage target (dispatch/coverage/live.py) goes first, if that is less than what sending
   rule 3's first unit would leave; its row says which district it keeps covered ("keeps 北区
   covered"). A unit more than the margin faster is never passed over. The console's list and
   the ranking the dispatch action re-runs for the override's cost (Assignment.top_pick_eta_s)
   are the same function on the same state, so they agree. The covering units are the
   candidates free now (this query's moment), but their reach may lag their moves by up to
   dispatch.coverage.live.STALE_ROWS_S, and when it is not known yet (after a start, or a
   quiet spell while many units moved) this rule is left out for that call: the recommendation
   never waits for coverage searches (docs/decisions/0024).

A transporting unit is expected free after its remaining road time to its destination plus a
typical handover (HANDOVER_S), and its ETA to a new scene is counted from that hospital.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Value,
)
from django.utils import timezone

from dispatch.coverage import live as coverage
from dispatch.coverage import policy as coverage_policy
from dispatch.models import Assignment
from fleet.models import CrewShift, Unit, UnitStatus
from fleet.roads.readers import haversine_m
from fleet.roads.router import Router, get_router
from hospitals.models import BedAvailability, BedCategory, Capability, DiversionCategory, Hospital

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# A unit at hospital is expected free after a typical handover (15 min from arrival), and never
# sooner than a few minutes from now: the crew still has to clean and restock.
HANDOVER_S = 15 * 60
MIN_FREE_IN_S = 3 * 60
# A transporting unit whose road time to its destination is not known (no destination chosen, no
# position, no road network) is expected at hospital this long after it set off.
TRANSPORT_GUESS_S = 15 * 60
# ETAs within this of the fastest unit still unranked count as equal (module docstring, rule 3).
NEAR_EQUAL_S = 60.0
# A capable unit farther than this by road is "not within reach" (the shortfall says so).
REACH_S = 30 * 60
# A point this far from any road gets an ETA that leaves out the way to the road.
OFF_ROAD_M = 300.0
# A hospital with no free resuscitation bed ranks as if it were this much farther.
NO_RESUS_PENALTY_S = 10 * 60

CANDIDATE_STATUSES = [
    UnitStatus.AVAILABLE,
    UnitStatus.RETURNING,
    UnitStatus.RELOCATING,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
    UnitStatus.OUT_OF_SERVICE,
]
FREE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.RELOCATING)
# Where each unit stands in the ranking before its ETA is looked at (module docstring, rule 1).
CAN_GO, NO_CREW, OUT_OF_SERVICE = 0, 1, 2
# How much more than the least a kind of unit carries: BLS, then ALS, then the specialised ones.
KIND_TIER = {"bls": 0, "als": 1, "negative_pressure": 2, "neonatal": 2}
# What a less equipped unit sent instead keeps free, by the kind of the unit passed over.
KEPT_FREE_NAMES = {
    "als": ("高级生命支持", "ALS"),
    "bls": ("基础生命支持", "BLS"),
    "negative_pressure": ("负压", "negative-pressure units"),
    "neonatal": ("新生儿", "neonatal units"),
}

KIND_NAMES = {
    "als": ("监护型", "ALS"),
    "bls": ("普通型", "BLS"),
    "negative_pressure": ("负压", "negative pressure"),
    "neonatal": ("新生儿", "neonatal"),
}
UNIT_CAPABILITY_NAMES = {
    "als": ("高级生命支持", "ALS"),
    "bls": ("基础生命支持", "BLS"),
    "negative_pressure": ("负压舱", "negative-pressure cabin"),
    "neonatal": ("新生儿暖箱", "neonatal incubator"),
    "defib": ("除颤仪", "defibrillator"),
    "ventilator": ("呼吸机", "ventilator"),
    "bariatric": ("肥胖担架", "bariatric stretcher"),
}
# The tables below are keyed by value: a plain string (a request's, a hospital's list) finds the
# member's entry.
HOSPITAL_CAPABILITY_NAMES: dict[str, tuple[str, str]] = {
    Capability.CHEST_PAIN: ("胸痛中心", "chest pain centre"),
    Capability.STROKE: ("卒中中心", "stroke centre"),
    Capability.TRAUMA: ("创伤中心", "trauma centre"),
    Capability.MATERNAL: ("孕产妇救治中心", "maternal centre"),
    Capability.NEONATAL: ("新生儿救治中心", "neonatal centre"),
    Capability.PCI: ("导管室", "PCI cath lab"),
    Capability.CT: ("CT", "CT"),
    Capability.BURNS: ("烧伤科", "burns unit"),
    Capability.PAEDIATRIC: ("儿科", "paediatrics"),
}
DIVERSION_NAMES: dict[str, tuple[str, str]] = {
    DiversionCategory.ALL: ("全部病人", "all patients"),
    DiversionCategory.STROKE: ("卒中", "stroke"),
    DiversionCategory.CHEST_PAIN: ("胸痛", "chest pain"),
    DiversionCategory.TRAUMA: ("创伤", "trauma"),
    DiversionCategory.MATERNAL: ("孕产妇", "maternal"),
    DiversionCategory.NEONATAL: ("新生儿", "neonatal"),
    DiversionCategory.PAEDIATRIC: ("儿科", "paediatric"),
}
# The diversion that concerns a patient who needs this hospital capability (a cath lab patient is
# a chest pain patient; CT and burns have no diversion category of their own).
DIVERSION_FOR_CAPABILITY: dict[str, DiversionCategory] = {
    Capability.CHEST_PAIN: DiversionCategory.CHEST_PAIN,
    Capability.PCI: DiversionCategory.CHEST_PAIN,
    Capability.STROKE: DiversionCategory.STROKE,
    Capability.TRAUMA: DiversionCategory.TRAUMA,
    Capability.MATERNAL: DiversionCategory.MATERNAL,
    Capability.NEONATAL: DiversionCategory.NEONATAL,
    Capability.PAEDIATRIC: DiversionCategory.PAEDIATRIC,
}


@dataclass(frozen=True)
class Words:
    """A reason or a message in both languages."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def joined(parts: list[Words]) -> Words | None:
    """Several problems as one message, None when there are none."""
    if not parts:
        return None
    return Words("；".join(p.zh for p in parts), "; ".join(p.en for p in parts))


@dataclass(frozen=True)
class UnitOption:
    """One unit as the dispatcher sees it in the ranked list."""

    rank: int
    id: int
    call_sign: str
    kind: str
    status: str
    lon: float | None
    lat: float | None
    eta_s: float | None  # road time to the scene plus free_in_s; None when not known by road
    road_m: float | None
    straight_m: float | None
    position_age_s: float | None
    stale: bool
    free_in_s: float  # 0 when free now
    has_capability: bool
    reasons: list[Words]
    dispatchable: bool  # the dispatch action takes it now: can go (rule 1) and free
    confirm_by_radio: bool  # dispatchable, but its position is stale or unknown: ask first
    crew_on_shift: bool
    out_of_service_reason: str
    expected_back_at: datetime | None


@dataclass(frozen=True)
class UnitRecommendation:
    lon: float | None
    lat: float | None
    capability: str | None
    units: list[UnitOption]
    shortfall: Words | None  # None when the first unit fits
    by_road: bool  # False: no road answer (no network, no positions), ranked by straight line
    network_id: int | None = None
    scene_off_road_m: float | None = None


@dataclass(frozen=True)
class HospitalOption:
    """One destination as the dispatcher sees it in the ranked list."""

    rank: int
    id: int
    name: str
    short_name: str
    lon: float
    lat: float
    eta_s: float | None  # road time from the scene; None when not known by road
    road_m: float | None
    straight_m: float
    has_capability: bool
    diverting: bool  # diverting this patient (all patients, or the patient's category)
    diverting_categories: list[str]
    resus_beds: int | None  # None: not reported
    reasons: list[Words]


# --------------------------------------------------------------------------------------------
# words


def duration_words(seconds: float) -> tuple[str, str]:
    """('6分12秒', '6 min 12 s'); hours and minutes past the hour."""
    s = int(round(seconds))
    if s >= 3600:
        h, m = divmod(s // 60, 60)
        return f"{h}小时{m}分", f"{h} h {m} min"
    m, s = divmod(s, 60)
    if m == 0:
        return f"{s}秒", f"{s} s"
    return f"{m}分{s}秒", f"{m} min {s} s"


def distance_words(metres: float) -> tuple[str, str]:
    """('4.1 公里', '4.1 km'), or whole metres under a kilometre."""
    if metres < 1000:
        return f"{metres:.0f} 米", f"{metres:.0f} m"
    return f"{metres / 1000:.1f} 公里", f"{metres / 1000:.1f} km"


def eta_reason(eta_s: float, road_m: float) -> Words:
    (zh_t, en_t), (zh_d, en_d) = duration_words(eta_s), distance_words(road_m)
    return Words(f"车程 {zh_t}，道路 {zh_d}", f"ETA {en_t}, road {en_d}")


def straight_reason(metres: float) -> Words:
    zh, en = distance_words(metres)
    return Words(f"直线 {zh}", f"straight line {en}")


# --------------------------------------------------------------------------------------------
# units


class Coordinate(Func):
    """ST_X or ST_Y of a geography point, as a float."""

    output_field = FloatField()
    template = "%(function)s(%(expressions)s::geometry)"


class SecondsSince(Func):
    """Seconds from a timestamp column to `now`, as a float (None when the column is null)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM (%(expressions)s))::float8"
    arg_joiner = " - "

    def __init__(self, column: str, now: datetime) -> None:
        super().__init__(Value(now, output_field=DateTimeField()), F(column))


@dataclass
class _Candidate:
    """What ranking needs of one unit; reasons are written only for the rows shown.

    A database row of floats rather than a model: 500 units as models with GEOS points and
    parsed timestamps cost about 40 ms a request, these rows a few.
    """

    id: int
    call_sign: str
    kind: str
    status: str
    capabilities: list[str]
    has_capability: bool
    crew_on_shift: bool
    out_of_service_reason: str
    expected_back_at: datetime | None
    lon: float | None
    lat: float | None
    status_age_s: float
    position_age_s: float | None
    tier: int = CAN_GO  # CAN_GO, NO_CREW or OUT_OF_SERVICE (module docstring, rule 1)
    free_in_s: float = 0.0
    straight_m: float | None = None
    eta_s: float | None = None  # road time plus free_in_s; None when unreachable or unknown
    road_m: float | None = None
    off_road_m: float | None = None  # unit to the road it was snapped to
    # the live job's destination, for a unit transporting or at hospital
    hospital: str = ""
    hospital_lon: float | None = None
    hospital_lat: float | None = None
    to_hospital_s: float | None = None  # road time left to it, when transporting
    # why a near-equal unit was ranked before or after this one (rule 3)
    near_equal: list[Words] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return is_stale(self.position_age_s)

    @property
    def free_now(self) -> bool:
        return self.status in FREE_STATUSES

    @property
    def dispatchable(self) -> bool:
        return self.tier == CAN_GO and self.free_now

    @property
    def scene_origin(self) -> tuple[float | None, float | None]:
        """Where its road time to the scene starts: a transporting unit's destination, as it
        is free only after the handover there; its own position otherwise."""
        if self.status == UnitStatus.TRANSPORTING and self.hospital_lon is not None:
            return self.hospital_lon, self.hospital_lat
        return self.lon, self.lat


# _Candidate's fields, in order, as the query gives them
CANDIDATE_COLUMNS = [
    f.name for f in fields(_Candidate) if f.default is MISSING and f.default_factory is MISSING
]


def recommend_units(
    point: Point | None,
    capability: str | None,
    *,
    priority: int | None = None,
    now: datetime | None = None,
    limit: int = 10,
) -> UnitRecommendation:
    """Units that could take this job, ranked as the module docstring says."""
    now = now or timezone.now()
    capability = capability or None
    if point is None:
        shortfall = Words("事发地点未知，请先定位", "incident location unknown: locate it first")
        return UnitRecommendation(None, None, capability, [], shortfall, by_road=False)
    candidates = unit_candidates(capability, now)
    router = get_router()
    with_destinations(candidates)
    expect_free(candidates, router)
    scene_off_road_m = measure(candidates, point, router)
    by_road = scene_off_road_m is not None
    candidates.sort(key=functools.partial(unit_rank_key, by_road=by_road))
    if by_road:
        spare_capable = priority is not None and priority != 1
        candidates = settle_near_equal(candidates, spare_capable, limit)
        candidates = keep_covered(candidates, priority)
    problems = unit_problems(candidates, capability, router is not None, scene_off_road_m)
    shown = shown_units(candidates, limit, by_road)
    return UnitRecommendation(
        lon=point.x,
        lat=point.y,
        capability=capability,
        units=[unit_option(c, capability, rank, candidates, now) for rank, c in enumerate(shown, 1)],
        shortfall=joined(problems),
        by_road=by_road,
        network_id=router.network_id if router else None,
        scene_off_road_m=scene_off_road_m,
    )


def shown_units(ranked: list[_Candidate], limit: int, by_road: bool) -> list[_Candidate]:
    """The first `limit` units that can go, then those that cannot (no crew on shift, out of
    service) but would rank among them if they could, at most `limit` of them: the dispatcher
    sees why the nearest unit is not offered, and is not shown the whole idle fleet."""
    can_go = [c for c in ranked if c.tier == CAN_GO][:limit]
    blocked = [c for c in ranked if c.tier != CAN_GO]
    if len(can_go) == limit:
        bar = max(unit_rank_key(c, by_road=by_road)[1:] for c in can_go)
        blocked = [c for c in blocked if unit_rank_key(c, by_road=by_road)[1:] <= bar]
    return can_go + blocked[:limit]


def unit_candidates(capability: str | None, now: datetime) -> list[_Candidate]:
    """Units free now or soon, and those that cannot go (no crew, out of service), in one query."""
    has_capability = Q(capabilities__contains=[capability]) if capability else Value(True)
    rows = (
        Unit.objects.filter(status__in=CANDIDATE_STATUSES)
        .order_by()  # ranked below
        .annotate(
            has_capability=ExpressionWrapper(has_capability, output_field=BooleanField()),
            crew_on_shift=Exists(CrewShift.objects.current().filter(unit=OuterRef("pk"))),
            lon=Coordinate("position", function="ST_X"),
            lat=Coordinate("position", function="ST_Y"),
            status_age_s=SecondsSince("status_changed_at", now),
            position_age_s=SecondsSince("position_at", now),
        )
        .values_list(*CANDIDATE_COLUMNS)
    )
    candidates = [_Candidate(*row) for row in rows]
    require_crew = settings.REQUIRE_CREW_ON_SHIFT
    for c in candidates:
        if c.status == UnitStatus.OUT_OF_SERVICE:
            c.tier = OUT_OF_SERVICE
        elif require_crew and not c.crew_on_shift:
            c.tier = NO_CREW
        c.free_in_s = free_in_s(c.status, c.status_age_s)
    return candidates


def with_destinations(candidates: list[_Candidate]) -> None:
    """The live job's destination of each unit transporting or at hospital (one more query,
    only when there are such units)."""
    busy = {c.id: c for c in candidates if not c.free_now and c.status != UnitStatus.OUT_OF_SERVICE}
    if not busy:
        return
    rows = (
        Assignment.objects.live()
        .filter(unit_id__in=busy, hospital__isnull=False)
        .annotate(
            hospital_lon=Coordinate("hospital__location", function="ST_X"),
            hospital_lat=Coordinate("hospital__location", function="ST_Y"),
        )
        .values_list("unit_id", "hospital__short_name", "hospital__name", "hospital_lon", "hospital_lat")
    )
    for unit_id, short_name, name, lon, lat in rows:
        c = busy[unit_id]
        c.hospital, c.hospital_lon, c.hospital_lat = short_name or name, lon, lat


def expect_free(candidates: list[_Candidate], router: Router | None) -> None:
    """When each transporting unit should be free: its road time left to its destination (one
    search per destination) plus a typical handover."""
    transporting = [c for c in candidates if c.status == UnitStatus.TRANSPORTING]
    by_hospital: dict[tuple[float, float], list[_Candidate]] = {}
    for c in transporting:
        if c.hospital_lon is not None and c.hospital_lat is not None and c.lon is not None:
            by_hospital.setdefault((c.hospital_lon, c.hospital_lat), []).append(c)
    for (lon, lat), units in by_hospital.items():
        if router is None:
            break
        origins = [(float(c.lon or 0.0), float(c.lat or 0.0)) for c in units]
        times = router.travel_times_to(lon, lat, origins)
        for c, seconds in zip(units, times.seconds.tolist(), strict=True):
            c.to_hospital_s = seconds if math.isfinite(seconds) else None
    for c in transporting:
        c.free_in_s = transport_free_in_s(c.to_hospital_s, c.status_age_s)


def transport_free_in_s(to_hospital_s: float | None, status_age_s: float) -> float:
    """The road time left to the hospital (or, not known, what is left of a typical transport)
    plus a typical handover."""
    if to_hospital_s is None:
        to_hospital_s = max(TRANSPORT_GUESS_S - status_age_s, 0.0)
    return to_hospital_s + HANDOVER_S


def measure(candidates: list[_Candidate], point: Point, router: Router | None) -> float | None:
    """Fill in straight-line and road figures of the located candidates; return the scene's
    distance from the road (None when there was no road search)."""
    located = [c for c in candidates if c.lon is not None]
    if not located:
        return None
    lon = np.array([c.lon for c in located])
    lat = np.array([c.lat for c in located])
    straight = haversine_m(lon, lat, np.full(len(lon), point.x), np.full(len(lon), point.y))
    for c, metres in zip(located, straight.tolist(), strict=True):
        c.straight_m = metres
    if router is None:
        return None
    # one search from the scene over the reversed graph gives every unit's road time
    origins = router.snap_many(
        np.array([c.scene_origin[0] for c in located]), np.array([c.scene_origin[1] for c in located])
    )
    scene = router.snap_many(np.array([point.x]), np.array([point.y]))
    times = router.travel_times_between(origins, scene)
    rows = zip(
        located, times.seconds.tolist(), times.metres.tolist(), origins.distance_m.tolist(), strict=True
    )
    for c, seconds, metres, off_road in rows:
        c.off_road_m = off_road
        if math.isfinite(seconds):
            c.eta_s, c.road_m = seconds + c.free_in_s, metres
    return float(scene.distance_m[0])


def free_in_s(status: str, status_age_s: float) -> float:
    """Seconds until the unit can take a job: 0 when free, the rest of a typical handover when
    at hospital (never under MIN_FREE_IN_S: the crew still has to clear). A transporting unit's
    is set by expect_free."""
    if status != UnitStatus.AT_HOSPITAL:
        return 0.0
    return max(HANDOVER_S - status_age_s, MIN_FREE_IN_S)


def unit_rank_key(c: _Candidate, *, by_road: bool) -> tuple:
    """Can go, then no crew, then out of service; within each, located before unlocated. By
    road: reachable, then capable, then ETA (settle_near_equal reorders near-equal ones).
    Without a road answer: capable, then free now, then straight line."""
    if by_road:
        return (
            c.tier,
            c.straight_m is None,
            c.eta_s is None,
            not c.has_capability,
            c.eta_s or 0.0,
            c.call_sign,
        )
    return (
        c.tier,
        c.straight_m is None,
        not c.has_capability,
        c.free_in_s > 0,
        c.straight_m or 0.0,
        c.call_sign,
    )


def settle_near_equal(ranked: list[_Candidate], spare_capable: bool, limit: int) -> list[_Candidate]:
    """Rule 3 of the module docstring on units ranked by unit_rank_key: among those that can go,
    reach the scene and are alike in capability, near-equal ETAs yield to what is known, then to
    the least capable (`spare_capable`). Only the first `limit` places are settled; the rest
    stay by ETA."""
    settled: list[_Candidate] = []
    for (tier, _unlocated, unreachable, _incapable), group in itertools.groupby(
        ranked, key=lambda c: (c.tier, c.straight_m is None, c.eta_s is None, not c.has_capability)
    ):
        block = list(group)
        if tier == CAN_GO and not unreachable:
            block = pick_near_equal(block, spare_capable, max(limit - len(settled), 0))
        settled.extend(block)
    return settled


def preference(c: _Candidate, spare_capable: bool) -> tuple:
    """What decides between near-equal units, most important first (rule 3: a, b, c)."""
    spare = (KIND_TIER.get(c.kind, 1), len(c.capabilities)) if spare_capable else (0, 0)
    return (c.stale, not c.free_now, spare)


def pick_near_equal(block: list[_Candidate], spare_capable: bool, picks: int) -> list[_Candidate]:
    """`picks` units taken one by one: the preferred of those within NEAR_EQUAL_S of the fastest
    left. `block` is sorted by ETA."""
    left = list(block)
    chosen: list[_Candidate] = []
    while left and len(chosen) < picks:
        assert left[0].eta_s is not None
        until = left[0].eta_s + NEAR_EQUAL_S
        window = []
        for c in left:
            if c.eta_s is None or c.eta_s > until:
                break
            window.append(c)
        best = min(window, key=lambda c: (preference(c, spare_capable), c.eta_s, c.call_sign))
        explain_near_equal(best, window[: window.index(best)], spare_capable)
        left.remove(best)
        chosen.append(best)
    return chosen + left


def explain_near_equal(best: _Candidate, passed: list[_Candidate], spare_capable: bool) -> None:
    """Reasons on a unit taken before faster near-equal ones, and on each of those (the first
    unit that went before it is reason enough)."""
    mine = preference(best, spare_capable)
    for k, other in enumerate(passed):
        theirs = preference(other, spare_capable)
        criterion = next(i for i in range(len(mine)) if mine[i] != theirs[i])
        if k == 0:
            best.near_equal.append(preferred_words(criterion, other))
        if not other.near_equal:
            other.near_equal.append(passed_over_words(criterion, best))


def preferred_words(criterion: int, over: _Candidate) -> Words:
    """Why this unit ranks before `over`, whose ETA is near-equal and shorter."""
    if criterion == 0:
        return Words("车程相近，本车位置已确认", "similar ETA, position confirmed")
    if criterion == 1:
        return Words("车程相近，本车现在空闲", "similar ETA, free now")
    zh, en = KEPT_FREE_NAMES.get(over.kind, (over.kind, over.kind))
    return Words(f"车程相近，保留{zh}车辆", f"similar ETA: keeps {en} free")


def passed_over_words(criterion: int, by: _Candidate) -> Words:
    """Why this unit ranks after `by`, whose ETA is near-equal and longer."""
    what = [
        ("位置已确认的", "position confirmed"),
        ("现在空闲的", "free now"),
        ("配置较低的", "less equipped"),
    ][criterion]
    return Words(
        f"车程相近，先派{what[0]} {by.call_sign}", f"similar ETA: {by.call_sign}, {what[1]}, goes first"
    )


def keep_covered(ranked: list[_Candidate], priority: int | None) -> list[_Candidate]:
    """Rule 4 of the module docstring on the settled ranking: the near-equal unit whose departure
    leaves the least demand uncovered goes first, with its reason. Unchanged when the margin is
    0 (priority I, not triaged), when rule 3's first unit is not free now with a confirmed
    position, or when no other unit leaves less uncovered."""
    margin = coverage_policy.margin_for(priority) if priority is not None else 0.0
    if margin <= 0 or not ranked:
        return ranked
    first = ranked[0]

    def alike(c: _Candidate) -> bool:
        return c.tier == CAN_GO and c.eta_s is not None and c.has_capability == first.has_capability

    if not alike(first) or not first.dispatchable or first.stale:
        return ranked
    group = list(itertools.takewhile(alike, ranked))
    fastest = min(c.eta_s for c in group if c.eta_s is not None)
    near = [
        c
        for c in group
        if c.dispatchable and not c.stale and c.eta_s is not None and c.eta_s <= fastest + margin
    ]
    if len(near) < 2:
        return ranked
    snap = coverage.snapshot_at(covering(ranked), wait=False)
    if snap is None:  # not known yet: a background search is on it, the next call will have it
        return ranked
    loss = snap.uncovered_without([c.id for c in near])
    if first.id not in loss:
        return ranked
    near = [c for c in near if c.id in loss]
    best = min(near, key=lambda c: (loss[c.id], c.eta_s or 0.0, c.call_sign))
    if best is first or loss[best.id] >= loss[first.id] - coverage_policy.TIE_S:
        return ranked
    districts = snap.districts_losing(first.id)
    best.near_equal = [kept_covered_words(districts)]
    first.near_equal.append(left_uncovered_words(districts, best))
    return [best, *(c for c in ranked if c is not best)]


def covering(candidates: list[_Candidate]) -> list[tuple[int, float, float]]:
    """The units that cover the city now, as dispatch.coverage.live.covering_units counts them
    (free, located, a crew on shift unless not required), from the candidates' row: no second
    query, and the same moment as the ranking."""
    return sorted(
        (c.id, c.lon, c.lat) for c in candidates if c.dispatchable and c.lon is not None and c.lat is not None
    )


def kept_covered_words(districts: list[str]) -> Words:
    """Why a unit goes before a faster near-equal one: the district the other would leave."""
    if districts and districts[0]:
        return Words(f"车程相近，保持{districts[0]}覆盖", f"similar ETA: keeps {districts[0]} covered")
    return Words("车程相近，出车后覆盖缺口更小", "similar ETA: leaves less of the city uncovered")


def left_uncovered_words(districts: list[str], by: _Candidate) -> Words:
    """Why a faster unit goes after `by`: what its departure would leave uncovered."""
    if districts and districts[0]:
        d = districts[0]
        return Words(
            f"车程相近，派出将使{d}失去覆盖，先派 {by.call_sign}",
            f"similar ETA: sending it leaves {d} uncovered; {by.call_sign} goes first",
        )
    return Words(
        f"车程相近，先派 {by.call_sign} 以保持覆盖",
        f"similar ETA: {by.call_sign} goes first to keep coverage",
    )


def unit_option(
    c: _Candidate, capability: str | None, rank: int, ranked: list[_Candidate], now: datetime
) -> UnitOption:
    """The row for one unit, with its reasons."""
    dispatchable = c.dispatchable
    return UnitOption(
        rank=rank,
        id=c.id,
        call_sign=c.call_sign,
        kind=c.kind,
        status=c.status,
        lon=c.lon,
        lat=c.lat,
        eta_s=c.eta_s,
        road_m=c.road_m,
        straight_m=c.straight_m,
        position_age_s=c.position_age_s,
        stale=c.stale,
        free_in_s=c.free_in_s,
        has_capability=c.has_capability,
        reasons=unit_reasons(c, capability, ranked, now),
        dispatchable=dispatchable,
        confirm_by_radio=dispatchable and c.stale,
        crew_on_shift=c.crew_on_shift,
        out_of_service_reason=c.out_of_service_reason,
        expected_back_at=c.expected_back_at,
    )


def is_stale(age_s: float | None) -> bool:
    """Unit.is_position_stale's rule, on a row's position age."""
    return age_s is None or age_s > settings.STALE_POSITION_SECONDS


def unit_reasons(
    c: _Candidate, capability: str | None, ranked: list[_Candidate], now: datetime
) -> list[Words]:
    """Why the unit sits where it does, most important first."""
    reasons = []
    if c.tier == OUT_OF_SERVICE:
        reasons.append(out_of_service_reason(c, now))
    elif c.tier == NO_CREW:
        reasons.append(Words("无人当班，不能派车", "no crew on shift: cannot be sent"))
    if c.straight_m is None:
        reasons.append(Words("无位置，无法计算车程", "no position reported: no ETA"))
    elif c.eta_s is not None:
        assert c.road_m is not None, "measure() sets eta_s and road_m together"
        reasons.append(eta_reason(c.eta_s, c.road_m))
    elif c.off_road_m is not None:
        reasons.append(Words("经道路无法到达现场", "cannot reach the scene by road"))
    if c.straight_m is not None:
        reasons.append(straight_reason(c.straight_m))
    reasons.append(Words(*KIND_NAMES.get(c.kind, (c.kind, c.kind))))
    if capability and not c.has_capability:
        zh, en = UNIT_CAPABILITY_NAMES.get(capability, (capability, capability))
        reasons.append(Words(f"缺少所需能力：{zh}", f"lacks capability: {en}"))
    if c.status in (UnitStatus.AT_HOSPITAL, UnitStatus.TRANSPORTING):
        reasons.append(free_reason(c))
    elif c.status == UnitStatus.RETURNING:
        reasons.append(Words("返程中", "returning"))
    elif c.status == UnitStatus.RELOCATING:
        reasons.append(Words("调往待命点途中", "relocating"))
    if c.position_age_s is not None:
        reasons.append(position_reason(c.position_age_s))
    if c.tier == CAN_GO and c.stale and c.eta_s is not None:
        lead = stale_lead(c, ranked)
        if lead is not None:
            reasons.append(lead)
    reasons.extend(c.near_equal)
    if c.off_road_m is not None and c.off_road_m > OFF_ROAD_M:
        zh, en = distance_words(c.off_road_m)
        reasons.append(Words(f"离道路 {zh}，请核实位置", f"{en} off the road: check the position"))
    return reasons


def position_reason(age_s: float) -> Words:
    zh, en = duration_words(max(age_s, 0.0))
    if is_stale(age_s):
        return Words(f"位置过时 {zh}，请电台确认", f"stale position {en} old: confirm by radio")
    return Words(f"位置 {zh}前", f"position {en} old")


def stale_lead(c: _Candidate, ranked: list[_Candidate]) -> Words | None:
    """For a unit with a stale position ranked before one with a confirmed position (it is
    more than NEAR_EQUAL_S faster): by how much, so the dispatcher knows what confirming buys."""
    after = ranked[ranked.index(c) + 1 :]
    confirmed = next(
        (
            o
            for o in after
            if o.tier == CAN_GO
            and o.has_capability == c.has_capability
            and o.eta_s is not None
            and not o.stale
        ),
        None,
    )
    if confirmed is None or confirmed.eta_s is None or c.eta_s is None:
        return None
    zh, en = duration_words(max(confirmed.eta_s - c.eta_s, 0.0))
    return Words(
        f"比位置已确认的 {confirmed.call_sign} 快 {zh}，仍排在其前",
        f"{en} faster than {confirmed.call_sign}, whose position is confirmed: ranked before it",
    )


def free_reason(c: _Candidate) -> Words:
    """When a unit at hospital or transporting should be free, and where."""
    minutes = max(math.ceil(c.free_in_s / 60), 1)
    doing = ("在医院", "at hospital") if c.status == UnitStatus.AT_HOSPITAL else ("转运中", "transporting")
    where = (
        (f"在{c.hospital}交接完毕", f" after handover at {c.hospital}")
        if c.hospital
        else ("交接完毕", " after handover")
    )
    words = Words(
        f"{doing[0]}，约 {minutes} 分钟后{where[0]}空闲", f"{doing[1]}, free in about {minutes} min{where[1]}"
    )
    if c.status == UnitStatus.TRANSPORTING and c.to_hospital_s is None:
        return Words(f"{words.zh}（按典型转运时间估计）", f"{words.en} (a typical transport assumed)")
    return words


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def out_of_service_reason(c: _Candidate, now: datetime) -> Words:
    """Out of service, why, and when it should be back (the centre's local time)."""
    zh, en = "停用", "out of service"
    if c.out_of_service_reason:
        zh, en = f"停用：{c.out_of_service_reason}", f"out of service: {c.out_of_service_reason}"
    if c.expected_back_at is None:
        return Words(zh, en)
    back, today = timezone.localtime(c.expected_back_at), timezone.localtime(now)
    at = (f"{back:%H:%M}", f"{back:%H:%M}")
    if back.date() != today.date():
        at = (f"{back.month}月{back.day}日 {back:%H:%M}", f"{back.day} {MONTHS[back.month - 1]} {back:%H:%M}")
    if c.expected_back_at < now:
        late_zh, late_en = duration_words((now - c.expected_back_at).total_seconds())
        return Words(
            f"{zh}；预计 {at[0]} 恢复（已超时 {late_zh}）", f"{en}; expected back {at[1]} ({late_en} overdue)"
        )
    return Words(f"{zh}；预计 {at[0]} 恢复", f"{en}; expected back {at[1]}")


def unit_problems(
    candidates: list[_Candidate], capability: str | None, router_loaded: bool, scene_off_road_m: float | None
) -> list[Words]:
    """Why the first unit is not a good fit; empty when it is."""
    if not candidates:
        busy = Unit.objects.in_service().count()
        if busy:
            return [Words(f"全部 {busy} 辆在岗车辆都在任务中", f"all {busy} units in service are busy")]
        return [Words("没有在岗车辆", "no unit in service")]
    can_go = [c for c in candidates if c.tier == CAN_GO]
    if not can_go:
        return [nobody_can_go(candidates)]
    problems = []
    located = [c for c in can_go if c.straight_m is not None]
    if not located:
        problems.append(Words("没有车辆报告位置", "no unit has reported a position"))
    elif not router_loaded:
        problems.append(
            Words("未加载路网，按直线距离排序", "no road network loaded: ranked by straight line")
        )
    else:
        problems.extend(road_problems(located, capability, scene_off_road_m or 0.0))
    if candidates[0].lon is not None and candidates[0].stale:
        problems.append(
            Words("首选车辆位置过时，请电台确认", "the first unit's position is stale: confirm by radio")
        )
    if all(c.free_in_s > 0 for c in can_go):
        zh, en = duration_words(min(c.free_in_s for c in can_go))
        problems.append(
            Words(f"暂无空闲车辆，最早约 {zh} 后空闲", f"no unit free now; the first in about {en}")
        )
    return problems


def nobody_can_go(candidates: list[_Candidate]) -> Words:
    """No unit listed can be sent: how many lack a crew, how many are out of service."""
    no_crew = sum(c.tier == NO_CREW for c in candidates)
    out = sum(c.tier == OUT_OF_SERVICE for c in candidates)
    zh = [f"{n} 辆{what}" for n, what in ((no_crew, "无人当班"), (out, "停用")) if n]
    en = [f"{n} {what}" for n, what in ((no_crew, "with no crew on shift"), (out, "out of service")) if n]
    return Words(f"没有可派车辆：{'，'.join(zh)}", f"no unit can be sent: {', '.join(en)}")


def road_problems(located: list[_Candidate], capability: str | None, scene_off_road_m: float) -> list[Words]:
    problems = []
    if scene_off_road_m > OFF_ROAD_M:
        zh, en = distance_words(scene_off_road_m)
        problems.append(
            Words(f"事发地点离道路 {zh}，车程偏短", f"the scene is {en} from a road: ETAs are short")
        )
    reachable = [c for c in located if c.eta_s is not None]
    if not reachable:
        problems.append(Words("没有车辆能经道路到达", "no unit can reach the scene by road"))
    elif capability and not any(
        c.has_capability and c.eta_s is not None and c.eta_s <= REACH_S for c in reachable
    ):
        zh, en = UNIT_CAPABILITY_NAMES.get(capability, (capability, capability))
        minutes = REACH_S // 60
        problems.append(Words(f"{minutes} 分钟内没有{zh}车辆", f"no unit with {en} within {minutes} min"))
    return problems


# --------------------------------------------------------------------------------------------
# hospitals


def diversion_category_for(hospital_capability: str | None) -> str | None:
    """The diversion category that concerns a patient needing this capability (stroke: stroke)."""
    return DIVERSION_FOR_CAPABILITY.get(hospital_capability) if hospital_capability else None


class Located(TypedDict):
    """The coordinates hospital_destinations annotates on each hospital (WGS-84)."""

    lon: float
    lat: float


@dataclass
class _Destination:
    """What ranking needs of one hospital."""

    hospital: WithAnnotations[Hospital, Located]
    has_capability: bool
    diverting: bool
    resus_beds: int | None
    straight_m: float
    road: tuple[float, float] | None = None  # (seconds, metres) from the scene, inf unreachable

    @property
    def tier(self) -> tuple[bool, bool]:
        """Diverting ones last, and those lacking the capability after those with it."""
        return (self.diverting, not self.has_capability)

    @property
    def penalty_s(self) -> float:
        return NO_RESUS_PENALTY_S if self.resus_beds == 0 else 0.0

    def rank_key(self) -> tuple:
        if self.road is None:
            return (self.tier, self.penalty_s > 0, self.straight_m)
        return (self.tier, self.road[0] + self.penalty_s, self.straight_m)


def recommend_hospitals(
    point: Point,
    hospital_capability: str | None,
    *,
    diversion_category: str | None = None,
    limit: int = 5,
) -> list[HospitalOption]:
    """Destinations: open before diverting, capable before not, then by road time from the
    scene (a hospital without a free resuscitation bed counts as NO_RESUS_PENALTY_S farther)."""
    hospital_capability = hospital_capability or None
    category = diversion_category or diversion_category_for(hospital_capability)
    destinations = hospital_destinations(point, hospital_capability, category)
    router = get_router()
    if router is not None:
        destinations = with_road_times(router, point, destinations, limit)
    destinations.sort(key=_Destination.rank_key)
    return [
        hospital_option(d, hospital_capability, rank, router is not None)
        for rank, d in enumerate(destinations[:limit], 1)
    ]


def hospital_destinations(point: Point, capability: str | None, category: str | None) -> list[_Destination]:
    """Every hospital with what ranking needs, in two queries."""
    hospitals = list(
        Hospital.objects.defer("location").annotate(
            lon=Coordinate("location", function="ST_X"), lat=Coordinate("location", function="ST_Y")
        )
    )
    resus = dict(
        BedAvailability.objects.filter(category=BedCategory.RESUS).values_list("hospital_id", "available")
    )
    lon = np.array([h.lon for h in hospitals])
    lat = np.array([h.lat for h in hospitals])
    straight = haversine_m(lon, lat, np.full(len(lon), point.x), np.full(len(lon), point.y))
    return [
        _Destination(
            hospital=h,
            has_capability=capability is None or capability in h.capabilities,
            diverting=diverting_for(h, category),
            resus_beds=resus.get(h.pk),
            straight_m=metres,
        )
        for h, metres in zip(hospitals, straight.tolist(), strict=True)
    ]


def diverting_for(hospital: Hospital, category: str | None) -> bool:
    """Whether the hospital turns this patient away (diverting all, or the patient's category)."""
    if category:
        return hospital.is_diverting_for(category)
    return DiversionCategory.ALL in hospital.diverting


# Slack on the straight line for the lower bound: snapped positions are interpolated in a local
# projection, so allow a little before dividing by the top speed.
BOUND_SLACK_M = 50.0


def with_road_times(
    router: Router, point: Point, destinations: list[_Destination], limit: int
) -> list[_Destination]:
    """The destinations that can be among the best `limit`, with their road time from the scene.

    The router searches towards one point, so each hospital costs one search (until it offers
    a forward one-to-many search). Hospitals are taken best first by a lower bound (straight
    line between the snapped ends at the network's top speed), and searching stops when no
    hospital left can beat the `limit`-th found: the result is exact, and the far ones are never
    searched (Nanjing, 30 hospitals, top 5: about 10 searches of 1.4 ms).
    """
    if not destinations:
        return []
    hospitals = router.snap_many(
        np.array([d.hospital.lon for d in destinations]), np.array([d.hospital.lat for d in destinations])
    )
    scene = router.snap(point.x, point.y)
    n = len(destinations)
    apart = haversine_m(hospitals.lon, hospitals.lat, np.full(n, scene.lon), np.full(n, scene.lat))
    bounds = (np.maximum(apart - BOUND_SLACK_M, 0.0) / top_speed_mps(router)).tolist()
    order = sorted(range(n), key=lambda i: (destinations[i].tier, bounds[i] + destinations[i].penalty_s))
    found: list[_Destination] = []
    best: list[tuple] = []  # rank keys found so far, sorted
    for i in order:
        d = destinations[i]
        if len(best) >= limit and (d.tier, bounds[i] + d.penalty_s) >= best[limit - 1][:2]:
            break
        got = router.travel_times_to(d.hospital.lon, d.hospital.lat, [(point.x, point.y)])
        d.road = (float(got.seconds[0]), float(got.metres[0]))
        found.append(d)
        best = sorted([*best, d.rank_key()])
    return found


@functools.lru_cache(maxsize=1)
def top_speed_mps(router: Router) -> float:
    """The fastest any arc is driven, straight-line length over time, plus 5%: straight line
    divided by it never exceeds a road time. Arcs under 5 m are left out (their times round to
    zero in some data; BOUND_SLACK_M covers them)."""
    src, dst = router.arc_src, router.arc_dst
    length = haversine_m(router.lon[src], router.lat[src], router.lon[dst], router.lat[dst])
    ok = (length >= 5.0) & (router.arc_time > 0)
    if not ok.any():
        return math.inf
    return float(np.max(length[ok] / router.arc_time[ok])) * 1.05


def hospital_option(
    d: _Destination, capability: str | None, rank: int, router_loaded: bool
) -> HospitalOption:
    """The row for one hospital, with its reasons."""
    h = d.hospital
    road = d.road if d.road is not None and math.isfinite(d.road[0]) else None
    eta, road_m = road if road is not None else (None, None)
    return HospitalOption(
        rank=rank,
        id=h.pk,
        name=h.name,
        short_name=h.short_name,
        lon=h.lon,
        lat=h.lat,
        eta_s=eta,
        road_m=road_m,
        straight_m=d.straight_m,
        has_capability=d.has_capability,
        diverting=d.diverting,
        diverting_categories=list(h.diverting),
        resus_beds=d.resus_beds,
        reasons=hospital_reasons(d, capability, road, router_loaded),
    )


def hospital_reasons(
    d: _Destination, capability: str | None, road: tuple[float, float] | None, router_loaded: bool
) -> list[Words]:
    """Why the hospital sits where it does, most important first."""
    h = d.hospital
    reasons = []
    if h.diverting:
        zh = "、".join(DIVERSION_NAMES.get(c, (c, c))[0] for c in h.diverting)
        en = ", ".join(DIVERSION_NAMES.get(c, (c, c))[1] for c in h.diverting)
        why = (f"（{h.diversion_reason}）", f" ({h.diversion_reason})") if h.diversion_reason else ("", "")
        if d.diverting:
            reasons.append(Words(f"分流中：{zh}{why[0]}", f"diverting {en}{why[1]}"))
        else:
            reasons.append(Words(f"仅分流{zh}，可收本病人", f"diverting {en} only: takes this patient"))
    if capability:
        zh, en = HOSPITAL_CAPABILITY_NAMES.get(capability, (capability, capability))
        reasons.append(Words(f"有{zh}", f"has a {en}") if d.has_capability else Words(f"无{zh}", f"no {en}"))
    if road is not None:  # (seconds, metres)
        reasons.append(eta_reason(*road))
    elif router_loaded:
        reasons.append(Words("经道路无法到达", "cannot be reached by road"))
    else:
        zh, en = distance_words(d.straight_m)
        reasons.append(Words(f"直线 {zh}（未加载路网）", f"straight line {en} (no road network)"))
    reasons.append(beds_reason(d.resus_beds))
    return reasons


def beds_reason(beds: int | None) -> Words:
    if beds is None:
        return Words("抢救床位未上报", "resuscitation beds not reported")
    if beds == 0:
        minutes = NO_RESUS_PENALTY_S // 60
        return Words(
            f"抢救床位已满，排序时按远 {minutes} 分钟计",
            f"no resuscitation bed: ranked as {minutes} min farther",
        )
    return Words(f"抢救床位 {beds} 张", f"{beds} resuscitation beds")


def hospital_shortfall(options: list[HospitalOption], capability: str | None) -> Words | None:
    """Why the first hospital is not a good fit, None when it is."""
    if not options:
        return Words("没有医院资料", "no hospitals on file")
    first = options[0]
    problems = []
    if first.diverting:
        problems.append(Words("所列医院都在分流本类病人", "every hospital listed is diverting this patient"))
    if capability and not first.has_capability:
        zh, en = HOSPITAL_CAPABILITY_NAMES.get(capability, (capability, capability))
        problems.append(Words(f"没有可收治的{zh}", f"no open {en}"))
    if all(o.eta_s is None for o in options):
        problems.append(Words("无法计算到医院的车程", "no road time to any hospital"))
    return joined(problems)
