"""A recent history for the demo city: the last days of a working centre, so the reports and
the wallboard show a real centre at once (docs/decisions/0018-demo-history.md).

One discrete-event simulation makes the whole history: every call rings, is answered (or
abandoned) and ends; every incident is located, triaged, sent a unit, moved through the unit's
statuses and closed, each step at its simulated moment, in time order. Where each step lands in
the database depends only on its moment:

- The most recent `action_days` (a quarter-day by default) run through the actions a shift uses
  (dispatch.calls.actions.record_call_event, take_call; the incidents' and units' actions) under
  a simulated clock (`SimulatedClock`: `django.utils.timezone.now()` answers the step's moment),
  one transaction per simulated day. The rows, clocks, events and report columns are the
  actions' own.
- The days before that are written in bulk (`BulkWriter`), in one transaction: the same steps
  of the same simulation (same event plan, complaint mix, units and hospitals) write the rows the
  actions would write (Call, Incident with its clocks, Assignment with its clocks, and every
  event with the actions' own payloads, numbered by the event counter in time order) without
  running the actions: about 1 ms a call instead of about 100. The report columns are
  PostgreSQL's generated columns (migrations 0008 and 0020), so bulk rows get them exactly as
  action rows do. The simulation hands over from the bulk writer to the actions at one simulated
  moment: whatever is under way then (calls ringing, incidents open, units on a job) is written
  as it stands, with the units' statuses, and the actions take it from there.

What the bulk days lack: the actions' checks (refusals cannot happen in a plan that never asks
for a forbidden step), the crew alerts' outbox rows (nobody is owed an alert for a past job)
and the doorbells (nobody watches a past day; screens read the log anyway).

What it looks like (docs/targets.md, the simulator's mix, dispatch.demo.simulator):
- calls at the simulator's rate (20 an hour by default) on its hour-of-day curve, priorities
  drawn from its complaint mix;
- about 4% of callers hang up before anyone answers, about 2% wait longer than 10 s;
- processing 30 to 90 s, a few slow; turnout 20 to 75 s, a few late; road travel from the
  nearest free unit's station at ambulance speed, so the far districts run late; one patient in
  seven treated on scene, the others taken to the nearest suitable hospital.

Calls stop three hours before now, so every job is over by the time it returns; the units end
where they were (available at their stations). A history is there when calls from the
HISTORY_PROVIDER exist: a second run adds nothing unless forced.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Protocol
from unittest import mock

from django.apps import apps
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import JSONField, Model
from django.test.utils import override_settings
from django.utils import timezone

from dispatch.calls.actions import call_summary, e164, record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.core.event_kinds import EventKind
from dispatch.demo.crews import staff_units
from dispatch.demo.simulator import COMPLAINTS, Complaint, draw_complaint, hourly_rate
from dispatch.incidents.actions import (
    close_incident,
    dispatch_unit,
    incident_number,
    incident_summary,
    locate_incident,
    triage_incident,
)
from dispatch.models import Assignment, Call, CallStatus, Event, Incident, IncidentStatus, Place, Role, User
from dispatch.reports import rollups
from dispatch.units.actions import FREE_STATUSES, STATUS_CLOCKS, set_unit_status
from fleet.models import CrewShift, Unit, UnitStatus
from hospitals.models import Hospital

# The calls of a history carry this provider (and ids "<run>-<n>"): how a history is recognised.
HISTORY_PROVIDER = "demo-history"
HISTORY_DISPATCHERS = ("history-dispatcher-1", "history-dispatcher-2", "history-dispatcher-3")
# The simulator's default rate (manage.py simulate --calls-per-hour, make demo).
DEFAULT_CALLS_PER_HOUR = 20.0
# What `make demo` loads: two months at the city's rate (28,800 calls), measured on the demo
# city (40 units) on this 2-core machine in docs/decisions/0018-demo-history.md.
DEFAULT_DAYS = 60.0
# The most recent part made by the actions themselves (about 100 ms a call; the rest in bulk).
DEFAULT_ACTION_DAYS = 0.25
STOP_BEFORE_NOW = timedelta(hours=3)
ABANDON_SHARE = 0.04
SLOW_ANSWER_SHARE = 0.02
SLOW_PROCESSING_SHARE = 0.04
LATE_TURNOUT_SHARE = 0.03
TREATED_ON_SCENE_SHARE = 1 / 7
AMBULANCE_KMH = 38.0
SIREN_KMH = 55.0  # under lights and sirens: priority I and II to the scene
ROAD_FACTOR = 1.35  # road distance over the straight line (docs/targets.md)
QUEUE_RETRY_S = 60  # an incident no free unit can take is offered again this often


class Progress(Protocol):
    """Where the progress bar goes (stderr, or a command's)."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> None: ...


class SimulatedClock:
    """What `django.utils.timezone.now()` answers while the history runs."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


# The real clock, as the models' `default=timezone.now` fields hold it.
REAL_NOW = timezone.now


@contextmanager
def simulated(clock: SimulatedClock) -> Iterator[SimulatedClock]:
    """Run the actions under this clock: every `timezone.now()` reads it, the actions' and the
    models' defaults (Event.at, Call.ringing_at...), which hold the function itself and so are
    switched one by one. No channel layer meanwhile: the actions' doorbells (one Redis message
    per event after each commit, a quarter of the actions' time) would tell live screens about
    a past nobody watches; a screen open meanwhile reads the log anyway (docs/architecture.md,
    "The event log and the live socket")."""
    defaults = [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.default is REAL_NOW
    ]
    with mock.patch("django.utils.timezone.now", clock.now), override_settings(CHANNEL_LAYERS={}):
        try:
            for field in defaults:
                set_default(field, clock.now)
            yield clock
        finally:
            for field in defaults:
                set_default(field, REAL_NOW)


def set_default(field: Any, default: Callable[[], datetime]) -> None:
    field.default = default
    field.__dict__.pop("_get_default", None)  # Field caches what its default returns


@dataclass
class HistoryResult:
    calls: int = 0
    abandoned: int = 0
    incidents: int = 0
    queued: int = 0
    seconds: float = 0.0
    skipped: bool = False
    start: datetime | None = None
    end: datetime | None = None
    # From this moment on the actions made the history; before it, the bulk writer.
    actions_from: datetime | None = None
    bulk_calls: int = 0
    run: str = ""  # the calls' ids are "<run>-<n>"


@dataclass
class SimUnit:
    unit: Unit
    home: tuple[float, float]
    crew: User | None
    free: bool = True
    # What the bulk writer knows of the unit (the actions keep it in the database).
    status: str = UnitStatus.AVAILABLE
    changed_at: datetime | None = None
    live: Assignment | None = None


@dataclass
class Job:
    """One call's life: what the simulation decided, and the rows it made."""

    n: int
    call_id: str
    rang: datetime
    caller: str
    dispatcher: User | None = None
    scene: tuple[float, float] = (0.0, 0.0)
    call: Call | None = None
    incident: Incident | None = None


# A step: its moment, its place in the order it was planned (ties), and what it does.
Step = tuple[datetime, int, Callable[[], object]]


def has_history() -> bool:
    return Call.objects.filter(provider=HISTORY_PROVIDER).exists()


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def history_dispatchers() -> list[User]:
    """The history's dispatchers: accounts of their own, without a password (nobody signs in)."""
    found = []
    for username in HISTORY_DISPATCHERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, role=Role.DISPATCHER, first_name="历史调度员")
        found.append(user)
    return found


