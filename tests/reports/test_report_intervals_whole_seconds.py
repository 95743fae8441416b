"""The incidents' intervals in whole seconds rounded up (docs/decisions/0021-whole-second-rollups.md):
the summary's interval rows, the response by priority, the trends by day and by hour, the
distribution, the districts, the hospitals' handovers and the dispatchers' processing, each
recomputed here by hand from the incidents' own clocks (to the microsecond) and equal to what the
rollups, the raw path and the page's API give: percentiles the exact ones rounded up to the
whole second, "within Y s" and the means exact. The history holds intervals of exactly N.000 s,
N.0004 s and N.001 s at the targets' edges, and unmeasurable incidents (a clock missing, clocks
out of order, a handover never completed)."""

import importlib
import math
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from dispatch.models import Assignment, Incident
from dispatch.registry.actions import save_district
from dispatch.reports import (
    BY_KEY,
    INTERVALS,
    ReportFilter,
    areas,
    distribution,
    handovers,
    people,
    response_by_priority,
    rollups,
    summary,
    targets,
    trend,
)
from dispatch.reports.intervals import CHAIN, Interval
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady
from tests.support.rollup_history import double_every_stored_count, square

DAY = timedelta(days=1)
US = timedelta(microseconds=1)
MONTH = ReportFilter(MARCH, MARCH + 31 * DAY)
# Inside the district and outside it (no border: the border rule has tests of its own).
INSIDE, OUTSIDE = Point(119.55, 24.85, srid=4326), Point(119.90, 24.95, srid=4326)
# The response target is 900 s, processing 60 s, the first handover target 900 s: each edge case
# sits on one of them, as seconds over the target.
EDGES = [0.0, 0.0004, 0.001, 0.9996, 1.0, 1.0004]


