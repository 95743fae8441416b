"""Per dispatcher and per seat, for the supervisor: calls answered, incidents dispatched, the
median call processing of those incidents, and overrides of the recommendation.

- A call counts for whoever answered it (Call.answered_by), in the period of its ring (the
  incident filters do not apply to calls, as in dispatch.reports.calls).
- An incident counts for whoever sent its first unit (the dispatch that stopped its processing
  clock), with its processing interval (answer to first unit dispatched); its median in whole
  seconds rounded up (the exact median rounded up, as the rollups hold it: decision 0021).
- An override is a unit sent other than the first recommended (Assignment.recommended_rank > 1,
  whose reason the dispatch requires): how many, the reasons given, the median rank, the median
  ETA of the unit chosen, and how much slower it was than the top pick: the chosen unit's ETA
  minus the first recommended unit's, both recorded at dispatch from the server's own ranking
  (Assignment.eta_at_dispatch_s, top_pick_eta_s; dispatch.incidents.actions.override_etas).
  The median difference is over the overrides whose top pick's ETA is known (`override_eta_known`);
  each override is listed with its own difference (the most recent OVERRIDES_SHOWN a person).
- A seat's figures are what was done by whoever was signed on to it at that moment
  (dispatch.models.SeatSession); what was done signed on to no seat has a row of its own.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings

from dispatch.models import Seat, SeatSession, User
from dispatch.reports import rollups
from dispatch.reports.filters import ReportFilter
from dispatch.reports.measures import whole_seconds
from dispatch.reports.rollups import ceil_s
from dispatch.reports.sql import fetch

FIRST_ASSIGNMENT = (
    "(SELECT a.dispatched_by_id, a.dispatched_at FROM dispatch_assignment a WHERE a.incident_id = i.id "
    "ORDER BY a.dispatched_at, a.id LIMIT 1)"
)
# How many of one person's override reasons the report lists (the most frequent first).
REASONS_SHOWN = 5
# How many of one person's overrides the report lists one by one (the most recent first).
OVERRIDES_SHOWN = 20
# SQL: how many seconds slower the unit chosen was than the top pick (negative: faster; NULL
# when either ETA is unknown).
SLOWER = "a.eta_at_dispatch_s - a.top_pick_eta_s"


def deeds(f: ReportFilter) -> tuple[str, list]:
    """SQL: one row per call answered, incident dispatched and override, with who, when and
    the figures each brings, and the seat its doer was signed on to then."""
    where, params = f.where()
    call_clauses = ["c.ringing_at >= %s", "c.ringing_at < %s"]
    call_params: list = [f.start, f.end]
    if f.hour is not None:
        call_clauses.append("extract(hour FROM c.ringing_at AT TIME ZONE %s) = %s")
        call_params += [settings.TIME_ZONE, f.hour]
    sessions = SeatSession._meta.db_table
    sql = (
        "SELECT d.*, (SELECT ss.seat_id FROM "
        f"{sessions} ss WHERE ss.user_id = d.user_id AND ss.signed_on_at <= d.at "
        "AND (ss.signed_off_at IS NULL OR ss.signed_off_at > d.at) "
        "ORDER BY ss.signed_on_at DESC LIMIT 1) AS seat_id "
        "FROM ("
        "SELECT 'call' AS what, c.answered_by_id AS user_id, coalesce(c.answered_at, c.ringing_at) AS at, "
        "NULL::integer AS processing, NULL::integer AS rank, NULL::float8 AS eta, NULL::float8 AS slower, "
        "'' AS reason "
        f"FROM dispatch_call c WHERE c.answered_by_id IS NOT NULL AND {' AND '.join(call_clauses)} "
        "UNION ALL SELECT 'dispatch', fa.dispatched_by_id, fa.dispatched_at, i.report_processing_ms, "
        "NULL, NULL, NULL, '' "
        f"FROM dispatch_incident i CROSS JOIN LATERAL {FIRST_ASSIGNMENT} fa "
        f"WHERE fa.dispatched_by_id IS NOT NULL AND {where} "
        "UNION ALL SELECT 'override', a.dispatched_by_id, a.dispatched_at, NULL, a.recommended_rank, "
        f"a.eta_at_dispatch_s, {SLOWER}, a.override_reason FROM dispatch_assignment a "
        f"JOIN dispatch_incident i ON i.id = a.incident_id WHERE a.dispatched_by_id IS NOT NULL "
        f"AND a.recommended_rank > 1 AND {where}) d"
    )
    return sql, [*call_params, *params, *params]


def people(f: ReportFilter, raw: bool = False) -> dict:
    """{"dispatchers": [...], "seats": [...]}, each row with its figures, most incidents first.
    The closed days come from the rollups (dispatch.reports.rollups) unless `raw`: the same
    figures, counted from the rows."""
    served = [] if raw or not rollups.serves(f) else rollups.served_days(f)
    if served:
        rows, reasons = rolled_up(f, served)
    else:
        rows, reasons = from_rows(f)
    return named(f, rows, reasons)


def from_rows(f: ReportFilter) -> tuple[list[tuple], dict[int, list[dict]]]:
    sql, params = deeds(f)
    rows = fetch(
        "SELECT grouping(user_id), user_id, seat_id, count(*) FILTER (WHERE what = 'call'), "
        "count(*) FILTER (WHERE what = 'dispatch'), "
        f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {ceil_s('processing')}), "
        "count(*) FILTER (WHERE what = 'override'), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY rank), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY eta), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY slower), count(slower) "
        f"FROM ({sql}) deeds GROUP BY GROUPING SETS ((user_id), (seat_id))",
        params,
    )
    return rows, override_reasons(sql, params)


def rolled_up(f: ReportFilter, served: list) -> tuple[list[tuple], dict[int, list[dict]]]:
    """The rows from_rows gives, from the rollups' value counts: per measure and (who | seat)."""
    packed = rollups.read(f, "people", served)
    merged = {
        **rollups.merge(packed, lambda r: (r[0], 0, r[2])),
        **rollups.merge(packed, lambda r: (r[0], 1, r[3])),
    }
    groups: dict[tuple[int, int | None], dict[int, rollups.Counts]] = defaultdict(dict)
    for (measure, grouped, k), counts in merged.items():
        groups[(grouped, k)][measure] = counts
    result = []
    for (grouped, k), measures in groups.items():
        calls, dispatched, rank, eta, slower = (measures.get(m) for m in rollups.PEOPLE)
        processing = dispatched.percentile(0.5) if dispatched else None
        rank_median = rank.percentile(0.5) if rank else None
        result.append(
            (
                grouped,
                k if grouped == 0 else None,
                k if grouped == 1 else None,
                calls.rows if calls else 0,
                dispatched.rows if dispatched else 0,
                None if processing is None else int(processing),
                rank.rows if rank else 0,
                None if rank_median is None else int(rank_median),
                eta.percentile(0.5) if eta else None,
                slower.percentile(0.5) if slower else None,
                slower.measured if slower else 0,
            )
        )
    return result, rolled_up_reasons(packed)


