"""The report's figures, each computed in SQL over the incident rows of the period.

The percentile is PostgreSQL's percentile_disc (nearest rank): the smallest observed value that
at least p of the incidents are at or below, so "90% were reached within the 90th percentile"
holds exactly (numpy: method="inverted_cdf"). The median uses the same definition (the lower of
the two middle values when the count is even). Values are milliseconds rounded up (migration
0008); the percentiles are taken over them in whole seconds rounded up (rollups.ceil_s, decision
0021), which is the exact percentile rounded up to the whole second, as the rollups hold them.
"Within Y s" and the mean are counted on the milliseconds (the rollups keep each day's sum of
them): exact. Nothing is averaged from daily figures: a month's or a year's percentile sorts
all of its incidents.
"""

import json
import math
from datetime import date, datetime, timedelta
from fractions import Fraction

import numpy as np
from django.conf import settings
from django.utils import timezone

from dispatch.reports import rollups
from dispatch.reports.calls import answering
from dispatch.reports.filters import ReportError, ReportFilter
from dispatch.reports.intervals import BY_KEY, INTERVALS, Interval, Target, targets, unmeasurable_mask
from dispatch.reports.measures import seconds, target_figures, whole_seconds
from dispatch.reports.rollups import ceil_s
from dispatch.reports.sql import fetch, fetch_one
from fleet.models import RoadNetwork, road_geojson_by_class

# Above this many incidents (PostgreSQL's estimate) a summary runs in parts side by side.
SPLIT_ABOVE_ROWS = 200_000


def interval_values(interval: Interval, goals: tuple[Target, ...]) -> str:
    """One interval's figures as a float8 array: count, mean (ms), median and p90 (whole seconds
    rounded up), then the count within each target (all exact in float8: counts and milliseconds
    are far below 2**53)."""
    c = interval.column
    within = "".join(f", count(*) FILTER (WHERE {c} <= {goal.within_s * 1000})" for goal in goals)
    return (
        f"ARRAY[count({c}), avg({c})]::float8[] "
        f"|| coalesce(percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s(c)})::float8[], "
        # NULL || array is the array, so a missing percentile keeps its two places; the NULL
        # before the target counts keeps the layout for an interval with no target.
        f"ARRAY[NULL, NULL]::float8[]) || ARRAY[NULL{within}]::float8[]"
    )


def interval_figures(
    interval: Interval, goals: tuple[Target, ...], values: list, impossible: int, unmeasured: int
) -> dict:
    """One interval's figures. Compliance is over every incident that should have the interval:
    the measured ones and the `unmeasured` ones (intervals.unmeasurable_mask), which are outside
    every target."""
    count, mean, median, p90, _null, *within = values
    count = int(count)
    return {
        "key": interval.key,
        "label": str(interval.label),
        "note": str(interval.note),
        "count": count,
        "impossible": impossible,
        "unmeasured": unmeasured,
        "mean_s": seconds(mean),
        "median_s": whole_seconds(median),
        "p90_s": whole_seconds(p90),
        "targets": [
            target_figures(goal, int(hits), count + unmeasured)
            for goal, hits in zip(goals, within, strict=True)
        ],
    }


def summary(f: ReportFilter, raw: bool = False) -> dict:
    """Every interval: count, mean, median, exact 90th percentile and compliance.

    The closed days come from the rollups (dispatch.reports.rollups, value counts per
    interval, day and priority) unless `raw`. From the rows: one query. A big period is
    split into a few parts of UNION ALL, a share of the intervals each, because an ordered-set
    aggregate (percentile_disc) cannot be split across PostgreSQL's parallel workers but whole
    parts can: Parallel Append runs one per worker, all in the query's one snapshot.
    """
    goals = targets()
    served = served_intervals(f, raw)
    if served:
        incidents, bits, figures = summary_rollups(f, served, goals)
    else:
        sql, params, groups = summary_query(f, goals)
        rows = sorted(fetch(sql, params, workers=len(groups), index_only=f.index_only()))
        incidents = rows[0][1]
        where, where_params = f.where()
        bits = problem_bits(where, where_params)
        figures = []
        for group, (_part, _total, values) in zip(groups, rows, strict=True):
            figures += unpack(group, goals, values, bits)
    calls = answering(f, raw=raw)
    # Answering is measured from the calls (dispatch.reports.calls), not from the incidents: a
    # caller who hung up unanswered has no incident, and one opened without a call has no ring.
    figures = [calls["interval"] if figure["key"] == "answer" else figure for figure in figures]
    return {
        "incidents": incidents,
        "with_problems": sum(bits.values()),
        "intervals": figures,
        "calls": calls["calls"],
    }


