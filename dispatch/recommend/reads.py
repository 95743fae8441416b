"""Which ambulance, and which hospital: ranked by road travel time, with reasons.

Straight-line distance sends the wrong unit across a river or a strait (docs/targets.md), so units
are ranked by their road time to the scene, from one search of the resident router (decision
6, docs/decisions/). Every row says why it sits where it does, and when nothing fits the answer says
why in a `shortfall` (Resgrid's lesson: a dispatcher must see why no unit fits, not an empty
list). Hospitals are ranked by diversion, capability, resuscitation beds and road time from
the scene. Reasons carry Chinese and English side by side: the console shows the user's
language, quality review reads either.
"""

from __future__ import annotations

import functools
import math
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, FloatField, Func, Q, Value
from django.utils import timezone

from fleet.models import Unit, UnitStatus
from fleet.roads.readers import haversine_m
from fleet.roads.router import Router, get_router
from hospitals.models import BedAvailability, BedCategory, Capability, DiversionCategory, Hospital

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# A unit at hospital is expected free after a typical handover (15 min from arrival), and never
# sooner than a few minutes from now: the crew still has to clean and restock.
HANDOVER_S = 15 * 60
MIN_FREE_IN_S = 3 * 60
# A capable unit farther than this by road is "not within reach" (the shortfall says so).
REACH_S = 30 * 60
# A point this far from any road gets an ETA that leaves out the way to the road.
OFF_ROAD_M = 300.0
# A hospital with no free resuscitation bed ranks as if it were this much farther.
NO_RESUS_PENALTY_S = 10 * 60

CANDIDATE_STATUSES = [UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.AT_HOSPITAL]

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
    has_capability: bool
    lon: float | None
    lat: float | None
    status_age_s: float
    position_age_s: float | None
    free_in_s: float = 0.0
    straight_m: float | None = None
    eta_s: float | None = None  # road time plus free_in_s; None when unreachable or unknown
    road_m: float | None = None
    off_road_m: float | None = None  # unit to the road it was snapped to


# _Candidate's fields, in order, as the query gives them
CANDIDATE_COLUMNS = [f.name for f in fields(_Candidate) if f.default is MISSING]


def recommend_units(
    point: Point | None, capability: str | None, *, now: datetime | None = None, limit: int = 10
) -> UnitRecommendation:
    """Units that could take this job: reachable first, capable before not, then by ETA."""
    now = now or timezone.now()
    capability = capability or None
    if point is None:
        shortfall = Words("事发地点未知，请先定位", "incident location unknown: locate it first")
        return UnitRecommendation(None, None, capability, [], shortfall, by_road=False)
    candidates = unit_candidates(capability, now)
    router = get_router()
    scene_off_road_m = measure(candidates, point, router)
    by_road = scene_off_road_m is not None
    candidates.sort(key=functools.partial(unit_rank_key, by_road=by_road))
    problems = unit_problems(candidates, capability, router is not None, scene_off_road_m)
    return UnitRecommendation(
        lon=point.x,
        lat=point.y,
        capability=capability,
        units=[unit_option(c, capability, rank) for rank, c in enumerate(candidates[:limit], 1)],
        shortfall=joined(problems),
        by_road=by_road,
        network_id=router.network_id if router else None,
        scene_off_road_m=scene_off_road_m,
    )