def rolled_up_reasons(packed: list[tuple]) -> dict[int, list[dict]]:
    """override_reasons from the rollups: the most frequent first, then in the database's order."""
    overrides = rollups.merge(packed, lambda r: (r[2], r[4]) if r[0] == rollups.PEOPLE_RANK else None)
    labels = sorted({label for _user, label in overrides})
    order = {
        label: n
        for n, (label,) in enumerate(fetch("SELECT l FROM unnest(%s::text[]) l ORDER BY l", [labels]))
    }
    found: dict[int, list[dict]] = defaultdict(list)
    for (user_id, reason), counts in sorted(
        overrides.items(), key=lambda kv: (kv[0][0], -kv[1].rows, order[kv[0][1]])
    ):
        if len(found[user_id]) < REASONS_SHOWN:
            found[user_id].append({"reason": reason, "count": counts.rows})
    return dict(found)


def named(f: ReportFilter, rows: list[tuple], reasons: dict[int, list[dict]]) -> dict:
    names = dict(User.objects.filter(pk__in={r[1] for r in rows if r[1]}).values_list("pk", "username"))
    seats = dict(Seat.objects.filter(pk__in={r[2] for r in rows if r[2]}).values_list("pk", "name"))
    dispatchers, by_seat = [], []
    listed = override_list(f, (r[1] for r in rows if r[0] == 0 and r[1] and r[6]))
    for row in rows:
        by_user_set, user_id, seat_id, calls, dispatched, processing, overrides, *medians, known = row
        rank, eta, slower = medians
        figures = {
            "calls_answered": calls,
            "incidents_dispatched": dispatched,
            "processing_median_s": whole_seconds(processing),
            "overrides": overrides,
            "override_rank_median": rank,
            "override_eta_median_s": round(eta, 1) if eta is not None else None,
            "override_slower_median_s": round(slower, 1) if slower is not None else None,
            "override_eta_known": known,
        }
        if by_user_set == 0:
            dispatchers.append(
                {
                    "user": user_id,
                    "name": names.get(user_id, ""),
                    **figures,
                    "reasons": reasons.get(user_id, []),
                    "override_list": listed.get(user_id, []),
                }
            )
        else:
            by_seat.append({"seat": seat_id, "name": seats.get(seat_id, "") if seat_id else "", **figures})
    order = lambda row: (-row["incidents_dispatched"], -row["calls_answered"], row["name"])  # noqa: E731
    return {"dispatchers": sorted(dispatchers, key=order), "seats": sorted(by_seat, key=order)}