# ---------------------------------------------------------------------------------- the writers


class Writer(Protocol):
    """Where a step lands: through the actions, or in bulk. Both take the same steps."""

    def ring(self, job: Job) -> None: ...

    def end_call(self, job: Job, at: datetime) -> None: ...

    def answer(self, job: Job, at: datetime) -> None: ...

    def locate(self, job: Job, point: Point, source: str, address: str) -> None: ...

    def triage(self, job: Job, complaint: Complaint) -> None: ...

    def dispatch(self, job: Job, unit: SimUnit, hospital: Hospital | None) -> None: ...

    def status(self, unit: SimUnit, status: str) -> None: ...

    def close(self, job: Job, outcome: str) -> None: ...


class ActionWriter:
    """Each step through its action, under the simulated clock."""

    def ring(self, job: Job) -> None:
        event = CallEvent(HISTORY_PROVIDER, job.call_id, CallEventKind.RINGING, job.rang, job.caller)
        job.call = record_call_event(event)

    def end_call(self, job: Job, at: datetime) -> None:
        record_call_event(CallEvent(HISTORY_PROVIDER, job.call_id, CallEventKind.ENDED, at))

    def answer(self, job: Job, at: datetime) -> None:
        assert job.call is not None and job.dispatcher is not None
        take_call(job.call, actor=job.dispatcher, at=at)
        job.incident = Incident.objects.get(call=job.call)

    def locate(self, job: Job, point: Point, source: str, address: str) -> None:
        assert job.incident is not None
        locate_incident(job.incident, point, actor=job.dispatcher, source=source, address=address)

    def triage(self, job: Job, complaint: Complaint) -> None:
        assert job.incident is not None
        triage_incident(
            job.incident,
            actor=job.dispatcher,
            priority=complaint.priority,
            chief_complaint=complaint.name,
            capability=complaint.capability,
        )

    def dispatch(self, job: Job, unit: SimUnit, hospital: Hospital | None) -> None:
        assert job.incident is not None
        dispatch_unit(job.incident, unit.unit, actor=job.dispatcher, hospital=hospital, recommended_rank=1)

    def status(self, unit: SimUnit, status: str) -> None:
        set_unit_status(unit.unit, status, actor=unit.crew)

    def close(self, job: Job, outcome: str) -> None:
        assert job.incident is not None
        close_incident(job.incident, actor=job.dispatcher, outcome=outcome)


