"""Units, hospitals and priorities over the period: unit-hour utilisation, handover times,
diversion hours, and the response time of each priority against its own targets."""

from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from fractions import Fraction

from django.conf import settings
from django.utils import timezone

from dispatch.core.event_kinds import EventKind
from dispatch.models import Event, Priority
from dispatch.reports import rollups
from dispatch.reports.filters import ReportFilter, local_midnight
from dispatch.reports.intervals import BY_KEY, targets
from dispatch.reports.measures import seconds, target_figures, whole_seconds
from dispatch.reports.rollups import ceil_s
from dispatch.reports.sql import fetch


def response_by_priority(f: ReportFilter, raw: bool = False) -> list[dict]:
    """Response (call received to on scene) for every priority, and the untriaged when there
    are any: incidents, measured, mean (exact, from the milliseconds), median and 90th percentile
    (whole seconds rounded up: the exact ones rounded up), each judged against the priority's mean
    and 90th-centile targets (settings.RESPONSE_TARGETS_BY_PRIORITY).
    The closed days come from the rollups (dispatch.reports.rollups) unless `raw`."""
    served = [] if raw or not rollups.serves(f) else rollups.served_days(f, measure=rollups.SECONDS_MARKER)
    if served:
        found = priority_rollups(f, served)
    else:
        c = BY_KEY["response"].column
        where, params = f.where()
        rows = fetch(
            f"SELECT i.priority, count(*), count({c}), sum({c}), "
            f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s(c)}) "
            f"FROM dispatch_incident i WHERE {where} GROUP BY 1",
            params,
            index_only=f.index_only(),
        )
        found = {priority: rest for priority, *rest in rows}
    wanted: list[int | None] = [value for value in Priority.values if f.priority in (None, value)]
    if None in found and f.priority is None:
        wanted.append(None)
    return [priority_figures(p, found.get(p)) for p in wanted]


def priority_rollups(f: ReportFilter, served: list) -> dict:
    """response_by_priority's rows from the rollups' value counts of the response interval (whole
    seconds) and its sums of milliseconds."""
    found: dict = {}
    response = BY_KEY["response"]
    measure, sums = rollups.interval_measure(response), rollups.interval_ms_measure(response)
    merged = rollups.read_grouped(f, "intervals", served, (measure, sums), ("measure", "priority"))
    for (m, priority), counts in merged.items():
        if m != measure:
            continue
        median, p90 = counts.percentile(0.5), counts.percentile(0.9)
        pcts = None if median is None or p90 is None else [int(median), int(p90)]
        total = merged.get((sums, priority), rollups.NOTHING).total()
        found[priority] = [counts.rows, counts.measured, total if counts.measured else None, pcts]
    return found


def priority_figures(priority: int | None, row: list | None) -> dict:
    """One priority's figures from (incidents, measured, sum of ms, [median, p90] in whole seconds
    rounded up). The mean is judged as sum <= target x count in whole milliseconds: the mean
    rounded to the ms would call 420.0005 s within a 7-minute target."""
    incidents, count, total, pcts = row or (0, 0, 0, None)  # total is read only when count is not 0
    median, p90 = pcts or (None, None)
    target_mean, target_p90 = priority_targets(priority)
    mean_s, p90_s = seconds(total / count) if count else None, whole_seconds(p90)
    return {
        "priority": priority,
        "label": str(Priority(priority).label) if priority else None,
        "incidents": incidents,
        "count": count,
        "mean_s": mean_s,
        "median_s": whole_seconds(median),
        "p90_s": p90_s,
        "target_mean_s": target_mean,
        "target_p90_s": target_p90,
        "mean_met": None if target_mean is None or not count else total <= target_mean * 1000 * count,
        # The percentile is the exact one rounded up to the whole second, and the target is whole
        # seconds: ceil(p) <= Y exactly when p <= Y.
        "p90_met": None if target_p90 is None or p90 is None else p90 <= target_p90,
    }


def priority_targets(priority: int | None) -> tuple[int | None, int | None]:
    """(mean, 90th centile) response targets in seconds; none for the untriaged, or a priority
    without targets."""
    if priority is None:
        return None, None
    return settings.RESPONSE_TARGETS_BY_PRIORITY.get(priority, (None, None))


def elapsed_s(f: ReportFilter, now: datetime | None = None) -> float:
    """How much of the period has happened (a month still running counts up to now)."""
    end = min(f.end, now or timezone.now())
    return max((end - f.start).total_seconds(), 0.0)


