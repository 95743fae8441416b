"""The incidents behind a figure, the data-quality list, and one incident's full timeline.

Reports show no patient details: number, priority, units, hospital, clocks and who did what.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.expressions import RawSQL

from dispatch.core.event_kinds import EventKind
from dispatch.models import Event, Incident
from dispatch.reports.figures import first_target_ms, grid_cell, interval_or_error
from dispatch.reports.filters import ReportError, ReportFilter
from dispatch.reports.intervals import CLOCK_LABELS, INTERVALS, problem_text, problems
from dispatch.reports.measures import seconds
from dispatch.reports.sql import fetch
from hospitals.models import Hospital

UNITS_SENT = (
    "(SELECT string_agg(u.call_sign, ', ' ORDER BY a.dispatched_at) FROM dispatch_assignment a "
    "JOIN fleet_unit u ON u.id = a.unit_id WHERE a.incident_id = i.id AND a.cancelled_at IS NULL)"
)
HOSPITALS = (
    "(SELECT string_agg(DISTINCT h.name, ', ') FROM dispatch_assignment a "
    "JOIN hospitals_hospital h ON h.id = a.hospital_id WHERE a.incident_id = i.id AND a.cancelled_at IS NULL)"
)
COLUMNS = (
    "i.id, i.number, i.created_at, i.priority, i.status, i.report_problems, "
    + ", ".join(f"i.{iv.column}" for iv in INTERVALS)
    + f", {UNITS_SENT}, {HOSPITALS}"
)


@dataclass(frozen=True)
class Drill:
    """Which incidents of the report's filter a figure stands for.

    interval: those where it could be measured; min_s/max_s: a histogram bin, over min_s (from 0
    when min_s is 0) up to and including max_s, as figures.distribution bins whole seconds
    rounded up; over_target: the ones beyond its first target; area: a map cell (lon, lat of its
    corner, size in degrees: figures.grid's cell, figures.grid_cell); problems: the data-quality list.
    """

    interval: str = ""
    min_s: float | None = None
    max_s: float | None = None
    over_target: bool = False
    area: tuple[float, float, float] | None = None
    problems: bool = False

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        params: list = []
        if self.problems:
            clauses.append("i.report_problems <> 0")
        if self.interval:
            column = interval_or_error(self.interval).column
            clauses.append(f"i.{column} IS NOT NULL")
            if self.interval == "answer":
                clauses.append("i.call_id IS NOT NULL")  # as its charts (figures.charted)
            # On the milliseconds rounded up, ms > 1000 a exactly when t > a: the bin's incidents.
            if self.min_s:
                clauses.append(f"i.{column} > %s")
                params.append(round(self.min_s * 1000))
            if self.max_s is not None:
                clauses.append(f"i.{column} <= %s")
                params.append(round(self.max_s * 1000))
            if self.over_target:
                target = first_target_ms(self.interval)
                if target is None:
                    raise ReportError(f"{self.interval} has no target.")
                clauses.append(f"i.{column} > {target}")
        elif self.min_s is not None or self.max_s is not None or self.over_target:
            raise ReportError("Say which interval the bounds are for.")
        if self.area:
            # The cell as figures.grid numbers it (its corner is cell x size, rounded to 6
            # places), by the same expression: an incident on a border is listed in its cell.
            lon, lat, size = self.area
            gx, gy = grid_cell(size)
            clauses.append(f"i.location IS NOT NULL AND {gx} = %s AND {gy} = %s")
            params += [float(round(lon / size)), float(round(lat / size))]
        return " AND ".join(clauses) or "TRUE", params

    def order(self) -> str:
        if self.interval:
            return f"i.{interval_or_error(self.interval).column} DESC, i.id"
        return "i.created_at, i.id"


def incident_row(row: tuple) -> dict:
    pk, number, created_at, priority, status, bits, *values = row
    units, hospitals = values[len(INTERVALS) :]
    found = problems(bits or 0)
    return {
        "id": pk,
        "number": number,
        "created_at": created_at,
        "priority": priority,
        "status": status,
        "units": units or "",
        "hospitals": hospitals or "",
        "intervals": {iv.key: seconds(v) for iv, v in zip(INTERVALS, values, strict=False)},
        "problems": [{**p, "text": problem_text(p)} for p in found],
    }


def drill_sql(f: ReportFilter, drill: Drill) -> tuple[str, list]:
    where, params = f.where()
    more, more_params = drill.where()
    return f"FROM dispatch_incident i WHERE {where} AND {more}", [*params, *more_params]


def incidents(f: ReportFilter, drill: Drill, *, limit: int = 100, offset: int = 0) -> dict:
    """One page of the incidents behind a figure (the slowest first), and how many there are."""
    source, params = drill_sql(f, drill)
    ((total,),) = fetch(f"SELECT count(*) {source}", params)
    rows = fetch(
        f"SELECT {COLUMNS} {source} ORDER BY {drill.order()} LIMIT %s OFFSET %s", [*params, limit, offset]
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [incident_row(row) for row in rows]}


def all_incidents(f: ReportFilter, drill: Drill, batch: int = 5000, cap: int | None = None) -> Iterator[dict]:
    """Every incident behind a figure, oldest first, read in keyset batches (for exports)."""
    source, params = drill_sql(f, drill)
    after: tuple = ()
    sent = 0
    while cap is None or sent < cap:
        keyset = " AND (i.created_at, i.id) > (%s, %s)" if after else ""
        size = batch if cap is None else min(batch, cap - sent)
        rows = fetch(
            f"SELECT {COLUMNS} {source}{keyset} ORDER BY i.created_at, i.id LIMIT %s", [*params, *after, size]
        )
        for row in rows:
            yield incident_row(row)
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1][2], rows[-1][0])


# A destination change names its hospitals by number (from, to).
HOSPITAL_CHANGES = (EventKind.ASSIGNMENT_REDIRECTED, EventKind.ASSIGNMENT_DESTINATION)
# Event data keys a timeline may show: what changed, never patient details.
EVENT_KEYS = ("from", "to", "reason", "outcome", "unit", "call_sign", "rank", "eta_s", "clocks", "number")


def timeline(incident: Incident) -> dict:
    """Who did what, when: the incident's clocks in order, its units, and every event."""
    clocks = [
        {"clock": name, "label": str(label), "at": getattr(incident, name)}
        for name, label in CLOCK_LABELS.items()
        if getattr(incident, name, None) is not None
    ]
    clocks.sort(key=lambda c: c["at"])
    events = list(
        Event.objects.filter(Q(incident=incident)).select_related("actor", "unit", "hospital").order_by("seq")
    )
    names = hospital_names(events)
    assignments = incident.assignments.select_related("unit", "hospital").order_by("dispatched_at")
    bits = (
        Incident.objects.annotate(bits=RawSQL("report_problems", ()))
        .values_list("bits", flat=True)
        .get(pk=incident.pk)
    )
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "priority": incident.priority,
        "clocks": clocks,
        "problems": [{**p, "text": problem_text(p)} for p in problems(bits or 0)],
        "assignments": [
            {
                "unit": a.unit.call_sign,
                "hospital": a.hospital.name if a.hospital else "",
                "dispatched_at": a.dispatched_at,
                "on_scene_at": a.on_scene_at,
                "handover_at": a.handover_at,
                "cleared_at": a.cleared_at,
                "cancelled_at": a.cancelled_at,
                "cancel_reason": a.cancel_reason,
            }
            for a in assignments
        ],
        "events": [
            {
                "seq": e.seq,
                "at": e.at,
                "kind": e.kind,
                "actor": e.actor.username if e.actor else "",
                "unit": e.unit.call_sign if e.unit else "",
                "hospital": e.hospital.name if e.hospital else "",
                "data": event_data(e, names),
            }
            for e in events
        ],
    }


def hospital_names(events: list[Event]) -> dict[int, str]:
    """The names of the hospitals a destination change names by number."""
    ids = {
        e.data.get(key)
        for e in events
        if e.kind in HOSPITAL_CHANGES
        for key in ("from", "to")
        if isinstance(e.data.get(key), int)
    }
    return dict(Hospital.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def event_data(event: Event, names: dict[int, str]) -> dict:
    """What the timeline shows of an event's data: EVENT_KEYS only, a destination change's
    hospitals by name."""
    data = {k: event.data[k] for k in EVENT_KEYS if k in event.data and not isinstance(event.data[k], dict)}
    if event.kind in HOSPITAL_CHANGES:
        for key in ("from", "to"):
            if isinstance(data.get(key), int):
                data[key] = names.get(data[key], "")
    return data