def jobs_on(received: datetime, n: int, world) -> Job:
    edge = EDGES[(n // 2) % len(EDGES)]
    # Response = 5 + processing + 60 + travel: 900 s + the edge when n % 5 == 0; the edge is the
    # processing's over 60 s for odd n, the travel's for even n.
    offsets = steady(
        answer=5.0,
        processing=60.0 + (edge if n % 2 else 0.0),
        turnout=60.0,
        travel=775.0 + (0.0 if n % 2 else edge) + (n % 5) * 37.123,
        handover=900.0 + EDGES[(n // 3) % len(EDGES)] + (n % 3) * 900.0,
    )
    if n % 9 == 4:
        offsets["on_scene_at"] = None  # missing while later clocks are set: response unmeasured
    if n % 11 == 6:
        offsets["on_scene_at"] = offsets["en_route_at"] - 3.5  # out of order: impossible
    if n % 7 == 5:
        offsets["handover_at"] = None  # never recorded though the unit cleared: unmeasured
    return Job(
        received,
        offsets,
        priority=1 + n % 3,
        unit=[world.als1, world.als2, world.bls1][n % 3],
        hospital=[world.city, world.county][n % 2],
        point=INSIDE if n % 4 else OUTSIDE,
    )


@pytest.fixture
def made(world) -> list[Incident]:
    save_district("A1", name="西城区", name_en="West", polygon=square(119.50, 24.80, 119.60, 24.90))
    incidents = []
    for n in range(30):
        received = MARCH + timedelta(days=2 + n % 3, hours=(n * 5) % 24, minutes=n, seconds=0.123 * n)
        incidents.append(make(world, jobs_on(received, n, world), actor=world.alice if n % 2 else world.bob))
    Incident.objects.filter(pk=incidents[10].pk).update(location=None)
    # Today's, never rolled up: a range reaching today counts them from the rows.
    for n in range(30, 36):
        received = timezone.now() - timedelta(minutes=50 + n)
        incidents.append(make(world, jobs_on(received, n, world), actor=world.bob))
    rollups.build_range(MARCH.date(), (MARCH + 30 * DAY).date())
    return [Incident.objects.get(pk=i.pk) for i in incidents]


# --------------------------------------------------------------------------- by hand


def exact_us(start: datetime | None, end: datetime | None) -> int | None:
    """The interval in microseconds; None when a clock is missing, out of order or over a day."""
    if start is None or end is None or end < start or end - start > DAY:
        return None
    return (end - start) // US


def ms_up(us: int) -> int:
    return -(-us // 1000)


def s_up(us: int) -> int:
    return -(-us // 1_000_000)


def nearest_rank(values: list, p: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)), 1) - 1]


def unmeasurable(incident: Incident, interval: Interval) -> bool:
    """As migrations 0008 and 0020 mark it: impossible clocks, its start or end missing while a
    later clock is set, or (handover) a handover never completed."""
    start, end = getattr(incident, interval.start), getattr(incident, interval.end)
    if start is not None and end is not None:
        return exact_us(start, end) is None
    for clock in (interval.start, interval.end):
        if clock in CHAIN and getattr(incident, clock) is None:
            later = [*CHAIN[CHAIN.index(clock) + 1 :], "handover_at"]
            if CHAIN.index(clock) <= CHAIN.index("on_scene_at"):
                later.append("unit_available_at")
            if any(getattr(incident, c) is not None for c in later):
                return True
    return interval.key == "handover" and (
        incident.at_hospital_at is not None
        and incident.handover_at is None
        and (incident.unit_available_at is not None or incident.status != "open")
    )


def figures_of(exact: list[int], unmeasured: int, goals) -> dict:
    """count, mean (exact ms), median and p90 in whole seconds rounded up, within each target."""
    whole = [s_up(us) for us in exact]
    median, p90 = nearest_rank(whole, 0.5), nearest_rank(whole, 0.9)
    # The claim the rollups rest on: the percentile of the rounded values is the rounded percentile.
    for p, got in ((0.5, median), (0.9, p90)):
        assert got == (None if not exact else s_up(nearest_rank(exact, p)))
    total_ms = sum(ms_up(us) for us in exact)
    return {
        "count": len(exact),
        "unmeasured": unmeasured,
        "mean_s": round(float(Fraction(total_ms, len(exact))) / 1000, 3) if exact else None,
        "median_s": None if median is None else float(median),
        "p90_s": None if p90 is None else float(p90),
        "within": [sum(us <= g.within_s * 1_000_000 for us in exact) for g in goals],
    }


def in_period(made: list[Incident], f: ReportFilter) -> list[Incident]:
    return [
        i
        for i in made
        if f.start <= i.created_at < f.end
        and f.priority in (None, i.priority)
        and f.hour in (None, timezone.localtime(i.created_at).hour)
    ]


def interval_by_hand(incidents: list[Incident], interval: Interval) -> dict:
    clocks = [(getattr(i, interval.start), getattr(i, interval.end)) for i in incidents]
    exact = [us for start, end in clocks if (us := exact_us(start, end)) is not None]
    unmeasured = sum(unmeasurable(i, interval) for i in incidents)
    return figures_of(exact, unmeasured, targets().get(interval.key, ()))


def summary_row(row: dict) -> dict:
    return {
        "count": row["count"],
        "unmeasured": row["unmeasured"],
        "mean_s": row["mean_s"],
        "median_s": row["median_s"],
        "p90_s": row["p90_s"],
        "within": [t["within"] for t in row["targets"]],
    }


def summary_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    incidents = in_period(made, f)
    return {iv.key: interval_by_hand(incidents, iv) for iv in INTERVALS if iv.key != "answer"}


def summary_figures(body: dict) -> dict:
    return {row["key"]: summary_row(row) for row in body["intervals"] if row["key"] != "answer"}


def priorities_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    found = {}
    response = BY_KEY["response"]
    for priority in {i.priority for i in in_period(made, f)}:
        mine = [i for i in in_period(made, f) if i.priority == priority]
        row = interval_by_hand(mine, response)
        found[priority] = {k: row[k] for k in ("count", "mean_s", "median_s", "p90_s")} | {
            "incidents": len(mine)
        }
    return found


def priority_figures(rows: list[dict]) -> dict:
    return {
        r["priority"]: {k: r[k] for k in ("count", "mean_s", "median_s", "p90_s", "incidents")}
        for r in rows
        if r["incidents"]
    }


def trend_by_hand(made: list[Incident], f: ReportFilter, bucket: str) -> dict:
    response, goal = BY_KEY["response"], targets()["response"][0]
    groups: dict = {}
    for i in in_period(made, f):
        local = timezone.localtime(i.created_at)
        groups.setdefault(local.date().isoformat() if bucket == "day" else local.hour, []).append(i)
    found = {}
    for b, mine in groups.items():
        row = interval_by_hand(mine, response)
        every = row["count"] + row["unmeasured"]
        pct = round(100 * row["within"][0] / every, 2) if every else None
        found[b] = {"incidents": len(mine), "count": row["count"], "median_s": row["median_s"]}
        found[b] |= {"p90_s": row["p90_s"], "pct": pct}
    assert goal.within_s == 900
    return found


def trend_figures(rows: list[dict]) -> dict:
    return {r["bucket"]: {k: v for k, v in r.items() if k != "bucket"} for r in rows if r["incidents"]}


def distribution_by_hand(made: list[Incident], f: ReportFilter, body: dict) -> list[int]:
    """Each bin's count: a bin holds the intervals over its from_s up to and including its to_s
    (the first from 0), exactly, on the incidents' own clocks."""
    response = BY_KEY["response"]
    exact = [exact_us(i.call_received_at, i.on_scene_at) for i in in_period(made, f)]
    counts = []
    for n, b in enumerate(body["bins"]):
        lower = -1 if n == 0 else b["from_s"] * 1_000_000
        upper = math.inf if b["to_s"] is None else b["to_s"] * 1_000_000
        counts.append(sum(us is not None and lower < us <= upper for us in exact))
    assert response.key == body["interval"]
    return counts


def districts_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    response = BY_KEY["response"]
    groups: dict = {"A1": [], "outside": []}
    for i in in_period(made, f):
        if i.location is not None:
            groups["A1" if i.location.x < 119.6 else "outside"].append(i)
    found = {}
    for name, mine in groups.items():
        row = interval_by_hand(mine, response)
        found[name] = {"incidents": len(mine), "count": row["count"], "unmeasured": row["unmeasured"]}
        found[name] |= {"median_s": row["median_s"], "p90_s": row["p90_s"], "within": row["within"][0]}
    return found


def district_figures(body: dict) -> dict:
    pick = lambda d: {  # noqa: E731
        **{k: d[k] for k in ("incidents", "count", "unmeasured", "median_s", "p90_s")},
        "within": d["target"]["within"],
    }
    (a1,) = body["districts"]
    return {"A1": pick(a1), "outside": pick(body["outside"])}


def handovers_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    ids = [i.pk for i in in_period(made, f)]
    groups: dict = {}
    for a in Assignment.objects.filter(incident_id__in=ids, at_hospital_at__isnull=False).select_related(
        "incident"
    ):
        us = exact_us(a.at_hospital_at, a.handover_at)
        finished = a.handover_at or a.cleared_at or a.cancelled_at or a.incident.status != "open"
        if us is not None or finished:
            groups.setdefault(a.hospital_id, []).append(us)
    found = {}
    for pk, values in groups.items():
        exact = [us for us in values if us is not None]
        found[pk] = figures_of(exact, len(values) - len(exact), targets()["handover"])
    return found


def hospital_figures(rows: list[dict]) -> dict:
    return {r["hospital"]: summary_row(r) for r in rows if r["count"] or r["unmeasured"]}


def processing_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    groups: dict = {}
    for i in in_period(made, f):
        first = Assignment.objects.filter(incident=i).order_by("dispatched_at", "id").first()
        if first is not None and first.dispatched_by_id is not None:
            groups.setdefault(first.dispatched_by_id, []).append(
                exact_us(i.call_answered_at, i.dispatched_at)
            )
    return {
        who: nearest_rank([float(s_up(us)) for us in values if us is not None], 0.5)
        for who, values in groups.items()
    }


def processing_figures(body: dict) -> dict:
    return {r["user"]: r["processing_median_s"] for r in body["dispatchers"] if r["incidents_dispatched"]}


# --------------------------------------------------------------------------- the figures

PERIODS = [
    MONTH,
    ReportFilter(MARCH + 2 * DAY + timedelta(hours=12), MARCH + 4 * DAY),  # a partial day
    ReportFilter(MARCH, MARCH + 31 * DAY, priority=2),
]


def every_figure(made: list[Incident], f: ReportFilter, raw: bool) -> dict:
    dist = distribution(f, "response", raw=raw)
    return {
        "summary": summary_figures(summary(f, raw=raw)),
        "priorities": priority_figures(response_by_priority(f, raw=raw)),
        "trend_day": trend_figures(trend(f, "response", "day", raw=raw)),
        "trend_hour": trend_figures(trend(f, "response", "hour", raw=raw)),
        "distribution": [b["count"] for b in dist["bins"]],
        "bin_s": dist["bin_s"],
        "districts": district_figures(areas(f, "response", raw=raw)),
        "hospitals": hospital_figures(handovers(f, raw=raw)),
        "processing": processing_figures(people(f, raw=raw)),
    }


def every_by_hand(made: list[Incident], f: ReportFilter) -> dict:
    dist = distribution(f, "response", raw=True)
    return {
        "summary": summary_by_hand(made, f),
        "priorities": priorities_by_hand(made, f),
        "trend_day": trend_by_hand(made, f, "day"),
        "trend_hour": trend_by_hand(made, f, "hour"),
        "distribution": distribution_by_hand(made, f, dist),
        "bin_s": dist["bin_s"],
        "districts": districts_by_hand(made, f),
        "hospitals": handovers_by_hand(made, f),
        "processing": processing_by_hand(made, f),
    }


def test_the_history_has_its_edge_cases(world, made):
    """What the tests below rest on: responses of exactly 900 s, 900.0004 s and 900.001 s (the
    900 s target), processing of 60.0004 s and 60.001 s (60 s), handovers of 900.001 s (900 s),
    and unmeasurable incidents."""
    march = in_period(made, MONTH)
    responses = {exact_us(i.call_received_at, i.on_scene_at) for i in march}
    assert {900_000_000, 900_000_400, 900_001_000} <= responses
    processing = {exact_us(i.call_answered_at, i.dispatched_at) for i in march}
    assert {60_000_000, 60_000_400, 60_001_000} <= processing
    assert {900_000_000, 900_000_400, 900_001_000} <= {
        exact_us(i.at_hospital_at, i.handover_at) for i in march
    }
    response = BY_KEY["response"]
    assert sum(unmeasurable(i, response) for i in march) == 3  # on scene missing
    assert sum(unmeasurable(i, BY_KEY["travel"]) for i in march) == 6  # and on scene before en route
    assert sum(unmeasurable(i, BY_KEY["handover"]) for i in march) >= 3


@pytest.mark.parametrize("f", PERIODS, ids=["month", "partial_day", "priority"])
def test_rollups_raw_and_by_hand_agree(world, made, f):
    assert rollups.served_days(MONTH, measure=rollups.SECONDS_MARKER) == [
        (MARCH + d * DAY).date() for d in range(2, 5)
    ]
    rolled, counted = every_figure(made, f, False), every_figure(made, f, True)
    assert rolled == counted
    assert rolled == every_by_hand(made, f)


def test_the_edges_fall_where_the_exact_times_put_them(world, made):
    """900.000 s is within 900 s; 900.0004 s and 900.001 s are not, and count as 901 s."""
    march = in_period(made, MONTH)
    responses = sorted(us for i in march if (us := exact_us(i.call_received_at, i.on_scene_at)) is not None)
    within = summary_figures(summary(MONTH))["response"]["within"][0]
    assert within == sum(us <= 900_000_000 for us in responses)
    assert 900_000_400 in responses and within < sum(us <= 900_001_000 for us in responses)
    assert s_up(900_000_400) == s_up(900_001_000) == 901 and s_up(900_000_000) == 900
    # Each edge incident alone (a part of its day: counted from the rows, as today would be).
    for i in march:
        us = exact_us(i.call_received_at, i.on_scene_at)
        if us in (900_000_000, 900_000_400, 900_001_000):
            alone = ReportFilter(i.created_at, i.created_at + timedelta(seconds=1))
            row = summary_figures(summary(alone))["response"]
            assert row["median_s"] == row["p90_s"] == {900_000_000: 900.0}.get(us, 901.0), us
            assert row["within"] == [int(us == 900_000_000)] and row["mean_s"] == ms_up(us) / 1000


def test_the_hour_of_day_is_counted_from_the_rows_in_whole_seconds(world, made):
    for hour in {timezone.localtime(i.created_at).hour for i in in_period(made, MONTH)}:
        f = ReportFilter(MARCH, MARCH + 31 * DAY, hour=hour)
        assert every_figure(made, f, False) == every_by_hand(made, f), hour


def test_a_range_reaching_today_counts_the_open_days_from_the_rows(world, made):
    f = ReportFilter(timezone.now() - 300 * DAY, timezone.now() + DAY)
    assert len(in_period(made, f)) == 36
    rolled = every_figure(made, f, False)
    assert rolled == every_figure(made, f, True)
    assert rolled == every_by_hand(made, f)


def test_the_page_api_gives_the_figures(world, made):
    client = signed_in(world.bob)
    get = lambda path: client.get(f"/api/reports/{path}{MONTH_QUERY}").json()  # noqa: E731
    expected = every_by_hand(made, MONTH)
    assert summary_figures(get("summary?")) == expected["summary"]
    assert priority_figures(get("priorities?")) == expected["priorities"]
    assert trend_figures(get("trend?interval=response&bucket=day&")) == expected["trend_day"]
    assert trend_figures(get("trend?interval=response&bucket=hour&")) == expected["trend_hour"]
    assert [b["count"] for b in get("distribution?interval=response&")["bins"]] == expected["distribution"]
    assert district_figures(get("areas?interval=response&")) == expected["districts"]
    assert hospital_figures(get("hospitals?")) == expected["hospitals"]
    assert processing_figures(get("people?")) == expected["processing"]
    # A bin's incidents are the drill-down's: over its from_s up to and including its to_s.
    dist = get("distribution?interval=response&")
    for b in dist["bins"]:
        bound = f"&max_s={b['to_s']}" if b["to_s"] is not None else ""
        listed = get(f"incidents?interval=response&min_s={b['from_s']}{bound}&limit=1000&")
        assert listed["total"] == b["count"], b


def test_the_figures_are_read_from_the_rollups(world, made):
    """Doubling every stored count doubles the served counts (the percentiles and means of twice
    the same values stay): the closed days are not recounted from the rows."""
    before = every_figure(made, MONTH, False)
    assert before == every_by_hand(made, MONTH)
    double_every_stored_count()
    after = every_figure(made, MONTH, False)
    assert every_figure(made, MONTH, True) == before
    for key, row in before["summary"].items():
        twice = {
            **row,
            "count": 2 * row["count"],
            "unmeasured": 2 * row["unmeasured"],
            "within": [2 * n for n in row["within"]],
        }
        assert after["summary"][key] == twice, key
    for priority, row in before["priorities"].items():
        assert after["priorities"][priority] == {
            **row,
            "count": 2 * row["count"],
            "incidents": 2 * row["incidents"],
        }
    assert after["distribution"] == [2 * n for n in before["distribution"]]
    for pk, row in before["hospitals"].items():
        assert after["hospitals"][pk]["count"] == 2 * row["count"]
        assert after["hospitals"][pk]["mean_s"] == row["mean_s"]
        assert after["hospitals"][pk]["within"] == [2 * n for n in row["within"]]
    for name, row in before["districts"].items():
        assert after["districts"][name]["count"] == 2 * row["count"], name
    assert {b: r["count"] * 2 for b, r in before["trend_day"].items()} == {
        b: r["count"] for b, r in after["trend_day"].items()
    }


def test_the_millisecond_rollups_are_forgotten_and_built_again(world, made):
    """Migration 0029 deletes every day rolled up in milliseconds: such a day is then missing, is
    counted from the rows meanwhile, and the worker builds it again in whole seconds."""
    forget = importlib.import_module("dispatch.migrations.0029_report_rollups_whole_seconds").FORGET
    with connection.cursor() as cursor:
        cursor.execute(forget)
    days = [(MARCH + d * DAY).date() for d in range(2, 5)]
    assert rollups.served_days(MONTH) == []
    assert rollups.missing_days(MARCH.date(), (MARCH + 30 * DAY).date()) == days
    assert every_figure(made, MONTH, False) == every_by_hand(made, MONTH)
    rollups.catch_up(now=MARCH + 40 * DAY)
    assert rollups.served_days(MONTH, measure=rollups.SECONDS_MARKER) == days
    assert every_figure(made, MONTH, False) == every_by_hand(made, MONTH)


def test_a_day_without_the_seconds_marker_is_counted_from_the_rows(world, made):
    """A day rolled up by the millisecond code (it holds PROBLEMS and the interval measures but no
    sums of ms) is not served for the interval figures."""
    day = (MARCH + 3 * DAY).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM dispatch_report_rollup WHERE day = %s AND measure = ANY(%s)",
            [day, list(rollups.INTERVAL_MS_MEASURES)],
        )
        cursor.execute(
            "UPDATE dispatch_report_rollup SET counts = counts || counts, vals = vals || vals "
            "WHERE day = %s AND measure = ANY(%s)",
            [day, list(rollups.INTERVAL_MEASURES)],
        )
    assert day not in rollups.served_days(MONTH, measure=rollups.SECONDS_MARKER)
    assert every_figure(made, MONTH, False)["summary"] == summary_by_hand(made, MONTH)