def served_intervals(f: ReportFilter, raw: bool) -> list[date]:
    """The closed days whose intervals are read from the rollups (none when `raw`)."""
    if raw or not rollups.serves(f):
        return []
    return rollups.served_days(f, measure=rollups.SECONDS_MARKER)


def summary_rollups(f: ReportFilter, served: list[date], goals: dict) -> tuple[int, dict[int, int], list]:
    """The summary's incidents, problem bits and intervals from the rollups' value counts (whole
    seconds) and sums of milliseconds (the exact mean). Answering's counts are not read: summary
    takes that row from the calls."""
    rest = [iv for iv in INTERVALS if iv.key != "answer"]
    merged = rollups.read_grouped(
        f,
        "intervals",
        served,
        (
            *(rollups.interval_measure(iv) for iv in rest),
            *(rollups.interval_ms_measure(iv) for iv in rest),
            rollups.PROBLEMS,
        ),
        ("measure", f"CASE WHEN measure = {rollups.PROBLEMS} THEN k1 END"),
    )
    problems = {k1: counts.nulls for (measure, k1), counts in merged.items() if measure == rollups.PROBLEMS}
    bits = {value: n for value, n in problems.items() if value}
    figures = []
    for interval in INTERVALS:
        counts = merged.get((rollups.interval_measure(interval), None), rollups.NOTHING)
        total_ms = merged.get((rollups.interval_ms_measure(interval), None), rollups.NOTHING).total()
        mine = goals.get(interval.key, ())
        measured = counts.measured
        values = [
            measured,
            float(Fraction(total_ms, measured)) if measured else None,
            counts.percentile(0.5),
            counts.percentile(0.9),
            None,
            # Whole seconds rounded up: ceil(t) <= Y exactly when t <= Y, for a whole Y.
            *(counts.within(goal.within_s) for goal in mine),
        ]
        unmeasured = with_bits(bits, unmeasurable_mask(interval))
        figures.append(interval_figures(interval, mine, values, impossible(bits, interval), unmeasured))
    return sum(problems.values()), bits, figures


def summary_query(f: ReportFilter, goals: dict) -> tuple[str, list, list[list[Interval]]]:
    """The summary's SQL, its parameters, and which intervals each UNION ALL part holds."""
    where, params = f.where()
    # PostgreSQL's own estimate decides the split: counting first would cost a pass of its own.
    big = estimated_rows(where, params) > SPLIT_ABOVE_ROWS
    groups = split(list(INTERVALS), max(settings.REPORT_WORKERS, 1) if big else 1)
    parts = []
    for n, group in enumerate(groups):
        arrays = " || ".join(interval_values(iv, goals.get(iv.key, ())) for iv in group)
        parts.append(
            f"SELECT {n} AS part, count(*) AS total, {arrays} FROM dispatch_incident i WHERE {where}"
        )
    return " UNION ALL ".join(parts), params * len(parts), groups


def problem_bits(where: str, params: list) -> dict[int, int]:
    """How many incidents carry each combination of problem bits (a partial index holds them)."""
    return dict(
        fetch(
            f"SELECT i.report_problems, count(*) FROM dispatch_incident i WHERE {where} "
            "AND i.report_problems <> 0 GROUP BY 1",
            params,
        )
    )


def impossible(bits: dict[int, int], interval: Interval) -> int:
    return with_bits(bits, 1 << INTERVALS.index(interval))


def with_bits(bits: dict[int, int], mask: int) -> int:
    """How many incidents carry any of the mask's problem bits."""
    return sum(count for value, count in bits.items() if value & mask)