def unit_candidates(capability: str | None, now: datetime) -> list[_Candidate]:
    """Units free now or soon, in one query."""
    has_capability = Q(capabilities__contains=[capability]) if capability else Value(True)
    rows = (
        Unit.objects.in_service()
        .filter(status__in=CANDIDATE_STATUSES)
        .order_by()  # ranked below
        .annotate(
            has_capability=ExpressionWrapper(has_capability, output_field=BooleanField()),
            lon=Coordinate("position", function="ST_X"),
            lat=Coordinate("position", function="ST_Y"),
            status_age_s=SecondsSince("status_changed_at", now),
            position_age_s=SecondsSince("position_at", now),
        )
        .values_list(*CANDIDATE_COLUMNS)
    )
    candidates = [_Candidate(*row) for row in rows]
    for c in candidates:
        c.free_in_s = free_in_s(c.status, c.status_age_s)
    return candidates


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
    origins = router.snap_many(lon, lat)
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
    at hospital (never under MIN_FREE_IN_S: the crew still has to clear)."""
    if status != UnitStatus.AT_HOSPITAL:
        return 0.0
    return max(HANDOVER_S - status_age_s, MIN_FREE_IN_S)


def unit_rank_key(c: _Candidate, *, by_road: bool) -> tuple:
    """Located before unlocated. By road: reachable, then capable, then ETA. Without a road
    answer: capable, then free now, then straight line."""
    if by_road:
        return (c.straight_m is None, c.eta_s is None, not c.has_capability, c.eta_s or 0.0, c.call_sign)
    return (c.straight_m is None, not c.has_capability, c.free_in_s > 0, c.straight_m or 0.0, c.call_sign)


def unit_option(c: _Candidate, capability: str | None, rank: int) -> UnitOption:
    """The row for one unit, with its reasons."""
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
        stale=is_stale(c.position_age_s),
        free_in_s=c.free_in_s,
        has_capability=c.has_capability,
        reasons=unit_reasons(c, capability),
    )


def is_stale(age_s: float | None) -> bool:
    """Unit.is_position_stale's rule, on a row's position age."""
    return age_s is None or age_s > settings.STALE_POSITION_SECONDS


def unit_reasons(c: _Candidate, capability: str | None) -> list[Words]:
    """Why the unit sits where it does, most important first."""
    reasons = []
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
    if c.free_in_s > 0:
        zh, en = duration_words(c.free_in_s)
        reasons.append(Words(f"在医院交接，约 {zh} 后空闲", f"at hospital, free in about {en}"))
    elif c.status == UnitStatus.RETURNING:
        reasons.append(Words("返程中", "returning"))
    if c.position_age_s is not None:
        reasons.append(position_reason(c.position_age_s))
    if c.off_road_m is not None and c.off_road_m > OFF_ROAD_M:
        zh, en = distance_words(c.off_road_m)
        reasons.append(Words(f"离道路 {zh}，请核实位置", f"{en} off the road: check the position"))
    return reasons


def position_reason(age_s: float) -> Words:
    zh, en = duration_words(max(age_s, 0.0))
    if is_stale(age_s):
        return Words(f"位置过时 {zh}", f"stale position {en}")
    return Words(f"位置 {zh}前", f"position {en} old")


def unit_problems(
    candidates: list[_Candidate], capability: str | None, router_loaded: bool, scene_off_road_m: float | None
) -> list[Words]:
    """Why the first unit is not a good fit; empty when it is."""
    if not candidates:
        busy = Unit.objects.in_service().count()
        if busy:
            return [Words(f"全部 {busy} 辆在岗车辆都在任务中", f"all {busy} units in service are busy")]
        return [Words("没有在岗车辆", "no unit in service")]
    problems = []
    located = [c for c in candidates if c.straight_m is not None]
    if not located:
        problems.append(Words("没有车辆报告位置", "no unit has reported a position"))
    elif not router_loaded:
        problems.append(
            Words("未加载路网，按直线距离排序", "no road network loaded: ranked by straight line")
        )
    else:
        problems.extend(road_problems(located, capability, scene_off_road_m or 0.0))
    if candidates[0].lon is not None and is_stale(candidates[0].position_age_s):
        problems.append(
            Words("首选车辆位置过时，请电台确认", "the first unit's position is stale: confirm by radio")
        )
    if all(c.free_in_s > 0 for c in candidates):
        zh, en = duration_words(min(c.free_in_s for c in candidates))
        problems.append(
            Words(f"暂无空闲车辆，最早约 {zh} 后空闲", f"no unit free now; the first in about {en}")
        )
    return problems


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
