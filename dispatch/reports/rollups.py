"""Figures kept as incidents close: per-day value counts the report merges instead of the rows
(docs/decisions/0020-report-rollups.md).

For each local day, each measure and each grouping key (dispatcher and seat, district,
hospital, hour of day; the priority beside), `dispatch_report_rollup` holds how many incidents
(or calls, or overrides) had each distinct value: whole seconds rounded up for intervals
(decision 0021, `ceil_s`), the float itself for ETAs. Every interval of the summary is a measure
of its own (INTERVAL + n), which also serves the response by priority, the trend by day and the
distribution, with each day's exact sum of its milliseconds beside (INTERVAL_MS + n, for the exact
mean); HOURLY is the response keyed by the local hour of day, for its trend by hour; PROBLEMS
counts the incidents per problem bits.
Merging the days' counts and walking them in value order gives the nearest-rank percentile
PostgreSQL's percentile_disc gives over the rows (rank ceil(p x n) in float8, as its own
code), so a figure read from the rollups is the raw figure, not an estimate. Rounding up to the
whole second is monotonic, so that percentile of the rounded values is the exact percentile
rounded up, and the raw paths sort the same rounded values: both give the same whole seconds.

- A day is served from its rollup when it is closed (it ended at least a day ago: a call
  still ringing is unmeasurable only a day later), it has a rollup (`dispatch_report_rollup_day`)
  and no event after the rollup's `seq` names one of its incidents (every change goes through
  an action that writes such an event: a crew's correction, a late clock). Every other part of
  the period (today, yesterday, a stale or missing day, a partial day) is counted from the rows
  by the same SQL that builds the rollups, in the same query.
- The district of an incident depends on the district outlines: a day's rollup records their
  digest, and a day built under other outlines is not served for the district figures.
- Filters the rollups do not hold (unit, station, district, hospital, hour of day) read the rows
  (the raw functions), as does `raw=True`. A day rolled up before a measure existed holds no
  rows of it: the interval figures serve only the days holding SECONDS_MARKER
  (`served_days(measure=)`), a measure the millisecond rollups never had (migration 0029 also
  deleted those days, so that the worker builds them again in whole seconds).
- Answering (dispatch.reports.calls) is kept per day of the ring in whole seconds rounded up
  (CALL_ANSWER, CALL_WAIT, and the day's exact sum of answer ms for the mean; decision 0021): a
  call's answer, end and status are taken as settled once its day is closed (a call's events name
  no incident, so they cannot mark its day stale); the call backs are read from the calls.
- `build_days` (re)builds days under a lock on each day's row, so that two workers never write
  one day twice; `run_report_rollups` (and run_workers) builds the closed days that lack one
  and rebuilds the stale ones; `manage.py build_report_rollups` rebuilds any range.
"""

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TypeVar

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dispatch.core.event_kinds import EventKind
from dispatch.reports.filters import ReportFilter, local_midnight
from dispatch.reports.intervals import BY_KEY, INTERVALS, Interval, unmeasurable_mask
from dispatch.reports.sql import fetch, fetch_binary, fetch_one

K = TypeVar("K", bound=Hashable)
TABLE = "dispatch_report_rollup"
DAYS = "dispatch_report_rollup_day"

# Measures (the `measure` column).
PEOPLE_CALL = 1  # a call answered: k1 who, k2 the seat
PEOPLE_DISPATCH = 2  # an incident's first unit sent: k1, k2; value its processing, whole s rounded up
PEOPLE_RANK = 3  # an override: its recommended rank, label the reason
PEOPLE_ETA = 4  # an override: the ETA (s) of the unit chosen
PEOPLE_SLOWER = 5  # an override: chosen ETA minus the top pick's
HANDOVER = 10  # a handover: k1 the hospital; value whole s rounded up, NULL+unmeasured when unmeasurable
HANDOVER_MS = 11  # per day, priority and hospital (k1): one row, value the sum of the measured handovers' ms
DISTRICT = 20  # an incident: k1 its district (NULL outside), k2 1 when unlocated; value the response, whole s
PROBLEMS = 29  # an incident: k1 its report_problems bits (0 too), no value: the summary's counts
# An incident's interval INTERVALS[n] is measure INTERVAL + n (the summary, the priorities, the
# trend by day: the day is the rollup's, and the distribution): value whole seconds rounded up,
# NULL + unmeasured when it cannot be measured. Answering holds only incidents that came from a
# ringing call, as its charts count (figures.charted); the summary's answering row comes from
# the calls themselves.
INTERVAL = 30
# HOURLY_INTERVAL again, with k1 the local hour of day the incident was created in: the trend by
# hour of day of the page's default chart (other intervals' read the rows). Keying every interval
# by hour would make a year's rollups 24 times as many rows for the summary to read.
HOURLY = 40
HOURLY_INTERVAL = "response"
# INTERVALS[n]'s exact sum of milliseconds per day and priority is measure INTERVAL_MS + n: one row
# (n 1), value the sum (0 when none was measured), for the exact mean beside the whole seconds.
INTERVAL_MS = 60
# Squares of dispatch.reports.figures.districts (about 500 m): whole ones need no polygon test.
DISTRICT_SQUARE_DEG = 0.005
# The interval the district rollup holds: the page's default chart; others read the rows.
DISTRICT_INTERVAL = "response"
# Answering, from the calls (dispatch.reports.calls), by the local day the call rang; whole
# seconds rounded up (docs/decisions/0021-whole-second-rollups.md). A call ringing now (for less
# than a day) is in none of them.
CALL_ANSWER = (
    50  # a call: k1 1 when answered, k2 1 when abandoned; value its answer in whole s, NULL + unmeasured
)
CALL_WAIT = 51  # an abandoned call: value how long the caller waited in whole s, NULL + unmeasured
CALL_ANSWER_MS = 52  # a day's calls: one row, value the sum of their measured answers in ms (the exact mean)
CALLS = (CALL_ANSWER, CALL_WAIT, CALL_ANSWER_MS)
# Unit-hour utilisation (dispatch.reports.resources.utilisation), per day and unit (k1): rows
# with no value whose count (`n`, stored as n_null) is the figure itself, clipped to the day:
# the microseconds the unit was committed to a job, staffed (a crew on shift, several counted
# once), and both at once. Days are disjoint, so the sums over a period's days are exact. Jobs
# are not additive over days (a job over midnight is in both): a day keeps the jobs dispatched
# in it and the jobs running at its first instant, and a period counts the jobs running at its
# start once, plus those dispatched in it. UNITS_MARKER: one row on every day rolled up with them.
UNIT_BUSY_US = 80
UNIT_STAFFED_US = 81
UNIT_BOTH_US = 82
UNIT_JOBS = 83
UNIT_JOBS_RUNNING = 84
UNITS_MARKER = 85
# Events of a crew shift starting or ending (a unit-day's staffed time).
SHIFT_KINDS = [EventKind.SHIFT_STARTED.value, EventKind.SHIFT_ENDED.value]
UNIT_MEASURES = (UNIT_BUSY_US, UNIT_STAFFED_US, UNIT_BOTH_US, UNIT_JOBS, UNIT_JOBS_RUNNING, UNITS_MARKER)
# The area grid (dispatch.reports.figures.grid) of GRID_INTERVAL, per day and priority. Its cells
# are 1, 2 or 5 x 10^k degrees, chosen from the period's extent: a cell a whole multiple of
# GRID_SQUARE_DEG is the fine squares k1 // m, k2 // m (figures.grid_cell), the same definition
# on the raw path; smaller cells read the rows. 0.01 degrees (about 1.1 by 1.0 km here): the
# coarsest 1, 2, 5 step that still divides the cell of a city 0.12 degrees (13 km) across or more
# (a year of the benchmark city, 0.2 degrees, has 0.01-degree cells); a finer square would give
# a day's incidents nearly a row each (0.005: four times the squares), and the rollups would be
# no smaller than the rows.
GRID_SQUARE_DEG = 0.01
GRID_INTERVAL = DISTRICT_INTERVAL
GRID = 90  # a located incident: k1, k2 its fine square; value the interval, whole s, NULL + unmeasured
# The located incidents' extent per day and priority, exactly: k1 0 least lon, 1 least lat,
# 2 greatest lon, 3 greatest lat; value the coordinate (float8, as ST_X and ST_Y give it).
GRID_BOX = 91
GRID_MARKER = 92  # one row on every day rolled up with the grid
GRID_MEASURES = (GRID, GRID_BOX, GRID_MARKER)
PEOPLE = (PEOPLE_CALL, PEOPLE_DISPATCH, PEOPLE_RANK, PEOPLE_ETA, PEOPLE_SLOWER)
# Measures of calls, which no incident filter narrows (dispatch.reports.people).
UNPRIORITISED = (PEOPLE_CALL, *CALLS)