def estimated_rows(where: str, params: list) -> float:
    (plan,) = fetch_one(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM dispatch_incident i WHERE {where}", params)
    return plan[0]["Plan"]["Plan Rows"]


def split(items: list, n: int) -> list[list]:
    size = math.ceil(len(items) / n)
    return [items[i : i + size] for i in range(0, len(items), size)]


def unpack(group: list[Interval], goals: dict, row: list, bits: dict[int, int]) -> list[dict]:
    figures, at = [], 0
    for interval in group:
        mine = goals.get(interval.key, ())
        width = 5 + len(mine)
        unmeasured = with_bits(bits, unmeasurable_mask(interval))
        figures.append(
            interval_figures(interval, mine, row[at : at + width], impossible(bits, interval), unmeasured)
        )
        at += width
    return figures


def interval_or_error(key: str) -> Interval:
    if key not in BY_KEY:
        raise ReportError(f"Unknown interval {key!r}; use one of {', '.join(BY_KEY)}.")
    return BY_KEY[key]


def first_target_ms(key: str) -> int | None:
    goals = targets().get(key, ())
    return goals[0].within_s * 1000 if goals else None


def charted(f: ReportFilter, interval: Interval) -> tuple[str, list, bool]:
    """The WHERE clause, its parameters and whether the covering index serves, for one
    interval's charts. Answering's charts take only incidents that came from a ringing call:
    one opened on the console has no ring (its 0 s is no answer). Its summary row comes from
    the calls themselves (calls.py)."""
    where, params = f.where()
    if interval.key == "answer":
        return f"{where} AND i.call_id IS NOT NULL", params, False
    return where, params, f.index_only()


def trend(f: ReportFilter, key: str, bucket: str, raw: bool = False) -> list[dict]:
    """Per local day (every day of the period, empty ones too) or per hour of day: count,
    median, 90th percentile (whole seconds rounded up) and compliance with the interval's first
    target. The closed days come from the rollups unless `raw`."""
    interval = interval_or_error(key)
    if bucket not in ("day", "hour"):
        raise ReportError("Bucket must be day or hour.")
    served = served_intervals(f, raw or (bucket == "hour" and key != rollups.HOURLY_INTERVAL))
    if served:
        return trend_rollups(f, interval, bucket, served)
    where, params, index_only = charted(f, interval)
    expr = (
        "(i.created_at AT TIME ZONE %s)::date"
        if bucket == "day"
        else "extract(hour FROM i.created_at AT TIME ZONE %s)::int"
    )
    c, target = interval.column, first_target_ms(key)
    within = f"count(*) FILTER (WHERE {c} <= {target})" if target else "NULL::bigint"
    rows = fetch(
        f"SELECT {expr} AS b, count(*), count({c}), "
        f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s(c)}), {within}, "
        f"{unmeasured_count(interval)} FROM dispatch_incident i WHERE {where} GROUP BY b ORDER BY b",
        [settings.TIME_ZONE, *params],
        index_only=index_only,
    )
    found = {row[0]: row for row in rows}
    return [bucket_figures(b, found.get(b)) for b in buckets(f, bucket)]


def trend_rollups(f: ReportFilter, interval: Interval, bucket: str, served: list[date]) -> list[dict]:
    """trend's buckets from the rollups' value counts (the day is the rollup's; by hour, the
    HOURLY measure's k1)."""
    goals = targets().get(interval.key, ())
    target = goals[0].within_s if goals else None
    if bucket == "day":
        merged = rollups.read_grouped(f, "intervals", served, (rollups.interval_measure(interval),), ("day",))
    else:
        merged = rollups.read_grouped(f, "intervals", served, (rollups.HOURLY,), ("k1",))
    found: dict = {}
    for (b,), counts in merged.items():
        median, p90 = counts.percentile(0.5), counts.percentile(0.9)
        found[b] = (
            b,
            counts.rows,
            counts.measured,
            None if median is None or p90 is None else [int(median), int(p90)],
            counts.within(target) if target else None,
            counts.unmeasured,
        )
    return [bucket_figures(b, found.get(b)) for b in buckets(f, bucket)]


def unmeasured_count(interval: Interval) -> str:
    """SQL: how many incidents of the group should have the interval but cannot be measured
    (outside every target: intervals.unmeasurable_mask)."""
    return f"count(*) FILTER (WHERE i.report_problems & {unmeasurable_mask(interval)} <> 0)"


def share(within: int | None, count: int, unmeasured: int) -> float | None:
    """within as a percentage of the measured and the unmeasured together."""
    total = count + unmeasured
    return round(100 * within / total, 2) if total and within is not None else None