def utilisation(f: ReportFilter, now: datetime | None = None, raw: bool = False) -> list[dict]:
    """Unit-hour utilisation per unit: the share of its staffed time (a crew on shift on it,
    several crew members' shifts counted once) that it was committed to a job (dispatched until
    cleared or stood down), busiest first; both up to now. A unit nobody was on shift on has no
    utilisation (None), even with jobs: its staffed time is not known. The unit, station and
    district filters apply, the others do not. The closed days come from the rollups' unit-days
    (rollups.UNIT_MEASURES) unless `raw`, the rest of the period from the jobs and shifts."""
    now = now or timezone.now()
    figures: dict[int, Counter] = {}
    if f.start < min(f.end, now):
        window = replace(f, end=min(f.end, now))
        served = [] if raw else rollups.served_days(window, now=now, measure=rollups.UNITS_MARKER)
        figures = unit_figures(window, served, now)
    unit_filter, unit_params = unit_condition(f)
    units = fetch(
        "SELECT fu.id, fu.call_sign, coalesce(fs.name, '') FROM fleet_unit fu "
        f"LEFT JOIN fleet_station fs ON fs.id = fu.home_station_id WHERE {unit_filter} ORDER BY fu.call_sign",
        unit_params,
    )
    rows = [(pk, call_sign, station, figures.get(pk, Counter())) for pk, call_sign, station in units]
    # Stable: units equally busy keep the call signs' order.
    rows.sort(key=lambda row: (-row[3]["both"], -row[3]["busy"]))
    return [unit_row(*row) for row in rows]


def unit_figures(window: ReportFilter, served: list[date], now: datetime) -> dict[int, Counter]:
    """Per unit: microseconds busy, staffed and both, and the jobs, over the window: the served
    days' unit-days summed, the rest counted from the jobs and shifts in pieces (the same SQL)."""
    figures: dict[int, Counter] = {}
    first_day = timezone.localtime(window.start).date()
    # The jobs running at the window's start, once: the first served day's own count when the
    # window starts at its midnight, else the first piece's.
    starts_served = bool(served) and served[0] == first_day and local_midnight(first_day) == window.start
    if served:
        for unit, measure, n in fetch(
            f"SELECT k1, measure, sum(n_null) FROM {rollups.TABLE} WHERE day = ANY(%(days)s) "
            "AND (measure = ANY(%(additive)s) OR measure = %(running)s AND day = %(first)s) GROUP BY 1, 2",
            {
                "days": served,
                "additive": [m for m in UNIT_FIGURE if m != rollups.UNIT_JOBS_RUNNING],
                "running": rollups.UNIT_JOBS_RUNNING if starts_served else -1,
                "first": first_day,
            },
        ):
            figures.setdefault(unit, Counter())[UNIT_FIGURE[measure]] += int(n)
    pieces = [(None, a, b) for a, b in rollups.open_spans(window, served).spans]
    if pieces:
        sql, params = rollups.unit_pieces(pieces, now)
        for _day, a, unit, busy, staffed, both, jobs, running in fetch(sql, params):
            counter = figures.setdefault(unit, Counter())
            counter.update(busy=busy, staffed=staffed, both=both, jobs=jobs)
            if a == window.start and not starts_served:
                counter["jobs"] += running
    return figures


# The unit-day measures, by the figure each adds to.
UNIT_FIGURE = {
    rollups.UNIT_BUSY_US: "busy",
    rollups.UNIT_STAFFED_US: "staffed",
    rollups.UNIT_BOTH_US: "both",
    rollups.UNIT_JOBS: "jobs",
    rollups.UNIT_JOBS_RUNNING: "jobs",
}
MICROSECONDS_AN_HOUR = 3_600_000_000


def unit_row(pk: int, call_sign: str, station: str, figures: Counter) -> dict:
    busy, staffed, both = figures["busy"], figures["staffed"], figures["both"]
    return {
        "id": pk,
        "unit": call_sign,
        "station": station,
        "jobs": figures["jobs"],
        "busy_h": round(busy / MICROSECONDS_AN_HOUR, 2),
        "staffed_h": round(staffed / MICROSECONDS_AN_HOUR, 2),
        "uhu": round(both / staffed, 6) if staffed else None,
    }


def unit_condition(f: ReportFilter) -> tuple[str, dict]:
    """SQL on unit fu / station fs for the unit, station and district filters (named parameters)."""
    clauses, params = ["TRUE"], {}
    for name, column, value in (
        ("unit", "fu.id", f.unit),
        ("station", "fu.home_station_id", f.station),
        ("district", "fs.district", f.district or None),
    ):
        if value is not None:
            clauses.append(f"{column} = %({name})s")
            params[name] = value
    return " AND ".join(clauses), params


def handovers(f: ReportFilter, raw: bool = False) -> list[dict]:
    """Per receiving hospital, each unit's handover (at hospital to handover complete) over the
    incidents of the filter: count, mean (exact), median and 90th percentile (whole seconds rounded
    up), and the handover targets.
    A handover that cannot be measured (out of order, over a day, or never completed although
    the unit cleared, was stood down or the incident closed) is counted outside every target
    and shown as `unmeasured`; one still going on is not counted yet. The closed days come from
    the rollups (dispatch.reports.rollups) unless `raw`: the same figures from the rows."""
    goals = targets().get("handover", ())
    served = [] if raw or not rollups.serves(f) else rollups.served_days(f)
    rows = handover_rollups(f, served, goals) if served else handover_rows(f, goals)
    return handover_figures(f, rows, goals)