def override_reasons(sql: str, params: list) -> dict[int, list[dict]]:
    """Each person's override reasons, as typed, with how often: the most frequent first."""
    found: dict[int, list[dict]] = defaultdict(list)
    for user_id, reason, count in fetch(
        f"SELECT user_id, reason, count(*) FROM ({sql}) deeds WHERE what = 'override' "
        "GROUP BY user_id, reason ORDER BY user_id, 3 DESC, reason",
        params,
    ):
        if len(found[user_id]) < REASONS_SHOWN:
            found[user_id].append({"reason": reason, "count": count})
    return dict(found)


def override_list(f: ReportFilter, users: Iterable[int]) -> dict[int, list[dict]]:
    """Each person's overrides one by one, the most recent first (OVERRIDES_SHOWN of them): the
    incident, the unit chosen and its rank, both ETAs and the difference, the reason. `users`
    are those with overrides in the period (from the figures): each one's are walked newest
    first on the index assignment_report_overrides (migration 0028), stopping at the few shown."""
    wanted = sorted(set(users))
    if not wanted:
        return {}
    where, params = f.where()
    found: dict[int, list[dict]] = defaultdict(list)
    for user_id, assignment, number, dispatched_at, unit, rank, eta, top, slower, reason in fetch(
        "SELECT o.* FROM unnest(%s::bigint[]) who(id) CROSS JOIN LATERAL ("
        "SELECT a.dispatched_by_id, a.id, i.number, a.dispatched_at, u.call_sign, "
        f"a.recommended_rank, a.eta_at_dispatch_s, a.top_pick_eta_s, {SLOWER}, a.override_reason "
        "FROM dispatch_assignment a JOIN dispatch_incident i ON i.id = a.incident_id "
        "JOIN fleet_unit u ON u.id = a.unit_id "
        "WHERE a.dispatched_by_id = who.id AND a.dispatched_by_id IS NOT NULL AND a.recommended_rank > 1 "
        f"AND {where} ORDER BY a.dispatched_at DESC, a.id DESC LIMIT %s) o",
        [wanted, *params, OVERRIDES_SHOWN],
    ):
        found[user_id].append(
            {
                "assignment": assignment,
                "incident": number,
                "dispatched_at": dispatched_at,
                "unit": unit,
                "rank": rank,
                "eta_s": tenths(eta),
                "top_pick_eta_s": tenths(top),
                "slower_s": tenths(slower),
                "reason": reason,
            }
        )
    return dict(found)


def tenths(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