class NoIncident:
    """call_summary's "no incident" (a call nobody answered) without the query it would make."""

    pk = None
    number = ""


NO_INCIDENT: Any = NoIncident()
# The event log's columns, in the order BulkWriter copies them (tests check they are all of them).
EVENT_COLUMNS = ("seq", "at", "kind", "actor_id", "incident_id", "unit_id", "hospital_id", "data")
# Fields whose values need their field's preparation to be copied (the rest are plain values).
PREPARED_FIELDS = (JSONField, GeometryField)
# Ids are taken from the tables' own sequences this many at a time (the rest of a block is a gap).
ID_BLOCK = 500


class BulkWriter:
    """Each step writes, in memory, what its action would write: the rows as the action leaves
    them (the same fields, the same clocks) and its event with the action's own payload (the
    actions' serialisers: incident_summary, call_summary). Rows that reached their last state
    and the day's events are written at each simulated midnight (by COPY; the events numbered
    by the event counter in time order); `flush(final=True)` writes the
    rest as it stands, with the units' statuses, for the actions to take over. The caller holds
    one transaction around all of it."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.events: list[tuple] = []
        self.open: dict[tuple[type[Model], int], Model] = {}
        self.done: dict[type[Model], list[Model]] = {Call: [], Incident: [], Assignment: []}
        self.ids: dict[type[Model], list[int]] = {}
        self.units: dict[int, SimUnit] = {}
        self.events_written = 0

    # ---- the steps: each mirrors its action (named beside it)

    def ring(self, job: Job) -> None:
        """dispatch.calls.actions.record_call_event (ringing): the call row and call.ringing."""
        call = Call(
            pk=self.next_id(Call),
            provider=HISTORY_PROVIDER,
            provider_call_id=job.call_id,
            caller_number=e164(job.caller).strip(),
            called_number="",
            status=CallStatus.RINGING,
            ringing_at=job.rang,
        )
        job.call = self.keep(call)
        self.event(EventKind.CALL_RINGING, data=call_summary(call, NO_INCIDENT))

    def end_call(self, job: Job, at: datetime) -> None:
        """record_call_event (ended): missed when nobody answered, ended otherwise."""
        call = job.call
        assert call is not None
        if call.status not in (CallStatus.RINGING, CallStatus.ANSWERED):
            return
        call.status = CallStatus.MISSED if call.status == CallStatus.RINGING else CallStatus.ENDED
        call.ended_at = max(at, call.answered_at or at)
        self.event(
            EventKind.CALL_ENDED, incident=job.incident, data=call_summary(call, job.incident or NO_INCIDENT)
        )
        self.finish(call)

    def answer(self, job: Job, at: datetime) -> None:
        """take_call, with create_incident inside it."""
        call, actor, now = job.call, job.dispatcher, self.clock.at
        assert call is not None and actor is not None
        call.status, call.answered_at, call.answered_by = CallStatus.ANSWERED, at, actor
        pk = self.next_id(Incident)
        incident = Incident(
            pk=pk,
            number=incident_number(pk, now),
            status=IncidentStatus.OPEN,
            caller_number=call.caller_number,
            created_by=actor,
            created_at=now,
            call_received_at=call.ringing_at or now,
            call_answered_at=call.answered_at or now,
        )
        job.incident = self.keep(incident)
        self.event(
            EventKind.INCIDENT_CREATED, actor=actor, incident=incident, data=incident_summary(incident)
        )
        incident.call = call
        self.event(EventKind.CALL_ANSWERED, actor=actor, incident=incident, data=call_summary(call, incident))

    def locate(self, job: Job, point: Point, source: str, address: str) -> None:
        """locate_incident: the first confirmation starts its clock."""
        incident = job.incident
        assert incident is not None
        incident.location, incident.location_source, incident.location_accuracy_m = point, source, None
        incident.address = address.strip() or incident.address
        incident.place = None
        incident.location_confirmed_at = incident.location_confirmed_at or self.clock.at
        self.event(
            EventKind.INCIDENT_LOCATED,
            actor=job.dispatcher,
            incident=incident,
            data=incident_summary(incident),
        )

    def triage(self, job: Job, complaint: Complaint) -> None:
        """triage_incident: the first triage starts its clock."""
        incident = job.incident
        assert incident is not None
        incident.priority = complaint.priority
        incident.chief_complaint = complaint.name.strip()
        incident.capability_needed = complaint.capability.strip()
        incident.triage_answers = {}
        incident.triaged_at = incident.triaged_at or self.clock.at
        self.event(
            EventKind.INCIDENT_TRIAGED,
            actor=job.dispatcher,
            incident=incident,
            data=incident_summary(incident),
        )

    def dispatch(self, job: Job, unit: SimUnit, hospital: Hospital | None) -> None:
        """dispatch_unit, the top recommendation (rank 1): the unit claimed, the job's row, the
        incident's dispatch clock when it is the first unit."""
        incident, now = job.incident, self.clock.at
        assert incident is not None
        assignment = Assignment(
            pk=self.next_id(Assignment),
            incident=incident,
            unit=unit.unit,
            hospital=hospital,
            dispatched_by=job.dispatcher,
            recommended_rank=1,
            override_reason="",
            dispatched_at=now,
        )
        self.keep(assignment)
        if incident.dispatched_at is None:
            incident.dispatched_at = now
        self.claim(unit, UnitStatus.DISPATCHED)
        unit.live = assignment
        data = {
            "assignment": assignment.pk,
            "incident": incident_summary(incident),
            "unit": unit.unit.call_sign,
            "hospital": hospital.pk if hospital else None,
            "eta_s": None,
            "rank": 1,
        }
        self.event(
            EventKind.ASSIGNMENT_CREATED,
            actor=job.dispatcher,
            incident=incident,
            unit=unit.unit,
            hospital=hospital,
            data=data,
        )

    def status(self, unit: SimUnit, status: str) -> None:
        """set_unit_status: the status and the clocks it stamps (stamp_clocks)."""
        current, assignment = unit.status, unit.live
        self.claim(unit, status)
        stamped = self.stamp(assignment, current, status) if assignment else []
        data = {
            "from": current,
            "to": status,
            "call_sign": unit.unit.call_sign,
            "assignment": assignment.pk if assignment else None,
            "clocks": stamped,
            "client_time": None,
        }
        self.event(
            EventKind.UNIT_STATUS,
            actor=unit.crew,
            unit=unit.unit,
            incident=assignment.incident if assignment else None,
            hospital=assignment.hospital if assignment else None,
            data=data,
        )
        if assignment and assignment.cleared_at:
            unit.live = None
            self.finish(assignment)

    def close(self, job: Job, outcome: str) -> None:
        """close_incident."""
        incident = job.incident
        assert incident is not None
        incident.status, incident.outcome, incident.closed_at = IncidentStatus.CLOSED, outcome, self.clock.at
        self.event(
            EventKind.INCIDENT_CLOSED, actor=job.dispatcher, incident=incident, data={"outcome": outcome}
        )
        self.finish(incident)

    # ---- what the actions' helpers do

    def claim(self, unit: SimUnit, status: str) -> None:
        """dispatch.units.actions.claim_status."""
        unit.status, unit.changed_at = status, self.clock.at
        self.units[unit.unit.pk] = unit

    def stamp(self, assignment: Assignment, current: str, new: str) -> list[str]:
        """dispatch.units.actions.stamp_clocks: the job's clocks this status starts, and the
        incident's where it has none yet (the first unit's)."""
        now = self.clock.at
        fields: dict[str, datetime] = {}
        if new in STATUS_CLOCKS:
            fields[STATUS_CLOCKS[new]] = now
        if new in FREE_STATUSES:
            if current == UnitStatus.AT_HOSPITAL:
                fields["handover_at"] = now
            fields["cleared_at"] = now
        unset = {name: value for name, value in fields.items() if getattr(assignment, name) is None}
        incident = assignment.incident
        for name, value in unset.items():
            setattr(assignment, name, value)
            on_incident = {"cleared_at": "unit_available_at"}.get(name, name)
            if getattr(incident, on_incident) is None:
                setattr(incident, on_incident, value)
        return list(unset)

    def event(
        self,
        kind: str,
        *,
        actor: User | None = None,
        incident: Incident | None = None,
        unit: Unit | None = None,
        hospital: Hospital | None = None,
        data: dict[str, Any],
    ) -> None:
        """dispatch.core.events.record_event: numbered when written (flush)."""
        self.events.append(
            (
                self.clock.at,
                kind,
                actor.pk if actor and actor.pk else None,
                incident.pk if incident else None,
                unit.pk if unit else None,
                hospital.pk if hospital else None,
                json.dumps(data, ensure_ascii=False),
            )
        )

    # ---- rows and ids

    def next_id(self, model: type[Model]) -> int:
        """The next id from the table's own sequence (taken a block at a time)."""
        pool = self.ids.setdefault(model, [])
        if not pool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [model._meta.db_table, ID_BLOCK],
                )
                pool.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return pool.pop()

    def keep(self, row: Any) -> Any:
        self.open[type(row), row.pk] = row
        return row

    def finish(self, row: Model) -> None:
        """A row in its last state: written at the next flush."""
        del self.open[type(row), row.pk]
        self.done[type(row)].append(row)

    def flush(self, final: bool = False) -> None:
        """Write what is ready: the finished rows and the events so far; with `final`, every
        row as it stands and the units' statuses too (the actions take over from here)."""
        if final:
            for (model, _), row in self.open.items():
                self.done[model].append(row)
            self.open.clear()
        for model, rows in self.done.items():
            copy_rows(model, rows)
            rows.clear()
        self.write_events()
        if final:
            for sim in self.units.values():
                assert sim.changed_at is not None  # claimed in bulk: claim() set it
                Unit.objects.filter(pk=sim.unit.pk).update(
                    status=sim.status, status_changed_at=sim.changed_at
                )
                sim.unit.status, sim.unit.status_changed_at = sim.status, sim.changed_at
            self.units.clear()

    def write_events(self) -> None:
        """The events so far, numbered in time order by the counter row (as record_event numbers
        them: gap-free, the row locked until the transaction commits)."""
        count = len(self.events)
        if not count:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO dispatch_eventcounter (id, last_seq) VALUES (1, %s) ON CONFLICT (id) "
                "DO UPDATE SET last_seq = dispatch_eventcounter.last_seq + %s RETURNING last_seq",
                [count, count],
            )
            first = cursor.fetchone()[0] - count + 1
            table = Event._meta.db_table
            with cursor.copy(f"COPY {table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for seq, row in enumerate(self.events, first):
                    copy.write_row((seq, *row))
        self.events_written += count
        self.events.clear()


def copy_rows(model: type[Model], rows: list[Model]) -> None:
    """Rows by COPY, every column of the model (a field added later is copied too, with the
    value or default its instance holds). Plain values go as they are; JSON and geometry through
    their fields' own preparation, as Django's INSERT would send them."""
    if not rows:
        return
    fields = model._meta.concrete_fields
    plan = [(f.attname, f if isinstance(f, PREPARED_FIELDS) else None) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for attname, field in plan:
                value = getattr(row, attname)
                if field is not None:
                    value = field.get_db_prep_save(value, connection)
                elif isinstance(value, Enum):
                    value = value.value  # a choice: its value, as Django writes it
                values.append(value)
            copy.write_row(values)


# ---------------------------------------------------------------------------------- the simulation


class History:
    """One run: the steps in a heap, in time order, each one writer's step under the clock."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        calls_per_hour: float,
        seed: int,
        progress: Progress | None,
        actions_from: datetime | None = None,
    ) -> None:
        self.start, self.end = start, end
        # None: all of it in bulk.
        self.actions_from = actions_from
        self.calls_per_hour = calls_per_hour
        self.rng = random.Random(seed)
        # Unique per run (two forced runs within a second must not collide on the call ids).
        self.run_id = f"{seed}-{time.time_ns() // 1000}"
        self.progress = progress
        self.steps: list[Step] = []
        self.order = itertools.count()
        self.result = HistoryResult(start=start, end=end, actions_from=actions_from, run=self.run_id)
        self.day_atomic: transaction.Atomic | None = None
        self.clock = SimulatedClock(start)
        in_bulk = actions_from is None or actions_from > start
        self.bulk: BulkWriter | None = BulkWriter(self.clock) if in_bulk else None
        self.writer: Writer = self.bulk or ActionWriter()
        units = list(
            Unit.objects.filter(status=UnitStatus.AVAILABLE, home_station__isnull=False)
            .select_related("home_station")
            .order_by("pk")
        )
        staff_units(units)
        crews = {shift.unit_id: shift.user for shift in CrewShift.objects.current().select_related("user")}
        self.units = [
            SimUnit(u, (u.home_station.location.x, u.home_station.location.y), crews.get(u.pk)) for u in units
        ]
        self.hospitals = [(h, (h.location.x, h.location.y)) for h in Hospital.objects.order_by("pk")]
        self.places = list(Place.objects.exclude(kind="road").order_by("pk").values_list("name", "point"))
        self.dispatchers = history_dispatchers()
        self.nearest: dict[tuple[float, float], list[SimUnit]] = {}

    # ------------------------------------------------------------------ the loop

    def at(self, moment: datetime, run: Callable[[], object]) -> None:
        heapq.heappush(self.steps, (moment, next(self.order), run))

    def arrivals(self) -> Iterator[datetime]:
        """Call times: a Poisson process per local hour at the simulator's curve."""
        hour = self.start
        while hour < self.end:
            rate = hourly_rate(self.calls_per_hour, timezone.localtime(hour).hour)
            count = poisson(self.rng, rate)
            for offset in sorted(self.rng.uniform(0, 3600) for _ in range(count)):
                moment = hour + timedelta(seconds=offset)
                if moment < self.end:
                    yield moment
            hour += timedelta(hours=1)

    def run(self) -> HistoryResult:
        began = time.monotonic()
        with simulated(self.clock):
            try:
                self.loop(began)
            except BaseException as exc:
                self.commit_day(exc)
                raise
            self.commit_day()
        self.result.seconds = round(time.monotonic() - began, 1)
        if self.progress:
            self.show(1.0, began)
            self.progress.write("\n")
        return self.result

    def loop(self, began: float) -> None:
        """Every step in time order. The bulk part is one transaction, written at each simulated
        midnight and handed over at `actions_from`; then one transaction per simulated day (the
        actions' own become savepoints in it: a day commits once)."""
        total_s = (self.end - self.start).total_seconds()
        calls = self.arrivals()
        upcoming = next(calls, None)
        next_day: datetime | None = None  # the next local midnight
        shown = 0.0
        action: Callable[[], object]
        if self.bulk is not None:
            self.begin()
        while upcoming is not None or self.steps:
            if upcoming is not None and (not self.steps or upcoming <= self.steps[0][0]):
                moment, action = upcoming, self.new_call(upcoming)
                upcoming = next(calls, None)
            else:
                moment, _order, action = heapq.heappop(self.steps)
            self.clock.at = moment
            if self.bulk is not None and self.actions_from is not None and moment >= self.actions_from:
                self.hand_over()
                next_day = None
            if next_day is None or moment >= next_day:
                if self.bulk is not None:
                    self.bulk.flush()
                else:
                    self.commit_day()
                    self.begin()
                next_day = local_midnight_after(moment)
            action()
            if self.progress and time.monotonic() - shown > 0.25:
                shown = time.monotonic()
                self.show(min((moment - self.start).total_seconds() / total_s, 1.0), began)
        if self.bulk is not None:
            self.hand_over()

    def hand_over(self) -> None:
        """End of the bulk part: write everything as it stands and commit; the actions go on."""
        assert self.bulk is not None
        self.bulk.flush(final=True)
        self.commit_day()
        self.bulk = None
        self.writer = ActionWriter()

    def begin(self) -> None:
        self.day_atomic = transaction.atomic()
        self.day_atomic.__enter__()

    def commit_day(self, error: BaseException | None = None) -> None:
        """End the open transaction: commit, or roll back on an error."""
        if self.day_atomic is not None:
            atomic, self.day_atomic = self.day_atomic, None
            if error is None:
                atomic.__exit__(None, None, None)
            else:
                atomic.__exit__(type(error), error, error.__traceback__)

    def show(self, share: float, began: float) -> None:
        assert self.progress is not None
        width = 40
        done = int(share * width)
        self.progress.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {share * 100:5.1f}% "
            f"{self.result.calls} calls, {self.result.incidents} incidents, "
            f"{time.monotonic() - began:5.1f} s"
        )
        self.progress.flush()

    # ------------------------------------------------------------------ one call

    def new_call(self, rang: datetime) -> Callable[[], None]:
        def ring() -> None:
            n = self.result.calls
            self.result.calls += 1
            if self.bulk is not None:
                self.result.bulk_calls += 1
            job = Job(n, f"{self.run_id}-{n}", rang, f"+86139{self.rng.randrange(10**8):08d}")
            self.writer.ring(job)
            if self.rng.random() < ABANDON_SHARE:
                self.result.abandoned += 1
                hang_up = rang + timedelta(seconds=self.rng.uniform(4, 45))
                self.at(hang_up, lambda: self.writer.end_call(job, hang_up))
                return
            slow = self.rng.random() < SLOW_ANSWER_SHARE
            answered = rang + timedelta(seconds=self.rng.uniform(11, 30) if slow else self.rng.uniform(1, 8))
            self.at(answered, lambda: self.answer(job, answered))

        return ring

    def answer(self, job: Job, answered: datetime) -> None:
        job.dispatcher = self.rng.choice(self.dispatchers)
        self.writer.answer(job, answered)
        self.result.incidents += 1
        complaint = draw_complaint(self.rng)
        talk = timedelta(seconds=self.rng.uniform(60, 180))
        self.at(answered + talk, lambda: self.writer.end_call(job, answered + talk))
        slow = self.rng.random() < SLOW_PROCESSING_SHARE
        located = answered + timedelta(seconds=self.rng.uniform(10, 25))
        triaged = located + timedelta(seconds=self.rng.uniform(10, 30))
        sent = triaged + timedelta(seconds=self.rng.uniform(90, 240) if slow else self.rng.uniform(8, 35))
        self.at(located, lambda: self.locate(job))
        self.at(triaged, lambda: self.writer.triage(job, complaint))
        self.at(sent, lambda: self.send(job, complaint, sent))

    def locate(self, job: Job) -> None:
        if self.places:
            name, point = self.rng.choice(self.places)
            job.scene = (point.x, point.y)
            self.writer.locate(job, point, "gazetteer", name)
            return
        home = self.rng.choice(self.units).home if self.units else (119.6, 24.9)
        point = Point(
            home[0] + self.rng.uniform(-0.03, 0.03), home[1] + self.rng.uniform(-0.03, 0.03), srid=4326
        )
        job.scene = (point.x, point.y)
        self.writer.locate(job, point, "pin", "")

    def send(self, job: Job, complaint: Complaint, now: datetime) -> None:
        unit = self.nearest_free(job.scene, complaint.capability)
        if unit is None:
            self.result.queued += 1
            retry = now + timedelta(seconds=QUEUE_RETRY_S)
            self.at(retry, lambda: self.send(job, complaint, retry))
            return
        hospital, where = self.hospital_for(job.scene, complaint)
        self.writer.dispatch(job, unit, hospital)
        unit.free = False
        self.job(job, complaint, unit, where, now)

    def nearest_free(self, scene: tuple[float, float], capability: str) -> SimUnit | None:
        able = {"als": {"als"}, "bls": {"bls", "als"}}.get(capability, {capability})
        for unit in self.by_distance(scene):
            if unit.free and unit.unit.kind in able:
                return unit
        return None

    def by_distance(self, scene: tuple[float, float]) -> list[SimUnit]:
        """The units nearest first (kept per scene: the scenes are the gazetteer's places)."""
        found = self.nearest.get(scene)
        if found is None:
            found = self.nearest[scene] = sorted(self.units, key=lambda u: km_between(u.home, scene))
        return found

    def hospital_for(
        self, scene: tuple[float, float], complaint: Complaint
    ) -> tuple[Hospital | None, tuple[float, float]]:
        able = [
            (h, at)
            for h, at in self.hospitals
            if not complaint.hospital_capability or complaint.hospital_capability in h.capabilities
        ] or self.hospitals
        if not able:
            return None, scene
        return min(able, key=lambda pair: km_between(pair[1], scene))

    def drive_s(self, a: tuple[float, float], b: tuple[float, float], kmh: float = AMBULANCE_KMH) -> float:
        km = km_between(a, b) * ROAD_FACTOR
        return 30 + km / kmh * 3600 * self.rng.uniform(0.85, 1.3)

    def job(
        self, job: Job, complaint: Complaint, unit: SimUnit, hospital: tuple[float, float], sent: datetime
    ) -> None:
        """The unit's statuses from the alert to available, each at its moment."""
        r = self.rng
        scene = job.scene
        late = r.random() < LATE_TURNOUT_SHARE
        t = sent + timedelta(seconds=r.uniform(5, 20))
        plan = [(t, UnitStatus.ACKNOWLEDGED)]
        t = sent + timedelta(seconds=r.uniform(150, 300) if late else r.uniform(20, 75))
        plan.append((t, UnitStatus.EN_ROUTE))
        kmh = SIREN_KMH if complaint.priority <= 2 else AMBULANCE_KMH
        t += timedelta(seconds=self.drive_s(unit.home, scene, kmh))
        plan.append((t, UnitStatus.ON_SCENE))
        t += timedelta(seconds=r.uniform(30, 120))
        plan.append((t, UnitStatus.PATIENT_CONTACT))
        t += timedelta(seconds=r.uniform(480, 1200))
        if r.random() < TREATED_ON_SCENE_SHARE:
            plan.append((t, UnitStatus.AVAILABLE))
        else:
            plan.append((t, UnitStatus.TRANSPORTING))
            t += timedelta(seconds=self.drive_s(scene, hospital))
            plan.append((t, UnitStatus.AT_HOSPITAL))
            t += timedelta(seconds=r.uniform(600, 1500))
            plan.append((t, UnitStatus.AVAILABLE))
        for moment, status in plan:
            self.at(moment, self.status_step(unit, status))
        outcome = "treated_on_scene" if plan[-2][1] == UnitStatus.PATIENT_CONTACT else "transported"
        closed = t + timedelta(seconds=30)
        self.at(closed, lambda: self.writer.close(job, outcome))

    def status_step(self, unit: SimUnit, status: str) -> Callable[[], None]:
        def step() -> None:
            self.writer.status(unit, status)
            if status == UnitStatus.AVAILABLE:
                unit.free = True

        return step


def local_midnight_after(moment: datetime) -> datetime:
    day = timezone.localdate(moment) + timedelta(days=1)
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def make_history(
    days: float,
    *,
    calls_per_hour: float = DEFAULT_CALLS_PER_HOUR,
    seed: int = 120,
    force: bool = False,
    progress: Progress | None = sys.stderr,
    now: datetime | None = None,
    action_days: float = DEFAULT_ACTION_DAYS,
) -> HistoryResult:
    """`days` x 24 hours of history ending three hours before now (so every job is over), unless
    a history is there already and `force` is not given. The last `action_days` of it are made
    by the actions, the days before in bulk (all of it by the actions when `action_days` >=
    `days`; none when 0, jobs still under way at the end included)."""
    if has_history() and not force:
        return HistoryResult(skipped=True)
    # In UTC, as the database gives times back: an event's payload reads the same whether an
    # action made it from a row it read again or the bulk writer from the simulation's clock.
    now = (now or timezone.now()).astimezone(UTC)
    end = now - STOP_BEFORE_NOW
    start = end - timedelta(days=days)
    if end <= start or not Unit.objects.exists():
        return HistoryResult(start=start, end=end)
    actions_from = end - timedelta(days=action_days) if action_days > 0 else None
    result = History(start, end, calls_per_hour, seed, progress, actions_from).run()
    # The report's rollups of the closed days and their whole months, as the rollup worker would
    # build them.
    rollups.build_range(timezone.localtime(start).date(), rollups.last_closed_day(now))
    rollups.build_months(timezone.localtime(start).date(), rollups.last_closed_day(now), now=now)
    return result


__all__ = [
    "COMPLAINTS",
    "DEFAULT_ACTION_DAYS",
    "DEFAULT_CALLS_PER_HOUR",
    "DEFAULT_DAYS",
    "EVENT_COLUMNS",
    "HISTORY_PROVIDER",
    "HistoryResult",
    "SimulatedClock",
    "has_history",
    "make_history",
    "simulated",
]