def handover_rollups(f: ReportFilter, served: list, goals: tuple) -> list[tuple]:
    """handover_rows' rows from the rollups' value counts (whole seconds) and sums of ms."""
    packed = rollups.read(f, "handover", served)
    merged = rollups.merge(packed, lambda r: r[2] if r[0] == rollups.HANDOVER else None)
    sums = rollups.merge(packed, lambda r: r[2] if r[0] == rollups.HANDOVER_MS else None)
    found = []
    for pk, name in fetch(
        "SELECT id, name FROM hospitals_hospital WHERE id = ANY(%s) ORDER BY name", [list(merged)]
    ):
        counts = merged[pk]
        measured = counts.measured
        median, p90 = counts.percentile(0.5), counts.percentile(0.9)
        found.append(
            (
                pk,
                name,
                pk,
                measured,
                counts.nulls,
                Fraction(sums.get(pk, rollups.NOTHING).total(), measured) if measured else None,
                None if median is None or p90 is None else [int(median), int(p90)],
                *(counts.within(g.within_s) for g in goals),
            )
        )
    return found


def handover_rows(f: ReportFilter, goals: tuple) -> list[tuple]:
    where, params = f.where()
    # bigint, not the numeric extract() gives: a year's sort of numerics took several times as long.
    value = (
        "CASE WHEN a.handover_at >= a.at_hospital_at "
        "AND a.handover_at - a.at_hospital_at <= interval '1 day' "
        "THEN ceil(extract(epoch FROM a.handover_at - a.at_hospital_at) * 1000)::bigint END"
    )
    finished = (
        "(a.handover_at IS NOT NULL OR a.cleared_at IS NOT NULL OR a.cancelled_at IS NOT NULL "
        "OR i.status <> 'open')"
    )
    within = "".join(f", count(*) FILTER (WHERE v <= {g.within_s * 1000})" for g in goals)
    # Grouped by the assignment's hospital_id alone and named afterwards: joining the hospitals
    # inside made PostgreSQL loop over every handover once per hospital (measured on a year of a
    # million incidents, docs/targets.md).
    rows = fetch(
        "SELECT h.id, h.name, figures.* FROM (SELECT hospital_id, count(v), count(*) - count(v), avg(v), "
        f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {ceil_s('v')}){within} FROM ("
        f"SELECT a.hospital_id, {value} AS v, {finished} AS finished FROM dispatch_assignment a "
        "JOIN dispatch_incident i ON i.id = a.incident_id "
        f"WHERE {where} AND a.at_hospital_at IS NOT NULL AND a.hospital_id IS NOT NULL) handovers "
        "WHERE v IS NOT NULL OR finished GROUP BY hospital_id) figures "
        "JOIN hospitals_hospital h ON h.id = figures.hospital_id ORDER BY h.name",
        params,
    )
    return rows


def handover_figures(f: ReportFilter, rows: list[tuple], goals: tuple) -> list[dict]:
    diverted = diversion_hours(f)
    found = []
    for pk, name, _pk, count, unmeasured, mean, pcts, *hits in rows:
        median, p90 = pcts or (None, None)
        found.append(
            {
                "hospital": pk,
                "name": name,
                "count": count,
                "unmeasured": unmeasured,
                "mean_s": seconds(float(mean)) if mean is not None else None,
                "median_s": whole_seconds(median),
                "p90_s": whole_seconds(p90),
                "targets": [
                    target_figures(g, n, count + unmeasured) for g, n in zip(goals, hits, strict=True)
                ],
                "diversion_h": diverted.pop(pk, 0.0),
            }
        )
    return found + [
        {"hospital": pk, "name": name, "count": 0, "unmeasured": 0, "diversion_h": hours}
        for pk, (name, hours) in diverted_names(diverted).items()
    ]


def diversion_hours(f: ReportFilter, now: datetime | None = None) -> dict[int, float]:
    """Hours each hospital diverted any category during the period, from its diversion
    events (the record): the state before the period starts carries into it."""
    end = min(f.end, now or timezone.now())
    events = Event.objects.filter(
        kind=EventKind.HOSPITAL_DIVERSION, hospital__isnull=False, at__lt=end
    ).order_by("seq")
    since: dict[int, datetime | None] = {}
    hours: dict[int, float] = {}
    for event in events.only("hospital_id", "at", "data"):
        pk = event.hospital_id
        assert pk is not None, "the query takes hospital events only"
        diverting = bool(event.data.get("to"))
        started = since.get(pk)
        if started is not None and not diverting:
            add_hours(hours, pk, max(started, f.start), event.at)
        if diverting and started is None:
            since[pk] = event.at
        elif not diverting:
            since[pk] = None
    for pk, started in since.items():
        if started is not None:
            add_hours(hours, pk, max(started, f.start), end)
    return {pk: round(h, 2) for pk, h in hours.items() if h > 0}


def add_hours(hours: dict[int, float], pk: int, start: datetime, end: datetime) -> None:
    if end > start:
        hours[pk] = hours.get(pk, 0.0) + (end - start).total_seconds() / 3600


def diverted_names(diverted: dict[int, float]) -> dict[int, tuple[str, float]]:
    from hospitals.models import Hospital

    names = dict(Hospital.objects.filter(pk__in=diverted).values_list("pk", "name"))
    return {pk: (names.get(pk, ""), hours) for pk, hours in diverted.items()}