def buckets(f: ReportFilter, bucket: str) -> list:
    if bucket == "hour":
        return list(range(24))
    day, last = local_date(f.start), local_date(f.end - timedelta(microseconds=1))
    days = []
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def bucket_figures(b, row: tuple | None) -> dict:
    label = b.isoformat() if isinstance(b, date) else b
    if row is None:
        return {"bucket": label, "incidents": 0, "count": 0, "median_s": None, "p90_s": None, "pct": None}
    _b, incidents, count, pcts, within, unmeasured = row
    median, p90 = pcts or (None, None)
    return {
        "bucket": label,
        "incidents": incidents,
        "count": count,
        "median_s": whole_seconds(median),
        "p90_s": whole_seconds(p90),
        "pct": share(within, count, unmeasured),
    }


def nice_step(raw: float) -> float:
    """The 1, 2 or 5 times a power of ten at or above raw (seconds)."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def distribution(f: ReportFilter, key: str, bins: int = 30, raw: bool = False) -> dict:
    """A histogram of one interval, wide enough for its targets and 95% of the incidents;
    the last bin holds everything beyond. One pass: counts per whole second rounded up (a hash
    aggregate, no sort), binned here; the closed days' from the rollups unless `raw`. A bin is
    whole seconds wide and holds the intervals over its `from_s` up to and including its `to_s`
    (the first one 0 too): on whole seconds rounded up that is exact, ceil(t) > a exactly when
    t > a, so a bin ending at a target holds only incidents within it."""
    interval = interval_or_error(key)
    served = served_intervals(f, raw)
    if served:
        whole, counts = seconds_rollups(f, interval, served)
    else:
        where, params, index_only = charted(f, interval)
        c = interval.column
        rows = fetch(
            f"SELECT {ceil_s(c)} AS s, count(*) FROM dispatch_incident i "
            f"WHERE {where} AND {c} IS NOT NULL GROUP BY s",
            params,
            index_only=index_only,
        )
        whole = np.array([second for second, _n in rows], dtype=np.int64)
        counts = np.array([n for _second, n in rows], dtype=np.int64)
    goals = targets().get(key, ())
    upper_s = max([second_at_rank(whole, counts, 0.95), *(1.2 * g.within_s for g in goals), 1.0])
    width_s = int(max(nice_step(upper_s / bins), 1.0))
    per_bin = np.bincount(
        np.minimum(np.maximum(whole - 1, 0) // width_s, bins), weights=counts, minlength=bins + 1
    )
    return {
        "interval": key,
        "bin_s": float(width_s),
        "bins": [
            {
                "from_s": float(b * width_s),
                "to_s": None if b == bins else float((b + 1) * width_s),
                "count": int(per_bin[b]),
            }
            for b in range(bins + 1)
        ],
        "targets": [{"within_s": g.within_s, "goal_pct": g.goal_pct} for g in goals],
    }


def seconds_rollups(f: ReportFilter, interval: Interval, served: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """distribution's whole seconds and their counts from the rollups' value counts."""
    merged = rollups.read_grouped(f, "intervals", served, (rollups.interval_measure(interval),), ("measure",))
    counts = next(iter(merged.values()), rollups.NOTHING)
    return counts.values.astype(np.int64), counts.counts


def second_at_rank(whole: np.ndarray, counts: np.ndarray, share: float) -> int:
    """The whole second (rounded up) that holds the incident at this share of the sorted counts."""
    total = int(counts.sum())
    if not total:
        return 0
    order = np.argsort(whole, kind="stable")
    running = np.cumsum(counts[order])
    return int(whole[order][int(np.searchsorted(running, share * total))])


def areas(f: ReportFilter, key: str, cells: int = 24, raw: bool = False) -> dict:
    """Incidents by district (districts()), over the road map's main roads; and by square area
    (a grid of about `cells` across the incidents' extent, which the drill-down takes): how
    many, and the median and 90th percentile of the interval in each. The closed days of both
    come from the rollups (rollups.DISTRICT_INTERVAL and GRID_INTERVAL only) unless `raw`."""
    interval = interval_or_error(key)
    where, params, _index_only = charted(f, interval)
    served, grid_served = [], []
    if not raw and key == rollups.DISTRICT_INTERVAL and rollups.serves(f):
        served = rollups.served_days(f, districts=True)
    if not raw and key == rollups.GRID_INTERVAL and rollups.serves(f):
        grid_served = rollups.served_days(f, measure=rollups.GRID_MARKER)
    return {
        **grid(interval, where, params, cells, f, grid_served),
        **districts(interval, where, params, f, served),
    }


def grid(
    interval: Interval,
    where: str,
    params: list,
    cells: int,
    f: ReportFilter | None = None,
    served: list[date] | None = None,
) -> dict:
    """The square cells: the box of the located incidents, a cell size from it, and each cell's
    figures. With `served` days (GRID_INTERVAL only), those days come from the rollups' fine
    squares, merged per cell, when the cell is a whole multiple of the fine square."""
    key = interval.key
    box = grid_box_rollups(f, served) if f is not None and served else grid_box_rows(where, params)
    if box is None:
        return {"interval": key, "cell_deg": None, "box": None, "cells": [], "target_s": None}
    size = nice_step(max(box[2] - box[0], box[3] - box[1], 0.001) / cells)
    target = first_target_ms(key)
    if f is not None and served and fine_multiple(size):
        rows = grid_rollups(f, served, fine_multiple(size), target // 1000 if target else None)
    else:
        rows = grid_rows(interval, where, params, size, target)
    return {
        "interval": key,
        "cell_deg": size,
        "box": [float(v) for v in box],
        "target_s": target / 1000 if target else None,
        "cells": [cell_figures(row, size) for row in sorted(rows, key=lambda row: (row[0], row[1]))],
    }


def fine_multiple(size: float) -> int:
    """How many of the rollups' fine squares (rollups.GRID_SQUARE_DEG) a cell is across; 0 when
    it is not a whole multiple of them (a smaller cell)."""
    m = round(size / rollups.GRID_SQUARE_DEG)
    return m if m >= 1 and math.isclose(m * rollups.GRID_SQUARE_DEG, size, rel_tol=1e-9) else 0


def grid_cell(size: float) -> tuple[str, str]:
    """SQL: the cell (gx, gy, whole numbers in float8) of `size` an incident falls in. A whole
    multiple m of the fine square is the fine square's cell, floor(fine / m) (exact in float8:
    whole numbers far below 2**53), so that the rows, the rollups (figures.grid_rollups) and the
    drill-down put an incident on a border in the same cell; a smaller cell is
    floor(coordinate / size). Dividing first by the cell itself can disagree on a border: 0.15 /
    0.05 is 2.999..., 0.15 / 0.01 is 15.000...1 (in float8)."""
    x, y = "ST_X(i.location::geometry)", "ST_Y(i.location::geometry)"
    m = fine_multiple(size)
    if m:
        return f"floor({rollups.grid_square(x)} / {m})", f"floor({rollups.grid_square(y)} / {m})"
    return f"floor({x} / {float(size)!r})", f"floor({y} / {float(size)!r})"


def grid_box_rows(where: str, params: list) -> tuple | None:
    box = fetch_one(
        "SELECT min(ST_X(i.location::geometry)), min(ST_Y(i.location::geometry)), "
        "max(ST_X(i.location::geometry)), max(ST_Y(i.location::geometry)) "
        f"FROM dispatch_incident i WHERE {where} AND i.location IS NOT NULL",
        params,
    )
    return None if box[0] is None else box


def grid_box_rollups(f: ReportFilter, served: list[date]) -> tuple | None:
    """grid_box_rows' box from the days' exact extents (rollups.GRID_BOX: k1 0 and 1 the least
    lon and lat, 2 and 3 the greatest)."""
    sides = rollups.read_grouped(f, "grid", served, (rollups.GRID_BOX,), ("k1",))
    if not sides:
        return None
    west, south, east, north = (sides[(k,)].values for k in range(4))
    return (west[0], south[0], east[-1], north[-1])


def grid_rows(interval: Interval, where: str, params: list, size: float, target: int | None) -> list[tuple]:
    c = interval.column
    gx, gy = grid_cell(size)
    within = f"count(*) FILTER (WHERE {c} <= {target})" if target else "NULL::bigint"
    return fetch(
        f"SELECT {gx}::int AS gx, {gy}::int AS gy, count(*), count({c}), "
        f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s(c)}), {within}, "
        f"{unmeasured_count(interval)} FROM dispatch_incident i "
        f"WHERE {where} AND i.location IS NOT NULL GROUP BY gx, gy",
        params,
    )


def grid_rollups(f: ReportFilter, served: list[date], m: int, target_s: int | None) -> list[tuple]:
    """grid_rows' rows from the rollups' fine squares (rollups.GRID), m of them a cell across,
    merged per cell in SQL (the same floor(fine / m) as grid_cell)."""
    merged = rollups.read_grouped(
        f, "grid", served, (rollups.GRID,), (f"floor(k1::float8 / {m})::int", f"floor(k2::float8 / {m})::int")
    )
    rows = []
    for (gx, gy), counts in merged.items():
        median, p90 = counts.percentile(0.5), counts.percentile(0.9)
        rows.append(
            (
                gx,
                gy,
                counts.rows,
                counts.measured,
                None if median is None or p90 is None else [int(median), int(p90)],
                None if target_s is None else counts.within(target_s),
                counts.unmeasured,
            )
        )
    return rows


def cell_figures(row: tuple, size: float) -> dict:
    gx, gy, incidents, count, pcts, within, unmeasured = row
    median, p90 = pcts or (None, None)
    return {
        "lon": round(gx * size, 6),
        "lat": round(gy * size, 6),
        "incidents": incidents,
        "count": count,
        "median_s": whole_seconds(median),
        "p90_s": whole_seconds(p90),
        "pct": share(within, count, unmeasured),
    }


# Incidents are first put in squares this many degrees wide (about 500 m): a square wholly inside
# a district gives it all its incidents at once, and only those in squares a border crosses are
# tested one by one, so a year's million incidents is not a million polygon tests. The rollups
# count districts with the same squares (rollups.district_counts), so they hold the constant.
DISTRICT_SQUARE_DEG = rollups.DISTRICT_SQUARE_DEG
# Road classes drawn under the districts (fleet.models.RoadClass: motorway to tertiary); a
# network with none of them (a small town's streets) is drawn whole.
MAP_ROAD_CLASSES = 5
ALL_ROAD_CLASSES = 10


def districts(
    interval: Interval, where: str, params: list, f: ReportFilter | None = None, served: list | None = None
) -> dict:
    """Incidents per district (dispatch.models.District, the centre's import): PostGIS point in
    polygon, each incident in one district (the first by code where outlines overlap); how many,
    the median and 90th percentile of the interval (whole seconds rounded up) and compliance with
    its first target. Every
    district is listed, with its outline and a point inside it for its name; incidents located
    outside every district and those with no location are counted apart."""
    goals = targets().get(interval.key, ())
    target = goals[0].within_s * 1000 if goals else None
    within = f"count(*) FILTER (WHERE v <= {target})" if target else "NULL::bigint"
    if f is not None and served:
        rows = district_rollups(f, served, goals[0].within_s if goals else None)
    else:
        rows = district_rows(interval, where, params, within)
    found = {(unlocated, district): rest for unlocated, district, *rest in rows}
    return district_shapes(found, goals, target)


def district_rollups(f: ReportFilter, served: list, target_s: int | None) -> list[tuple]:
    """district_rows' rows from the rollups' value counts in whole seconds (k2 = 1: unlocated)."""
    found = []
    for (unlocated, district), counts in rollups.merge(
        rollups.read(f, "district", served), lambda r: (bool(r[3]), r[2])
    ).items():
        median, p90 = counts.percentile(0.5), counts.percentile(0.9)
        found.append(
            (
                unlocated,
                district,
                counts.rows,
                counts.measured,
                None if median is None or p90 is None else [int(median), int(p90)],
                None if target_s is None else counts.within(target_s),
                counts.unmeasured,
            )
        )
    return found


def district_rows(interval: Interval, where: str, params: list, within: str) -> list[tuple]:
    c = interval.column
    s = DISTRICT_SQUARE_DEG
    return fetch(
        "WITH pts AS (SELECT "
        f"{c} AS v, i.report_problems AS problems, i.location::geometry AS g, "
        f"floor(ST_X(i.location::geometry) / {s})::int AS gx, "
        f"floor(ST_Y(i.location::geometry) / {s})::int AS gy "
        f"FROM dispatch_incident i WHERE {where}), "
        "squares AS (SELECT DISTINCT gx, gy FROM pts WHERE g IS NOT NULL), "
        "whole AS (SELECT q.gx, q.gy, d.id AS district FROM squares q "
        f"CROSS JOIN LATERAL (SELECT ST_MakeEnvelope(q.gx * {s}, q.gy * {s}, (q.gx + 1) * {s}, "
        f"(q.gy + 1) * {s}, 4326) AS e) sq "
        "JOIN dispatch_district d ON ST_Covers(d.polygon, sq.e) "
        # Only a square no other district touches: a point on a shared border goes by the rule.
        "WHERE NOT EXISTS (SELECT 1 FROM dispatch_district o WHERE o.id <> d.id "
        "AND ST_Intersects(o.polygon, sq.e))) "
        "SELECT g IS NULL AS unlocated, coalesce(w.district, (SELECT d.id FROM dispatch_district d "
        "WHERE g IS NOT NULL AND ST_Covers(d.polygon, g) ORDER BY d.code LIMIT 1)) AS district, "
        f"count(*), count(v), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s('v')}), "
        f"{within}, count(*) FILTER (WHERE problems & {unmeasurable_mask(interval)} <> 0) "
        "FROM pts LEFT JOIN whole w USING (gx, gy) GROUP BY 1, 2",
        params,
    )


def district_shapes(found: dict, goals: tuple[Target, ...], target: int | None) -> dict:
    shapes = fetch(
        "SELECT d.id, d.code, d.name, d.name_en, "
        "ST_AsGeoJSON(ST_Multi(ST_SimplifyPreserveTopology(d.polygon, "
        "greatest(ST_XMax(e.box) - ST_XMin(e.box), ST_YMax(e.box) - ST_YMin(e.box)) / 600)), 5), "
        "ST_X(ST_PointOnSurface(d.polygon)), ST_Y(ST_PointOnSurface(d.polygon)) "
        "FROM dispatch_district d, (SELECT ST_Extent(polygon)::geometry AS box FROM dispatch_district) e "
        "ORDER BY d.code"
    )
    extent = fetch_one(
        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
        "(SELECT ST_Extent(polygon)::geometry AS b FROM dispatch_district) e"
    )
    box = [float(v) for v in extent] if extent[0] is not None else None
    return {
        "target_s": target / 1000 if target else None,
        "districts": [
            {
                "id": pk,
                "code": code,
                "name": name,
                "name_en": name_en,
                "outline": json.loads(outline)["coordinates"] if outline else [],
                "label_at": [round(lon, 6), round(lat, 6)],
                **district_figures(found.get((False, pk)), goals),
            }
            for pk, code, name, name_en, outline, lon, lat in shapes
        ],
        "outside": district_figures(found.get((False, None)), goals),
        "unlocated": (found.get((True, None)) or [0])[0],
        "district_box": box,
        "roads": map_roads(box),
    }


def district_figures(row: list | None, goals: tuple[Target, ...]) -> dict:
    """One district's (or the outside's) figures: incidents, measured, median, 90th percentile
    and compliance with the first target over the measured and unmeasured together."""
    incidents, count, pcts, within, unmeasured = row or (0, 0, None, 0, 0)
    median, p90 = pcts or (None, None)
    return {
        "incidents": incidents,
        "count": count,
        "unmeasured": unmeasured,
        "median_s": whole_seconds(median),
        "p90_s": whole_seconds(p90),
        "target": target_figures(goals[0], int(within or 0), count + unmeasured) if goals else None,
    }


def map_roads(box: list[float] | None) -> list[dict]:
    """The active road network's main roads in the box, one GeoJSON MultiLineString per class."""
    network = RoadNetwork.objects.active()
    if box is None or network is None:
        return []
    bbox = (box[0], box[1], box[2], box[3])
    rows = road_geojson_by_class(network.pk, bbox, MAP_ROAD_CLASSES) or road_geojson_by_class(
        network.pk, bbox, ALL_ROAD_CLASSES
    )
    return [{"road_class": r["road_class"], "lines": json.loads(r["geometry"])["coordinates"]} for r in rows]
