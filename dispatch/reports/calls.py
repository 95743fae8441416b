"""Answering, measured from the calls themselves (dispatch.models.Call, as the telephony
adapters report them): ring to answer over every call that rang in the period.

- Every call counts in "X% answered within Y": a caller who hung up before anyone answered
  (abandoned, status missed) and a call whose answer cannot be measured (answer before the ring
  or over a day after it, ended with no answer time, or still "ringing" a day later: a lost end
  callback) are outside every target. Only a call ringing right now, for less than a day, is
  left out: its outcome is not known yet.
- Incidents play no part: one opened on the console without a ringing call has no ring to
  measure, and is not a 0 s answer.
- The period and the hour of day go by when the call began ringing (local time); the incident
  filters (priority, unit, station, district, hospital) do not apply to calls, which come before
  any of them.
- Abandoned calls called back (dispatch.calls.callbacks): the share of the period's abandoned
  calls with at least one call back placed, and how fast, from the hang-up to the first call
  back placed (however long after: a call back the next day is still one).
- Percentiles nearest rank, as every report figure. The answer and the abandoned wait are in
  whole seconds rounded up (docs/decisions/0021-whole-second-rollups.md): the closed days are
  read from the rollups' counts of each whole second, and "within 10 s" is the same test as
  on the milliseconds; the mean is exact (the rollups keep each day's sum of milliseconds). The
  call backs are in milliseconds rounded up, from the calls.
"""

import dataclasses
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from dispatch.reports import rollups
from dispatch.reports.filters import ReportFilter
from dispatch.reports.intervals import BY_KEY, Target, targets
from dispatch.reports.measures import seconds, target_figures
from dispatch.reports.rollups import CALL_ABANDONED, ms_between, ringing_now, whole_s
from dispatch.reports.sql import fetch_one

__all__ = ["answering", "call_rows", "ms_between"]


def call_rows(f: ReportFilter, now: datetime) -> tuple[str, list]:
    """The calls of the period, each with its answer and abandon times in ms (a subquery)."""
    clauses = ["c.ringing_at >= %s", "c.ringing_at < %s"]
    params: list = [now, f.start, f.end]
    if f.hour is not None:
        clauses.append("extract(hour FROM c.ringing_at AT TIME ZONE %s) = %s")
        params += [settings.TIME_ZONE, f.hour]
    abandoned = CALL_ABANDONED
    sql = (
        f"SELECT {ms_between('c.ringing_at', 'c.answered_at')} AS answer_ms, "
        f"c.answered_at IS NOT NULL AS answered, {abandoned} AS abandoned, "
        f"CASE WHEN {abandoned} THEN {ms_between('c.ringing_at', 'c.ended_at')} END AS wait_ms, "
        f"{ringing_now('%s')} AS ringing_now FROM dispatch_call c WHERE {' AND '.join(clauses)}"
    )
    return sql, params


def call_backs(f: ReportFilter) -> tuple:
    """The abandoned calls of the period called back: how many, and the median and 90th centile
    (ms) from the hang-up to the first call back placed. Always from the rows: a call back placed
    days later changes the figure of the day the call rang, which no event marks stale."""
    clauses = ["c.ringing_at >= %s", "c.ringing_at < %s", CALL_ABANDONED]
    params: list = [f.start, f.end]
    if f.hour is not None:
        clauses.append("extract(hour FROM c.ringing_at AT TIME ZONE %s) = %s")
        params += [settings.TIME_ZONE, f.hour]
    called_back, backs = fetch_one(
        "SELECT count(b.first_at), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY "
        "CASE WHEN b.first_at >= c.ended_at THEN ceil(extract(epoch FROM b.first_at - c.ended_at) * 1000)"
        "::bigint END) FROM dispatch_call c JOIN LATERAL (SELECT min(placed_at) AS first_at "
        "FROM dispatch_callback WHERE call_id = c.id) b ON b.first_at IS NOT NULL "
        f"WHERE {' AND '.join(clauses)}",
        params,
    )
    return called_back, backs


