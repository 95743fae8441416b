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
- Values are milliseconds rounded up and percentiles nearest rank, as every report figure.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from dispatch.reports.filters import ReportFilter
from dispatch.reports.intervals import BY_KEY, Target, targets
from dispatch.reports.measures import seconds, target_figures
from dispatch.reports.sql import fetch_one


def ms_between(start: str, end: str) -> str:
    """end - start in milliseconds rounded up; NULL when either is missing, out of order or over a day."""
    return (
        f"CASE WHEN {end} >= {start} AND {end} - {start} <= interval '1 day' "
        f"THEN ceil(extract(epoch FROM {end} - {start}) * 1000)::bigint END"
    )


def call_rows(f: ReportFilter, now: datetime) -> tuple[str, list]:
    """The calls of the period, each with its answer and abandon times in ms (a subquery)."""
    clauses = ["c.ringing_at >= %s", "c.ringing_at < %s"]
    params: list = [now, f.start, f.end]
    if f.hour is not None:
        clauses.append("extract(hour FROM c.ringing_at AT TIME ZONE %s) = %s")
        params += [settings.TIME_ZONE, f.hour]
    abandoned = "(c.status = 'missed' AND c.answered_at IS NULL)"
    sql = (
        f"SELECT {ms_between('c.ringing_at', 'c.answered_at')} AS answer_ms, "
        f"c.answered_at IS NOT NULL AS answered, {abandoned} AS abandoned, "
        f"CASE WHEN {abandoned} THEN {ms_between('c.ringing_at', 'c.ended_at')} END AS wait_ms, "
        "(c.status = 'ringing' AND c.ringing_at > %s - interval '1 day') AS ringing_now, "
        f"CASE WHEN {abandoned} THEN b.first_at END AS call_back_at, "
        f"CASE WHEN {abandoned} AND b.first_at >= c.ended_at "
        "THEN ceil(extract(epoch FROM b.first_at - c.ended_at) * 1000)::bigint END AS call_back_ms "
        "FROM dispatch_call c LEFT JOIN LATERAL (SELECT min(placed_at) AS first_at FROM dispatch_callback "
        f"WHERE call_id = c.id) b ON true WHERE {' AND '.join(clauses)}"
    )
    return sql, params


def answering(f: ReportFilter, now: datetime | None = None) -> dict:
    """The calls' figures, and the answer interval's summary row built from them."""
    now = now or timezone.now()
    goals: tuple[Target, ...] = targets().get("answer", ())
    rows, params = call_rows(f, now)
    within = "".join(f", count(*) FILTER (WHERE answer_ms <= {g.within_s * 1000})" for g in goals)
    offered, ringing, answered, measured, mean, pcts, abandoned, waits, longest, called_back, backs, *hits = (
        fetch_one(
            "SELECT count(*) FILTER (WHERE NOT ringing_now), count(*) FILTER (WHERE ringing_now), "
            "count(*) FILTER (WHERE answered), count(answer_ms), avg(answer_ms), "
            "percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY answer_ms), "
            "count(*) FILTER (WHERE abandoned), "
            "percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY wait_ms), max(wait_ms), "
            "count(call_back_at), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY call_back_ms)"
            f"{within} FROM ({rows}) calls",
            params,
        )
    )
    median, p90 = pcts or (None, None)
    wait_median, wait_p90 = waits or (None, None)
    back_median, back_p90 = backs or (None, None)
    interval = BY_KEY["answer"]
    unmeasured = offered - measured
    return {
        "calls": {
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "unmeasurable": unmeasured - abandoned,
            "ringing_now": ringing,
            "abandoned_wait_median_s": seconds(wait_median),
            "abandoned_wait_p90_s": seconds(wait_p90),
            "abandoned_wait_max_s": seconds(longest),
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
            "mean_s": seconds(float(mean)) if mean is not None else None,
            "median_s": seconds(median),
            "p90_s": seconds(p90),
            "targets": [target_figures(goal, n, offered) for goal, n in zip(goals, hits, strict=True)],
        },
    }