def local_day(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


@dataclass(frozen=True)
class Spans:
    """Time spans [a, b) as an SQL condition on one timestamp column, with named parameters."""

    spans: tuple[tuple[datetime, datetime], ...]

    def on(self, column: str, prefix: str) -> tuple[str, dict]:
        if not self.spans:
            return "FALSE", {}
        parts, params = [], {}
        for n, (a, b) in enumerate(self.spans):
            parts.append(f"({column} >= %({prefix}{n}a)s AND {column} < %({prefix}{n}b)s)")
            params[f"{prefix}{n}a"], params[f"{prefix}{n}b"] = a, b
        return "(" + " OR ".join(parts) + ")", params

    def local_days(self) -> list[date]:
        """The local days the spans cover (spans of whole days, as build_days gives)."""
        return [
            timezone.localdate(a) + timedelta(days=n)
            for a, b in self.spans
            for n in range((timezone.localdate(b) - timezone.localdate(a)).days)
        ]


def marker_rows(measure: int, days_param: str) -> str:
    """SQL: one row of `measure` on each day of the date[] parameter `days_param` (the days were
    built with it), in the counts' columns."""
    return (
        f"SELECT day, {measure}, NULL::smallint, NULL::bigint, NULL::bigint, NULL::float8, "
        f"false, '', 0::bigint FROM unnest(%({days_param})s::date[]) day"
    )


# --------------------------------------------------------------------------- the counts, from rows
# Each returns SQL with the columns `day, measure, priority, k1, k2, value, unmeasured, label, n`
# over the incidents (or calls) created in `spans`: what build_days stores and what a report
# counts for the days it cannot read from the rollups.

FIRST_ASSIGNMENT = (
    "(SELECT a.dispatched_by_id, a.dispatched_at FROM dispatch_assignment a WHERE a.incident_id = i.id "
    "ORDER BY a.dispatched_at, a.id LIMIT 1)"
)


def people_counts(spans: Spans) -> tuple[str, dict]:
    """As dispatch.reports.people.deeds, counted by day, who, seat and value."""
    calls, call_params = spans.on("c.ringing_at", "pc")
    incidents, incident_params = spans.on("i.created_at", "pi")
    sql = (
        "SELECT day, measure, priority, user_id AS k1, seat_id AS k2, value, false AS unmeasured, label, "
        "count(*)::bigint AS n FROM (SELECT d.*, (SELECT ss.seat_id FROM dispatch_seatsession ss "
        "WHERE ss.user_id = d.user_id AND ss.signed_on_at <= d.at "
        "AND (ss.signed_off_at IS NULL OR ss.signed_off_at > d.at) "
        "ORDER BY ss.signed_on_at DESC LIMIT 1) AS seat_id FROM ("
        f"SELECT {local_day('c.ringing_at')} AS day, {PEOPLE_CALL} AS measure, NULL::smallint AS priority, "
        "c.answered_by_id AS user_id, coalesce(c.answered_at, c.ringing_at) AS at, NULL::float8 AS value, "
        f"'' AS label FROM dispatch_call c WHERE c.answered_by_id IS NOT NULL AND {calls} "
        f"UNION ALL SELECT {local_day('i.created_at')}, {PEOPLE_DISPATCH}, i.priority, fa.dispatched_by_id, "
        f"fa.dispatched_at, {ceil_s('i.report_processing_ms')}::float8, '' FROM dispatch_incident i "
        f"CROSS JOIN LATERAL {FIRST_ASSIGNMENT} fa WHERE fa.dispatched_by_id IS NOT NULL AND {incidents} "
        f"UNION ALL SELECT {local_day('i.created_at')}, m.measure, i.priority, a.dispatched_by_id, "
        "a.dispatched_at, m.value, m.label FROM dispatch_assignment a "
        "JOIN dispatch_incident i ON i.id = a.incident_id CROSS JOIN LATERAL (VALUES "
        f"({PEOPLE_RANK}, a.recommended_rank::float8, a.override_reason), "
        f"({PEOPLE_ETA}, a.eta_at_dispatch_s, ''), "
        f"({PEOPLE_SLOWER}, a.eta_at_dispatch_s - a.top_pick_eta_s, '')) m(measure, value, label) "
        f"WHERE a.dispatched_by_id IS NOT NULL AND a.recommended_rank > 1 AND {incidents}) d) deeds "
        "GROUP BY day, measure, priority, k1, k2, value, label"
    )
    return sql, {**call_params, **incident_params}


# As dispatch.reports.resources.handovers: milliseconds rounded up, NULL when out of order or over
# a day (kept in whole seconds rounded up, with the sum of the ms); a handover counts once it is
# finished or measured.
HANDOVER_VALUE = (
    "CASE WHEN a.handover_at >= a.at_hospital_at AND a.handover_at - a.at_hospital_at <= interval '1 day' "
    "THEN ceil(extract(epoch FROM a.handover_at - a.at_hospital_at) * 1000)::bigint END"
)
HANDOVER_FINISHED = (
    "(a.handover_at IS NOT NULL OR a.cleared_at IS NOT NULL OR a.cancelled_at IS NOT NULL "
    "OR i.status <> 'open')"
)


def handover_counts(spans: Spans) -> tuple[str, dict]:
    """Per day, priority and hospital: the count of each whole second (HANDOVER), and the sum of
    the measured handovers' milliseconds (HANDOVER_MS)."""
    incidents, params = spans.on("i.created_at", "hi")
    sql = (
        f"WITH h AS (SELECT {local_day('i.created_at')} AS day, i.priority, a.hospital_id, "
        f"{HANDOVER_VALUE} AS v, {HANDOVER_FINISHED} AS finished FROM dispatch_assignment a "
        "JOIN dispatch_incident i ON i.id = a.incident_id "
        f"WHERE {incidents} AND a.at_hospital_at IS NOT NULL AND a.hospital_id IS NOT NULL) "
        f"SELECT day, {HANDOVER} AS measure, priority, hospital_id AS k1, NULL::bigint AS k2, "
        f"{ceil_s('v')}::float8 AS value, v IS NULL AS unmeasured, '' AS label, count(*)::bigint AS n "
        "FROM h WHERE v IS NOT NULL OR finished GROUP BY day, priority, hospital_id, 6, 7 "
        f"UNION ALL SELECT day, {HANDOVER_MS}, priority, hospital_id, NULL::bigint, sum(v)::float8, "
        "false, '', 1::bigint FROM h WHERE v IS NOT NULL GROUP BY day, priority, hospital_id"
    )
    return sql, params


def district_counts(spans: Spans) -> tuple[str, dict]:
    """As dispatch.reports.figures.districts (the same squares and the same rule on borders)."""
    incidents, params = spans.on("i.created_at", "di")
    interval = BY_KEY[DISTRICT_INTERVAL]
    s = DISTRICT_SQUARE_DEG
    sql = (
        "WITH pts AS (SELECT "
        f"{local_day('i.created_at')} AS day, i.priority, "
        f"{ceil_s('i.' + interval.column)} AS v, i.report_problems AS problems, i.location::geometry AS g, "
        f"floor(ST_X(i.location::geometry) / {s})::int AS gx, "
        f"floor(ST_Y(i.location::geometry) / {s})::int AS gy "
        f"FROM dispatch_incident i WHERE {incidents}), "
        "squares AS (SELECT DISTINCT gx, gy FROM pts WHERE g IS NOT NULL), "
        "whole AS (SELECT q.gx, q.gy, d.id AS district FROM squares q "
        f"CROSS JOIN LATERAL (SELECT ST_MakeEnvelope(q.gx * {s}, q.gy * {s}, (q.gx + 1) * {s}, "
        f"(q.gy + 1) * {s}, 4326) AS e) sq "
        "JOIN dispatch_district d ON ST_Covers(d.polygon, sq.e) "
        "WHERE NOT EXISTS (SELECT 1 FROM dispatch_district o WHERE o.id <> d.id "
        "AND ST_Intersects(o.polygon, sq.e))) "
        f"SELECT day, {DISTRICT} AS measure, priority, "
        "coalesce(w.district, (SELECT d.id FROM dispatch_district d "
        "WHERE g IS NOT NULL AND ST_Covers(d.polygon, g) ORDER BY d.code LIMIT 1)) AS k1, "
        "(g IS NULL)::int::bigint AS k2, v::float8 AS value, "
        f"problems & {unmeasurable_mask(interval)} <> 0 AS unmeasured, '' AS label, count(*)::bigint AS n "
        "FROM pts LEFT JOIN whole w USING (gx, gy) GROUP BY 1, 3, 4, 5, 6, 7"
    )
    return sql, params


def grid_square(coordinate: str) -> str:
    """SQL: the fine square (GRID_SQUARE_DEG) a longitude or latitude falls in, as float8, the
    one expression both the rollups and figures.grid use."""
    return f"floor({coordinate} / {GRID_SQUARE_DEG}::float8)"


def grid_counts(spans: Spans) -> tuple[str, dict]:
    """As dispatch.reports.figures.grid: the located incidents per day, priority and fine square
    (GRID), their exact extent (GRID_BOX), and a marker on each whole day (GRID_MARKER)."""
    incidents, params = spans.on("i.created_at", "gi")
    interval = BY_KEY[GRID_INTERVAL]
    sql = (
        f"WITH pts AS (SELECT {local_day('i.created_at')} AS day, i.priority, "
        f"{ceil_s('i.' + interval.column)}::float8 AS v, "
        f"i.report_problems & {unmeasurable_mask(interval)} <> 0 AS unmeasured, "
        "ST_X(i.location::geometry) AS x, ST_Y(i.location::geometry) AS y "
        f"FROM dispatch_incident i WHERE {incidents} AND i.location IS NOT NULL) "
        f"SELECT day, {GRID} AS measure, priority, {grid_square('x')}::bigint AS k1, "
        f"{grid_square('y')}::bigint AS k2, v AS value, unmeasured, '' AS label, count(*)::bigint AS n "
        "FROM pts GROUP BY 1, 3, 4, 5, 6, 7 "
        f"UNION ALL SELECT day, {GRID_BOX}, priority, b.k, NULL::bigint, b.value, false, '', 1::bigint "
        "FROM (SELECT day, priority, min(x) AS w, min(y) AS s, max(x) AS e, max(y) AS n FROM pts "
        "GROUP BY 1, 2) d CROSS JOIN LATERAL (VALUES (0::bigint, w), (1, s), (2, e), (3, n)) b(k, value) "
        f"UNION ALL {marker_rows(GRID_MARKER, 'g_days')}"
    )
    return sql, {**params, "g_days": spans.local_days()}


def interval_measure(interval: Interval) -> int:
    return INTERVAL + INTERVALS.index(interval)


def interval_ms_measure(interval: Interval) -> int:
    return INTERVAL_MS + INTERVALS.index(interval)


def interval_counts(spans: Spans) -> tuple[str, dict]:
    """As dispatch.reports.figures.summary, trend and distribution: every interval's value per
    incident in whole seconds rounded up, by day and priority (HOURLY_INTERVAL's by hour of day
    too), and its exact sum of milliseconds per day and priority; and the incidents per problem
    bits."""
    incidents, params = spans.on("i.created_at", "ii")
    hourly = BY_KEY[HOURLY_INTERVAL]
    values = ", ".join(
        f"({measure}, {ceil_s('i.' + iv.column)}::float8, i.report_problems & {unmeasurable_mask(iv)} <> 0, "
        f"{'i.call_id IS NOT NULL' if iv.key == 'answer' else 'true'}, {hour})"
        for measure, iv, hour in [
            *((interval_measure(iv), iv, "NULL::bigint") for iv in INTERVALS),
            (HOURLY, hourly, "extract(hour FROM i.created_at AT TIME ZONE %(tz)s)::bigint"),
        ]
    )
    sums = ", ".join(
        f"({interval_ms_measure(iv)}, i.{iv.column}::bigint, "
        f"{'i.call_id IS NOT NULL' if iv.key == 'answer' else 'true'})"
        for iv in INTERVALS
    )
    sql = (
        "SELECT day, measure, priority, k1, NULL::bigint AS k2, value, unmeasured, '' AS label, "
        "count(*)::bigint AS n FROM ("
        f"SELECT {local_day('i.created_at')} AS day, m.measure, i.priority, m.k1, m.value, m.unmeasured "
        f"FROM dispatch_incident i CROSS JOIN LATERAL (VALUES {values}) "
        "m(measure, value, unmeasured, counted, k1) "
        f"WHERE {incidents} AND m.counted "
        f"UNION ALL SELECT {local_day('i.created_at')}, {PROBLEMS}, i.priority, i.report_problems::bigint, "
        f"NULL::float8, false FROM dispatch_incident i WHERE {incidents}) v "
        "GROUP BY day, measure, priority, k1, value, unmeasured "
        f"UNION ALL SELECT {local_day('i.created_at')}, m.measure, i.priority, NULL::bigint, NULL::bigint, "
        "coalesce(sum(m.ms), 0)::float8, false, '', 1::bigint "
        f"FROM dispatch_incident i CROSS JOIN LATERAL (VALUES {sums}) m(measure, ms, counted) "
        f"WHERE {incidents} AND m.counted GROUP BY 1, 2, 3"
    )
    return sql, params


def ceil_s(ms: str) -> str:
    """Whole milliseconds (never negative, already rounded up) as whole seconds rounded up, in
    integer arithmetic (a year's sort stays one of integers): ceil(ms / 1000), and
    ceil(ceil(1000 t) / 1000) = ceil(t). Monotonic, so the nearest-rank percentile of these is the
    exact one rounded up, and for a whole Y, ceil_s(ms) <= Y exactly when ms <= 1000 Y
    (docs/decisions/0021-whole-second-rollups.md)."""
    return f"(({ms} + 999) / 1000)"


def ms_between(start: str, end: str) -> str:
    """end - start in milliseconds rounded up; NULL when either is missing, out of order or over a day."""
    return (
        f"CASE WHEN {end} >= {start} AND {end} - {start} <= interval '1 day' "
        f"THEN ceil(extract(epoch FROM {end} - {start}) * 1000)::bigint END"
    )


# A call whose caller hung up before anyone answered.
CALL_ABANDONED = "(c.status = 'missed' AND c.answered_at IS NULL)"


def ringing_now(now: str) -> str:
    """A call still ringing, for less than a day: its outcome is not known yet."""
    return f"(c.status = 'ringing' AND c.ringing_at > {now} - interval '1 day')"


def whole_s(ms: str) -> str:
    """Milliseconds (already rounded up) as whole seconds rounded up: ceil is monotonic, so the
    nearest-rank percentile of these is the rounded percentile, and ceil(ms / 1000) <= Y exactly
    when ms <= Y x 1000 for a whole Y."""
    return f"ceil({ms} / 1000.0)::float8"


def call_counts(spans: Spans) -> tuple[str, dict]:
    """As dispatch.reports.calls.answering (its call_rows), counted by the local day of the ring."""
    calls, params = spans.on("c.ringing_at", "ci")
    sql = (
        f"WITH c AS (SELECT {local_day('c.ringing_at')} AS day, "
        f"{ms_between('c.ringing_at', 'c.answered_at')} AS answer_ms, "
        f"c.answered_at IS NOT NULL AS answered, {CALL_ABANDONED} AS abandoned, "
        f"{ms_between('c.ringing_at', 'c.ended_at')} AS wait_ms "
        f"FROM dispatch_call c WHERE {calls} AND NOT {ringing_now('%(cnow)s')}) "
        f"SELECT day, {CALL_ANSWER} AS measure, NULL::smallint AS priority, answered::int::bigint AS k1, "
        f"abandoned::int::bigint AS k2, {whole_s('answer_ms')} AS value, answer_ms IS NULL AS unmeasured, "
        "'' AS label, count(*)::bigint AS n FROM c GROUP BY day, k1, k2, value, unmeasured "
        f"UNION ALL SELECT day, {CALL_WAIT}, NULL::smallint, NULL::bigint, NULL::bigint, "
        f"{whole_s('wait_ms')}, "
        "wait_ms IS NULL, '', count(*)::bigint FROM c WHERE abandoned GROUP BY 1, 6, 7 "
        f"UNION ALL SELECT day, {CALL_ANSWER_MS}, NULL::smallint, NULL::bigint, NULL::bigint, "
        "sum(answer_ms)::float8, false, '', 1::bigint FROM c GROUP BY 1 HAVING count(answer_ms) > 0"
    )
    return sql, {**params, "cnow": timezone.now()}


# A job's end, for finding the jobs that reach into a period on an index
# (assignment_report_end, migration 0030): cleared, stood down, or still running.
JOB_END = "coalesce(a.cleared_at, a.cancelled_at, 'infinity'::timestamptz)"


def microseconds(multirange: str) -> str:
    """SQL: the microseconds a multirange covers, exactly (0 for NULL)."""
    return (
        "coalesce((SELECT sum(((extract(epoch FROM upper(r)) - extract(epoch FROM lower(r))) "
        f"* 1000000)::bigint) FROM unnest({multirange}) r), 0)::bigint"
    )


def unit_pieces(pieces: Sequence[tuple[date | None, datetime, datetime]], now: datetime) -> tuple[str, dict]:
    """SQL: per piece of time [a, b) (disjoint; `day` names it, or NULL) and unit with a job or a
    shift in it, the columns `day, a, unit_id, busy_us, staffed_us, both_us, jobs, running`:
    committed, staffed and both, clipped to the piece, in microseconds; the jobs dispatched in it
    and those running at its first instant. A job runs from its dispatch until cleared or stood
    down (or now), a shift until it ends (or now); a job that ends before it began is no job."""
    piece = "(SELECT min(p.a) FROM p)", "(SELECT max(p.b) FROM p)"
    sql = (
        "WITH p AS (SELECT * FROM unnest(%(u_days)s::date[], %(u_a)s::timestamptz[], %(u_b)s::timestamptz[]) "
        "p(day, a, b)), "
        "j AS (SELECT a.unit_id, a.dispatched_at AS s, "
        "coalesce(a.cleared_at, a.cancelled_at, %(u_now)s) AS e "
        f"FROM dispatch_assignment a WHERE a.dispatched_at < {piece[1]} AND {JOB_END} > {piece[0]}), "
        "sh AS (SELECT s.unit_id, s.started_at AS s, coalesce(s.ended_at, %(u_now)s) AS e "
        f"FROM fleet_crewshift s WHERE s.started_at < {piece[1]} "
        f"AND coalesce(s.ended_at, 'infinity'::timestamptz) > {piece[0]}), "
        "busy AS (SELECT p.day, p.a, j.unit_id, "
        "range_agg(tstzrange(greatest(j.s, p.a), least(j.e, p.b))) AS r, "
        "count(*) FILTER (WHERE j.s >= p.a) AS jobs, count(*) FILTER (WHERE j.s < p.a) AS running "
        "FROM p JOIN j ON j.s < p.b AND j.e > p.a AND j.s < j.e GROUP BY 1, 2, 3), "
        "staffed AS (SELECT p.day, p.a, sh.unit_id, "
        "range_agg(tstzrange(greatest(sh.s, p.a), least(sh.e, p.b))) AS r "
        "FROM p JOIN sh ON sh.s < p.b AND sh.e > p.a GROUP BY 1, 2, 3) "
        "SELECT coalesce(b.day, s.day) AS day, coalesce(b.a, s.a) AS a, "
        "coalesce(b.unit_id, s.unit_id) AS unit_id, "
        f"{microseconds('b.r')} AS busy_us, {microseconds('s.r')} AS staffed_us, "
        f"{microseconds('b.r * s.r')} AS both_us, coalesce(b.jobs, 0)::bigint AS jobs, "
        "coalesce(b.running, 0)::bigint AS running "
        "FROM busy b FULL JOIN staffed s ON s.a = b.a AND s.unit_id = b.unit_id"
    )
    days, starts, ends = zip(*pieces, strict=True) if pieces else ((), (), ())
    return sql, {"u_days": list(days), "u_a": list(starts), "u_b": list(ends), "u_now": now}


def unit_counts(spans: Spans) -> tuple[str, dict]:
    """The unit-days (UNIT_MEASURES) of the whole local days `spans` cover."""
    pieces, params = unit_pieces(
        [(day, local_midnight(day), local_midnight(day + timedelta(days=1))) for day in spans.local_days()],
        timezone.now(),
    )
    figures = ", ".join(
        f"({measure}, {column})"
        for measure, column in [
            (UNIT_BUSY_US, "busy_us"),
            (UNIT_STAFFED_US, "staffed_us"),
            (UNIT_BOTH_US, "both_us"),
            (UNIT_JOBS, "jobs"),
            (UNIT_JOBS_RUNNING, "running"),
        ]
    )
    sql = (
        "SELECT day, m.measure, NULL::smallint AS priority, unit_id AS k1, NULL::bigint AS k2, "
        "NULL::float8 AS value, false AS unmeasured, '' AS label, m.n "
        f"FROM ({pieces}) pieces CROSS JOIN LATERAL (VALUES {figures}) m(measure, n) WHERE m.n > 0 "
        f"UNION ALL {marker_rows(UNITS_MARKER, 'u_days')}"
    )
    return sql, params


INTERVAL_MEASURES = tuple(interval_measure(iv) for iv in INTERVALS)
INTERVAL_MS_MEASURES = tuple(interval_ms_measure(iv) for iv in INTERVALS)
# Held by every day rolled up in whole seconds that has incidents (the response's sum of ms, one
# row a day and priority), never by a day the millisecond rollups built: the interval figures
# serve only the days holding it.
SECONDS_MARKER = INTERVAL_MS + INTERVALS.index(BY_KEY["response"])

# Measures every day built today holds, one row a day at least: a day lacking one was built before
# it existed, and the worker builds it again (missing_days); the figures it serves read such a
# day from the rows meanwhile (served_days(measure=)).
MARKERS = (UNITS_MARKER, GRID_MARKER)

COUNTS: dict[str, tuple[tuple[int, ...], Callable[[Spans], tuple[str, dict]]]] = {
    "people": (PEOPLE, people_counts),
    "handover": ((HANDOVER, HANDOVER_MS), handover_counts),
    "district": ((DISTRICT,), district_counts),
    "intervals": ((*INTERVAL_MEASURES, *INTERVAL_MS_MEASURES, HOURLY, PROBLEMS), interval_counts),
    "calls": (CALLS, call_counts),
    "units": (UNIT_MEASURES, unit_counts),
    "grid": (GRID_MEASURES, grid_counts),
}


# --------------------------------------------------------------------------- building


def districts_digest() -> str:
    """One text that changes whenever a district is added, removed or redrawn."""
    (digest,) = fetch_one(
        "SELECT md5(coalesce(string_agg(id::text || ':' || code || ':' || md5(ST_AsEWKB(polygon)::text), "
        "',' ORDER BY id), '')) FROM dispatch_district"
    )
    return digest


def last_closed_day(now: datetime | None = None) -> date:
    """The last day that ended at least a day ago (a call ringing then is settled by now)."""
    return timezone.localdate(now or timezone.now()) - timedelta(days=2)


def day_spans(days: Iterable[date]) -> Spans:
    """Whole local days, neighbours merged into one span."""
    spans: list[tuple[datetime, datetime]] = []
    for day in sorted(set(days)):
        a, b = local_midnight(day), local_midnight(day + timedelta(days=1))
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return Spans(tuple(spans))


# One row per day, measure and key: the value counts packed (values ascending as big-endian
# float8, their counts as big-endian int4), with the rows whose value is NULL counted apart.
PACKED = (
    "measure, priority, k1, k2, label, "
    "coalesce(sum(n) FILTER (WHERE value IS NULL), 0)::bigint AS n_null, "
    "coalesce(sum(n) FILTER (WHERE unmeasured), 0)::bigint AS n_unmeasured, "
    "coalesce(string_agg(float8send(value), ''::bytea ORDER BY value) FILTER (WHERE value IS NOT NULL), "
    "''::bytea) AS vals, "
    "coalesce(string_agg(int4send(n::int), ''::bytea ORDER BY value) FILTER (WHERE value IS NOT NULL), "
    "''::bytea) AS counts"
)
STORED = "measure, priority, k1, k2, label, n_null, n_unmeasured, vals, counts"


def build_days(days: Iterable[date]) -> int:
    """(Re)build the rollups of these days, in one transaction: each day's row locked first (a
    second worker waits, then rebuilds it again from what it then sees), the event number read
    before the rows, so that any change after it marks the day stale. Returns the rows written."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")
        cursor.execute(
            f"INSERT INTO {DAYS} (day, seq, districts, built_at) SELECT d, -1, '', now() "
            "FROM unnest(%s::date[]) d ON CONFLICT (day) DO NOTHING",
            [wanted],
        )
        cursor.execute(
            f"SELECT day FROM {DAYS} WHERE day = ANY(%s::date[]) ORDER BY day FOR UPDATE", [wanted]
        )
        cursor.execute("SELECT coalesce((SELECT last_seq FROM dispatch_eventcounter LIMIT 1), 0)")
        (seq,) = cursor.fetchone()
        digest = districts_digest()
        cursor.execute(f"DELETE FROM {TABLE} WHERE day = ANY(%s::date[])", [wanted])
        written = 0
        spans = day_spans(wanted)
        for _measures, counts in COUNTS.values():
            sql, params = counts(spans)
            cursor.execute(
                f"INSERT INTO {TABLE} (day, {STORED}) SELECT day, {PACKED} FROM ({sql}) counts "
                "GROUP BY day, measure, priority, k1, k2, label",
                {**params, "tz": settings.TIME_ZONE},
            )
            written += cursor.rowcount
        cursor.execute(
            # The clock, not the transaction's start: a month merged from this day compares it.
            f"UPDATE {DAYS} SET seq = %s, districts = %s, built_at = clock_timestamp(), stale = false "
            "WHERE day = ANY(%s::date[])",
            [seq, digest, wanted],
        )
    return written


def build_range(first: date, last: date, chunk_days: int = 31) -> int:
    """Rebuild every day from first to last, a month a transaction."""
    written, day = 0, first
    while day <= last:
        upto = min(day + timedelta(days=chunk_days - 1), last)
        written += build_days(day + timedelta(days=n) for n in range((upto - day).days + 1))
        day = upto + timedelta(days=1)
    return written


WATCH = "dispatch_report_rollup_watch"


def touched_days(days: str, events: str) -> str:
    """SQL: (day, seq) for the days of `days` (a relation with day and seq) whose rollup an event
    of `events` (dispatch_event rows) may have changed since it was built, seq the newest such
    event: an event naming one of the day's incidents, or an incident whose unit's job reached
    into the day, or a shift event of a unit with a shift in the day (the unit-days: a job's or a
    shift's clocks are written as they happen, so these only catch a clock corrected afterwards).
    The events are taken per incident and per unit first (an incident has dozens), and a job's or
    a shift's days are listed from its local days, so a year of events costs one pass over them."""
    now = "statement_timestamp()"
    return (
        f"WITH per_incident AS (SELECT incident_id, max(seq) AS seq FROM {events} "
        "WHERE incident_id IS NOT NULL GROUP BY incident_id), "
        f"per_unit AS (SELECT unit_id, max(seq) AS seq FROM {events} "
        "WHERE unit_id IS NOT NULL AND kind = ANY(%(shift_kinds)s) GROUP BY unit_id), "
        "reached AS ("
        f"SELECT {local_day('i.created_at')} AS day, e.seq FROM per_incident e "
        "JOIN dispatch_incident i ON i.id = e.incident_id "
        "UNION ALL SELECT g::date, e.seq FROM per_incident e "
        "JOIN dispatch_assignment a ON a.incident_id = e.incident_id "
        f"CROSS JOIN LATERAL generate_series({local_day('a.dispatched_at')}, "
        f"{local_day(f'least(coalesce(a.cleared_at, a.cancelled_at, {now}), {now})')}, interval '1 day') g "
        f"UNION ALL SELECT g::date, e.seq FROM per_unit e JOIN fleet_crewshift s ON s.unit_id = e.unit_id "
        f"CROSS JOIN LATERAL generate_series({local_day('s.started_at')}, "
        f"{local_day(f'least(coalesce(s.ended_at, {now}), {now})')}, interval '1 day') g) "
        f"SELECT r.day, max(reached.seq) AS seq FROM reached JOIN {days} r ON r.day = reached.day "
        "WHERE reached.seq > r.seq GROUP BY r.day"
    )


def rolled_days(condition: str) -> str:
    return f"(SELECT day, seq, stale FROM {DAYS} WHERE {condition})"


def stale_days(first: date, last: date) -> list[date]:
    """Days in [first, last] whose rollup an event after it may have changed (touched_days):
    those the worker has flagged (mark_stale), and those an event it has not read yet touches."""
    rows = fetch(
        f"WITH r AS {rolled_days('day BETWEEN %(first)s AND %(last)s')}, "
        f"e AS (SELECT * FROM dispatch_event WHERE seq > greatest("
        f"(SELECT coalesce(min(seq), 0) FROM r), (SELECT coalesce(max(seq), 0) FROM {WATCH}))) "
        f"SELECT day FROM r WHERE stale UNION SELECT day FROM ({touched_days('r', 'e')}) t ORDER BY 1",
        {"first": first, "last": last, "tz": settings.TIME_ZONE, "shift_kinds": SHIFT_KINDS},
    )
    return [day for (day,) in rows]


def mark_stale() -> int:
    """Read the events since the last pass once, and flag the rolled-up days they touch (rebuilt
    by catch_up; a day rebuilt since an event is not flagged by it). Returns the days flagged."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {WATCH} (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
        cursor.execute(f"SELECT seq FROM {WATCH} WHERE id = 1 FOR UPDATE")  # one worker at a time
        (watched,) = cursor.fetchone()
        # Every event up to the counter's committed value is committed (numbered in commit order).
        cursor.execute("SELECT coalesce((SELECT last_seq FROM dispatch_eventcounter LIMIT 1), 0)")
        (newest,) = cursor.fetchone()
        if newest <= watched:
            return 0
        # `t.seq > d.seq` in the UPDATE itself: a day being rebuilt meanwhile is compared with its
        # new event number once its row is free.
        cursor.execute(
            f"WITH r AS {rolled_days('TRUE')}, "
            "e AS (SELECT * FROM dispatch_event WHERE seq > %(watched)s AND seq <= %(newest)s) "
            f"UPDATE {DAYS} d SET stale = true FROM ({touched_days('r', 'e')}) t "
            "WHERE d.day = t.day AND t.seq > d.seq AND NOT d.stale",
            {"watched": watched, "newest": newest, "tz": settings.TIME_ZONE, "shift_kinds": SHIFT_KINDS},
        )
        flagged = cursor.rowcount
        cursor.execute(f"UPDATE {WATCH} SET seq = %s WHERE id = 1", [newest])
    return flagged


def missing_days(first: date, last: date) -> list[date]:
    """Closed days in [first, last] with incidents or calls but no rollup, or a rollup built
    before one of the measures that mark a day as built with them (MARKERS)."""
    rows = fetch(
        "SELECT d::date FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d "
        f"WHERE (NOT EXISTS (SELECT 1 FROM {DAYS} r WHERE r.day = d::date) "
        f"OR (SELECT count(DISTINCT r.measure) FROM {TABLE} r WHERE r.measure = ANY(%(markers)s) "
        "AND r.day = d::date) < cardinality(%(markers)s)) "
        "AND (EXISTS (SELECT 1 FROM dispatch_incident i WHERE i.created_at >= "
        "(d::date::timestamp AT TIME ZONE %(tz)s) "
        "AND i.created_at < ((d::date + 1)::timestamp AT TIME ZONE %(tz)s)) "
        "OR EXISTS (SELECT 1 FROM dispatch_call c WHERE c.ringing_at >= "
        "(d::date::timestamp AT TIME ZONE %(tz)s) "
        "AND c.ringing_at < ((d::date + 1)::timestamp AT TIME ZONE %(tz)s))) ORDER BY 1",
        {"first": first, "last": last, "tz": settings.TIME_ZONE, "markers": list(MARKERS)},
    )
    return [day for (day,) in rows]


# How far back the worker keeps rollups (a report covers at most a year).
KEEP_DAYS = 400
# Days the worker builds in one pass (one transaction).
DAYS_A_PASS = 31


def catch_up(now: datetime | None = None) -> dict[str, int]:
    """One pass of the rollup worker: rebuild stale days, then build missing closed ones."""
    last = last_closed_day(now)
    first = last - timedelta(days=KEEP_DAYS)
    mark_stale()
    stale = stale_days(first, last)[:DAYS_A_PASS]
    missing = missing_days(first, last)[: DAYS_A_PASS - len(stale)]
    build_days([*stale, *missing])
    return {"stale_rebuilt": len(stale), "built": len(missing)}


# --------------------------------------------------------------------------- months
# A closed month whose days are all rolled up is kept merged as well (migration 0031): each
# group's counts summed per value, so that a year is read as twelve rows a group, not 365.
MONTHS = "dispatch_report_rollup_month"
MONTHS_BUILT = "dispatch_report_rollup_month_built"


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


# SQL: the digest of the build times of month %(m)s's days, in day order (changes whenever
# one of them is rebuilt, or deleted).
DAYS_DIGEST = (
    f"(SELECT md5(coalesce(string_agg(d.day::text || '@' || d.built_at::text || '#' || d.seq::text, ',' "
    f"ORDER BY d.day), '')) FROM {DAYS} d "
    "WHERE d.day >= {month} AND d.day < ({month} + interval '1 month')::date)"
)


def build_months(first: date | None = None, last: date | None = None, now: datetime | None = None) -> int:
    """Merge the closed months from first to last (default: the worker's year) whose days are all
    rolled up and fresh, where their month rows are missing or older than one of their days.
    Returns the months merged."""
    last = min(last or last_closed_day(now), last_closed_day(now))
    first = month_of(first or last - timedelta(days=KEEP_DAYS))
    stale = {month_of(day) for day in stale_days(first, last)}
    complete = fetch(
        f"SELECT m FROM (SELECT date_trunc('month', day)::date AS m, count(*) AS n FROM {DAYS} "
        "WHERE day BETWEEN %(first)s AND %(last)s AND seq >= 0 GROUP BY 1) c "
        "WHERE n = extract(day FROM m + interval '1 month' - interval '1 day') "
        f"EXCEPT SELECT b.month FROM {MONTHS_BUILT} b WHERE b.days = {DAYS_DIGEST.format(month='b.month')} "
        "ORDER BY 1",
        {"first": first, "last": last},
    )
    months = [m for (m,) in complete if next_month(m) <= last + timedelta(days=1) and m not in stale]
    for month in months:
        build_month(month)
    return len(months)


def build_month(month: date) -> int:
    """One month's rows merged from its days' rows, under a share lock on the days (a day being
    rebuilt is waited for; one rebuilt after changes the digest). Returns the rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        span = {"m": month, "next": next_month(month)}
        cursor.execute(f"SELECT day FROM {DAYS} WHERE day >= %(m)s AND day < %(next)s FOR SHARE", span)
        cursor.execute(f"SELECT {DAYS_DIGEST.format(month='%(m)s::date')}", span)
        (digest,) = cursor.fetchone()
        with psycopg.Cursor(connection.connection) as binary:
            binary.execute(
                "SELECT measure, priority, k1, k2, label, sum(n_null)::bigint, sum(n_unmeasured)::bigint, "
                "string_agg(vals, ''::bytea ORDER BY day), string_agg(counts, ''::bytea ORDER BY day) "
                f"FROM {TABLE} WHERE day >= %(m)s AND day < %(next)s GROUP BY 1, 2, 3, 4, 5",
                span,
                binary=True,
            )
            groups = binary.fetchall()
        cursor.execute(f"DELETE FROM {MONTHS} WHERE month = %(m)s", span)
        cursor.executemany(
            f"INSERT INTO {MONTHS} (month, {STORED}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(month, *group[:5], *packed(counts_of(*group[5:]))) for group in groups],
        )
        cursor.execute(
            f"INSERT INTO {MONTHS_BUILT} (month, days, built_at) VALUES (%(m)s, %(days)s, now()) "
            "ON CONFLICT (month) DO UPDATE SET days = excluded.days, built_at = excluded.built_at",
            {**span, "days": digest},
        )
    return len(groups)


def packed(counts: "Counts") -> tuple[int, int, bytes, bytes]:
    """Counts as a stored row's n_null, n_unmeasured, vals, counts (the values ascending)."""
    return (
        counts.nulls,
        counts.unmeasured,
        counts.values.astype(">f8").tobytes(),
        counts.counts.astype(">i4").tobytes(),
    )


def merged_months(served: list[date]) -> tuple[list[date], list[date]]:
    """The served days as the whole months that can be read merged (every day of the month
    served, its month rows built from the days as they are now) and the other days."""
    by_month: dict[date, int] = {}
    for day in served:
        by_month[month_of(day)] = by_month.get(month_of(day), 0) + 1
    whole = [m for m, n in by_month.items() if n == (next_month(m) - m).days]
    if not whole:
        return [], served
    current = {
        m
        for (m,) in fetch(
            f"SELECT b.month FROM {MONTHS_BUILT} b WHERE b.month = ANY(%(months)s) "
            f"AND b.days = {DAYS_DIGEST.format(month='b.month')}",
            {"months": whole},
        )
    }
    return sorted(current), [day for day in served if month_of(day) not in current]


def stored_rows(served: list[date], day_column: bool = False, by_day: bool = False) -> tuple[str, dict]:
    """SQL: the stored rows of the served days for %(measures)s (`day_column`: with a first
    column `day`, a month's first day for its merged rows), the whole months merged unless the
    counts are wanted per day."""
    months, days = ([], served) if by_day else merged_months(served)
    day, month = ("day, ", "month AS day, ") if day_column else ("", "")
    sql = f"SELECT {day}{STORED} FROM {TABLE} WHERE measure = ANY(%(measures)s) AND day = ANY(%(days)s)"
    if months:
        sql += (
            f" UNION ALL SELECT {month}{STORED} FROM {MONTHS} "
            "WHERE measure = ANY(%(measures)s) AND month = ANY(%(months)s)"
        )
    return sql, {"days": days, "months": months}


# --------------------------------------------------------------------------- reading


def serves(f: ReportFilter) -> bool:
    """Whether the rollups hold this filter's figures: only the period and the priority."""
    return f.index_only() and f.hour is None


def served_days(
    f: ReportFilter, districts: bool = False, now: datetime | None = None, measure: int | None = None
) -> list[date]:
    """The whole, closed, fresh days of the period read from the rollups; with `measure`, only
    the days whose rollup holds it (a day built before the measure existed, or with nothing to
    count, is counted from the rows)."""
    first = timezone.localtime(f.start).date()
    if local_midnight(first) < f.start:
        first += timedelta(days=1)
    last = min(timezone.localtime(f.end).date() - timedelta(days=1), last_closed_day(now))
    if local_midnight(last + timedelta(days=1)) > f.end:
        last -= timedelta(days=1)
    if last < first:
        return []
    condition = " AND districts = %(digest)s" if districts else ""
    if measure is not None:
        condition += (
            f" AND EXISTS (SELECT 1 FROM {TABLE} r WHERE r.measure = %(measure)s AND r.day = {DAYS}.day)"
        )
    built = fetch(
        f"SELECT day FROM {DAYS} WHERE day BETWEEN %(first)s AND %(last)s AND seq >= 0{condition} "
        "ORDER BY day",
        {"first": first, "last": last, "digest": districts_digest() if districts else "", "measure": measure},
    )
    stale = set(stale_days(first, last))
    return [day for (day,) in built if day not in stale]


def open_spans(f: ReportFilter, served: list[date]) -> Spans:
    """The parts of [start, end) that the served days do not cover."""
    spans: list[tuple[datetime, datetime]] = []
    at = f.start
    for a, b in day_spans(served).spans:
        if at < a:
            spans.append((at, a))
        at = max(at, b)
    if at < f.end:
        spans.append((at, f.end))
    return Spans(tuple(spans))


@dataclass
class Counts:
    """Merged value counts of one group: values ascending, their counts, and the rows without a
    value (`nulls`; `unmeasured` of all rows were flagged unmeasurable)."""

    values: np.ndarray
    counts: np.ndarray
    nulls: int
    unmeasured: int

    @property
    def measured(self) -> int:
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        return self.measured + self.nulls

    def percentile(self, p: float) -> float | None:
        """Nearest rank, as percentile_disc: the first value whose running count reaches
        ceil(p x measured) (in float8, as PostgreSQL computes it), at least the first."""
        measured = self.measured
        if not measured:
            return None
        rank = max(math.ceil(p * float(measured)), 1)
        return float(self.values[int(np.searchsorted(self.running, rank))])

    @cached_property
    def running(self) -> np.ndarray:
        """The running count in value order (computed once for all the percentiles)."""
        return np.cumsum(self.counts)

    def within(self, limit: float) -> int:
        return int(self.counts[self.values <= limit].sum())

    def total(self) -> int:
        """The sum of the values (exact: whole seconds, or a sum of milliseconds, far below 2**53)."""
        return int(np.dot(self.values, self.counts.astype(np.float64)))


def read(f: ReportFilter, figure: str, served: list[date]) -> list[tuple]:
    """Every packed count the figure's measures hold for the period: the served days' rollup rows
    and, for the rest, the same counts from the rows; the priority filter applied.
    Rows: (measure, priority, k1, k2, label, nulls, unmeasured, values, counts)."""
    measures, counts = COUNTS[figure]
    sql, params = counts(open_spans(f, served))
    parts = [f"SELECT {PACKED} FROM ({sql}) counts GROUP BY measure, priority, k1, k2, label"]
    if served:
        stored, stored_params = stored_rows(served)
        parts.insert(0, stored)
        params = {**params, **stored_params}
    where = ""
    if f.priority is not None:
        where = " WHERE (measure = ANY(%(unprioritised)s) OR priority = %(priority)s)"
    return fetch(
        f"SELECT * FROM ({' UNION ALL '.join(parts)}) source{where}",
        {
            **params,
            "tz": settings.TIME_ZONE,
            "measures": list(measures),
            "unprioritised": list(UNPRIORITISED),
            "priority": f.priority,
        },
    )


def merge(rows: list[tuple], key: Callable[[tuple], K | None]) -> dict[K, Counts]:
    """The rows' counts merged per key(row) (rows whose key is None are left out)."""
    parts: dict[K, list[tuple]] = {}
    for row in rows:
        k = key(row)
        if k is not None:
            parts.setdefault(k, []).append(row)
    merged = {}
    for k, group in parts.items():
        values = np.concatenate([np.frombuffer(bytes(r[7]), dtype=">f8") for r in group])
        counts = np.concatenate([np.frombuffer(bytes(r[8]), dtype=">i4") for r in group])
        merged[k] = sorted_counts(
            values.astype(np.float64),
            counts.astype(np.int64),
            sum(int(r[5]) for r in group),
            sum(int(r[6]) for r in group),
        )
    return merged


# An interval is at most a day: in whole seconds rounded up, 0 to 86,400.
MOST_WHOLE_SECONDS = 86_400


def counts_of(nulls: int, unmeasured: int, vals: bytes, counts: bytes) -> Counts:
    """One group's packed counts, concatenated over its days, as Counts (values sorted)."""
    # Native byte order before sorting: numpy sorts a big-endian array several times as slowly.
    values = np.frombuffer(bytes(vals), dtype=">f8").astype(np.float64)
    n = np.frombuffer(bytes(counts), dtype=">i4").astype(np.int64)
    return sorted_counts(values, n, int(nulls), int(unmeasured))


def sorted_counts(values: np.ndarray, n: np.ndarray, nulls: int, unmeasured: int) -> Counts:
    """Values and their counts, in value order, as Counts. A year's counts of whole seconds are
    millions of (second, count) pairs over at most 86,401 seconds: those are summed per value (a
    counting sort, equal values merged: the same counts), in a fraction of a full sort's time."""
    if small_whole_numbers(values):
        per_value = np.bincount(values.astype(np.int64), weights=n)
        seen = np.flatnonzero(per_value)
        return Counts(seen.astype(np.float64), per_value[seen].astype(np.int64), nulls, unmeasured)
    order = np.argsort(values)  # ties are equal values: any order of them is the same counts
    return Counts(values[order], n[order], nulls, unmeasured)


def small_whole_numbers(values: np.ndarray) -> bool:
    """Whether every value is a whole number from 0 to a day's seconds (an interval's whole
    seconds, a rank; not an ETA's fraction nor a day's sum of milliseconds)."""
    return bool(
        values.size
        and values.min() >= 0
        and values.max() <= MOST_WHOLE_SECONDS
        and np.array_equal(values, np.floor(values))
    )


def read_grouped(
    f: ReportFilter, figure: str, served: list[date], measures: Iterable[int], by: tuple[str, ...]
) -> dict[tuple, Counts]:
    """The counts of these measures for the period, merged in SQL per `by` (columns of day,
    measure, priority, k1, k2, label): the served days' rollup rows and, for the rest, the same
    counts from the rows; the priority filter applied. A year's rows (hundreds of thousands of
    small ones) are concatenated by PostgreSQL per group: the two string_aggs of a group see its
    rows in the same order, so values and counts stay paired."""
    _all, counts = COUNTS[figure]
    sql, params = counts(open_spans(f, served))
    parts = [f"SELECT day, {PACKED} FROM ({sql}) counts GROUP BY day, measure, priority, k1, k2, label"]
    if served:
        stored, stored_params = stored_rows(served, day_column=True, by_day="day" in by)
        parts.insert(0, stored)
        params = {**params, **stored_params}
    where = " WHERE measure = ANY(%(measures)s)"
    if f.priority is not None:
        where += " AND priority = %(priority)s"
    keys = ", ".join(by)
    rows = fetch_binary(
        f"SELECT {keys}, sum(n_null), sum(n_unmeasured), string_agg(vals, ''::bytea), "
        f"string_agg(counts, ''::bytea) FROM ({' UNION ALL '.join(parts)}) source{where} GROUP BY {keys}",
        {
            **params,
            "tz": settings.TIME_ZONE,
            "measures": list(measures),
            "priority": f.priority,
        },
    )
    return {tuple(row[: len(by)]): counts_of(*row[len(by) :]) for row in rows}


NOTHING = Counts(np.zeros(0), np.zeros(0, dtype=np.int64), 0, 0)


def concat(groups: list[Counts]) -> Counts:
    """Several groups' counts as one (values sorted again)."""
    if not groups:
        return NOTHING
    values = np.concatenate([g.values for g in groups])
    order = np.argsort(values)
    return Counts(
        values[order],
        np.concatenate([g.counts for g in groups])[order],
        sum(g.nulls for g in groups),
        sum(g.unmeasured for g in groups),
    )