def answering(f: ReportFilter, now: datetime | None = None, raw: bool = False) -> dict:
    """The calls' figures, and the answer interval's summary row built from them. The closed days
    come from the rollups (per day, the count of each whole-second answer and wait) unless `raw`
    or the hour of day is filtered; the rest of the period from the calls. Percentiles of the
    answer and the abandoned wait are whole seconds rounded up (docs/decisions/0021-*)."""
    now = now or timezone.now()
    goals: tuple[Target, ...] = targets().get("answer", ())
    by_rows = raw or f.hour is not None
    figures = answering_rows(f, now, goals) if by_rows else answering_rollups(f, now, goals)
    offered, ringing, answered, measured, mean, median, p90, abandoned, waits, longest, hits = figures
    called_back, backs = call_backs(f)
    back_median, back_p90 = backs or (None, None)
    interval = BY_KEY["answer"]
    unmeasured = offered - measured
    wait_median, wait_p90 = waits
    return {
        "calls": {
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "unmeasurable": unmeasured - abandoned,
            "ringing_now": ringing,
            "abandoned_wait_median_s": wait_median,
            "abandoned_wait_p90_s": wait_p90,
            "abandoned_wait_max_s": longest,
            "called_back": called_back,
            "called_back_pct": round(100 * called_back / abandoned, 2) if abandoned else None,
            "call_back_median_s": seconds(back_median),
            "call_back_p90_s": seconds(back_p90),
            "incident_filters_ignored": not f.index_only() or f.priority is not None,
        },
        "interval": {
            "key": interval.key,
            "label": str(interval.label),
            "note": str(interval.note),
            "count": measured,
            "impossible": answered - measured,
            "unmeasured": unmeasured,
            "mean_s": seconds(mean),
            "median_s": median,
            "p90_s": p90,
            "targets": [target_figures(goal, n, offered) for goal, n in zip(goals, hits, strict=True)],
        },
    }


def whole(value) -> float | None:
    return None if value is None else float(value)


def answering_rows(f: ReportFilter, now: datetime, goals: tuple[Target, ...]) -> tuple:
    """The answering figures counted from the calls, in one query."""
    rows, params = call_rows(f, now)
    within = "".join(f", count(*) FILTER (WHERE answer_ms <= {g.within_s * 1000})" for g in goals)
    offered, ringing, answered, measured, mean, pcts, abandoned, waits, longest, *hits = fetch_one(
        "SELECT count(*) FILTER (WHERE NOT ringing_now), count(*) FILTER (WHERE ringing_now), "
        "count(*) FILTER (WHERE answered), count(answer_ms), avg(answer_ms), "
        f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {whole_s('answer_ms')}), "
        "count(*) FILTER (WHERE abandoned), "
        f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {whole_s('wait_ms')}), "
        f"max({whole_s('wait_ms')}){within} FROM ({rows}) calls",
        params,
    )
    median, p90 = pcts or (None, None)
    wait_median, wait_p90 = waits or (None, None)
    return (
        offered,
        ringing,
        answered,
        measured,
        float(mean) if mean is not None else None,
        whole(median),
        whole(p90),
        abandoned,
        (whole(wait_median), whole(wait_p90)),
        whole(longest),
        hits,
    )


def answering_rollups(f: ReportFilter, now: datetime, goals: tuple[Target, ...]) -> tuple:
    """The same figures from the closed days' rollups and, for the rest, the same counts from the
    calls (rollups.call_counts); the calls ringing now counted apart (index range of a day)."""
    served = rollups.served_days(f, now=now, measure=rollups.CALL_ANSWER)
    merged = rollups.read_grouped(
        dataclasses.replace(f, priority=None), "calls", served, rollups.CALLS, ("measure", "k1", "k2")
    )
    answers = [c for (m, _k1, _k2), c in merged.items() if m == rollups.CALL_ANSWER]
    offered = sum(c.rows for c in answers)
    answered = sum(c.rows for (m, k1, _k2), c in merged.items() if m == rollups.CALL_ANSWER and k1)
    abandoned = sum(c.rows for (m, _k1, k2), c in merged.items() if m == rollups.CALL_ANSWER and k2)
    answer = rollups.concat(answers)
    wait = merged.get((rollups.CALL_WAIT, None, None), rollups.NOTHING)
    total = merged.get((rollups.CALL_ANSWER_MS, None, None), rollups.NOTHING).total()
    (ringing,) = fetch_one(
        f"SELECT count(*) FROM dispatch_call c WHERE c.ringing_at >= %s AND c.ringing_at < %s "
        f"AND {ringing_now('%s')}",
        [f.start, f.end, now],
    )
    return (
        offered,
        ringing,
        answered,
        answer.measured,
        total / answer.measured if answer.measured else None,
        answer.percentile(0.5),
        answer.percentile(0.9),
        abandoned,
        (wait.percentile(0.5), wait.percentile(0.9)),
        float(wait.values[-1]) if wait.measured else None,
        [answer.within(goal.within_s) for goal in goals],
    )
