"""A recent history for the demo city: the last days of a working centre, back-filled through
the same actions a shift uses, so the reports and the wallboard show a real centre at once.

Every call rings, is answered (or abandoned) and ends through the telephony actions
(dispatch.calls.actions.record_call_event, take_call); every incident is located, triaged,
sent a unit, moved through the unit's statuses and closed through its actions. Nothing is
inserted behind them. The actions stamp `django.utils.timezone.now()`, so the history runs them
under a simulated clock (`SimulatedClock`): a discrete-event simulation in time order, where
each step sets the clock to its moment and calls one action. The clock is the only thing
simulated; the rows, clocks, events and report columns are the actions' own.

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
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from unittest import mock

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.demo.crews import staff_units
from dispatch.demo.simulator import COMPLAINTS, Complaint, draw_complaint, hourly_rate
from dispatch.incidents.actions import close_incident, dispatch_unit, locate_incident, triage_incident
from dispatch.models import Call, Incident, Place, Role, User
from dispatch.units.actions import set_unit_status
from fleet.models import CrewShift, Unit, UnitStatus
from hospitals.models import Hospital

# The calls of a history carry this provider (and ids "<run>-<n>"): how a history is recognised.
HISTORY_PROVIDER = "demo-history"
HISTORY_DISPATCHERS = ("history-dispatcher-1", "history-dispatcher-2", "history-dispatcher-3")
# The simulator's default rate (manage.py simulate --calls-per-hour, make demo).
DEFAULT_CALLS_PER_HOUR = 20.0
# What `make demo` loads: what the actions get through in well under a minute on a 2-core
# machine. Each call is about ten actions and 125 queries: measured on the demo city, 24 hours
# (487 calls) took 78 s, 160 ms a call; 60 days (28,800 calls) would take about 75 minutes.
DEFAULT_DAYS = 0.5
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


@contextmanager
def simulated(clock: SimulatedClock) -> Iterator[SimulatedClock]:
    """Run the actions under this clock: every `timezone.now()` (the actions', the models'
    auto_now fields') reads it."""
    with mock.patch("django.utils.timezone.now", clock.now):
        yield clock


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


@dataclass
class SimUnit:
    unit: Unit
    home: tuple[float, float]
    crew: User | None
    free: bool = True


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], object] = field(compare=False)


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


class History:
    """One run: the steps in a heap, in time order, each one action under the clock."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        calls_per_hour: float,
        seed: int,
        progress: Progress | None,
    ) -> None:
        self.start, self.end = start, end
        self.calls_per_hour = calls_per_hour
        self.rng = random.Random(seed)
        self.run_id = f"{seed}-{int(time.time())}"
        self.progress = progress
        self.steps: list[Step] = []
        self.order = itertools.count()
        self.result = HistoryResult(start=start, end=end)
        self.day_atomic: transaction.Atomic | None = None
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

    # ------------------------------------------------------------------ the loop

    def at(self, moment: datetime, run: Callable[[], object]) -> None:
        heapq.heappush(self.steps, Step(moment, next(self.order), run))

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
        clock = SimulatedClock(self.start)
        with simulated(clock):
            try:
                self.loop(clock, began)
            except BaseException as exc:
                self.commit_day(exc)
                raise
            self.commit_day()
        self.result.seconds = round(time.monotonic() - began, 1)
        if self.progress:
            self.show(1.0, began)
            self.progress.write("\n")
        return self.result

    def loop(self, clock: SimulatedClock, began: float) -> None:
        """Every step in time order, one transaction per simulated day (the actions' own become
        savepoints in it: a day commits once)."""
        total_s = (self.end - self.start).total_seconds()
        calls = self.arrivals()
        upcoming = next(calls, None)
        day, shown = None, 0.0
        action: Callable[[], object]
        while upcoming is not None or self.steps:
            if upcoming is not None and (not self.steps or upcoming <= self.steps[0].at):
                moment, action = upcoming, self.new_call(upcoming)
                upcoming = next(calls, None)
            else:
                step = heapq.heappop(self.steps)
                moment, action = step.at, step.run
            if timezone.localdate(moment) != day:
                self.commit_day()
                self.day_atomic = transaction.atomic()
                self.day_atomic.__enter__()
                day = timezone.localdate(moment)
            clock.at = moment
            action()
            if self.progress and time.monotonic() - shown > 0.25:
                shown = time.monotonic()
                self.show(min((moment - self.start).total_seconds() / total_s, 1.0), began)

    def commit_day(self, error: BaseException | None = None) -> None:
        """End the open day's transaction: commit, or roll back on an error."""
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
            call_id = f"{self.run_id}-{n}"
            caller = f"+86139{self.rng.randrange(10**8):08d}"
            call = record_call_event(
                CallEvent(HISTORY_PROVIDER, call_id, CallEventKind.RINGING, rang, caller)
            )
            if self.rng.random() < ABANDON_SHARE:
                self.result.abandoned += 1
                hang_up = rang + timedelta(seconds=self.rng.uniform(4, 45))
                self.at(hang_up, lambda: end_call(call_id, hang_up))
                return
            slow = self.rng.random() < SLOW_ANSWER_SHARE
            answered = rang + timedelta(seconds=self.rng.uniform(11, 30) if slow else self.rng.uniform(1, 8))
            self.at(answered, lambda: self.answer(call, answered))

        return ring

    def answer(self, call: Call, answered: datetime) -> None:
        take_call(call, actor=self.rng.choice(self.dispatchers), at=answered)
        incident = Incident.objects.get(call=call)
        self.result.incidents += 1
        complaint = draw_complaint(self.rng)
        talk = timedelta(seconds=self.rng.uniform(60, 180))
        self.at(answered + talk, lambda: end_call(call.provider_call_id, answered + talk))
        slow = self.rng.random() < SLOW_PROCESSING_SHARE
        located = answered + timedelta(seconds=self.rng.uniform(10, 25))
        triaged = located + timedelta(seconds=self.rng.uniform(10, 30))
        sent = triaged + timedelta(seconds=self.rng.uniform(90, 240) if slow else self.rng.uniform(8, 35))
        self.at(located, lambda: self.locate(incident, located))
        self.at(triaged, lambda: self.triage(incident, complaint))
        self.at(sent, lambda: self.send(incident, complaint, sent))

    def locate(self, incident: Incident, now: datetime) -> None:
        if self.places:
            name, point = self.rng.choice(self.places)
            locate_incident(incident, point, actor=incident.created_by, source="gazetteer", address=name)
            return
        home = self.rng.choice(self.units).home if self.units else (119.6, 24.9)
        point = Point(
            home[0] + self.rng.uniform(-0.03, 0.03), home[1] + self.rng.uniform(-0.03, 0.03), srid=4326
        )
        locate_incident(incident, point, actor=incident.created_by, source="pin")

    def triage(self, incident: Incident, complaint: Complaint) -> None:
        triage_incident(
            incident,
            actor=incident.created_by,
            priority=complaint.priority,
            chief_complaint=complaint.name,
            capability=complaint.capability,
        )

    def send(self, incident: Incident, complaint: Complaint, now: datetime) -> None:
        incident.refresh_from_db(fields=["location", "created_by", "priority"])
        scene = (incident.location.x, incident.location.y) if incident.location else (0.0, 0.0)
        unit = self.nearest_free(scene, complaint.capability)
        if unit is None:
            self.result.queued += 1
            retry = now + timedelta(seconds=QUEUE_RETRY_S)
            self.at(retry, lambda: self.send(incident, complaint, retry))
            return
        hospital, where = self.hospital_for(scene, complaint)
        dispatch_unit(incident, unit.unit, actor=incident.created_by, hospital=hospital, recommended_rank=1)
        unit.free = False
        self.job(incident, unit, scene, where, now)

    def nearest_free(self, scene: tuple[float, float], capability: str) -> SimUnit | None:
        able = {"als": {"als"}, "bls": {"bls", "als"}}.get(capability, {capability})
        free = [u for u in self.units if u.free and u.unit.kind in able]
        return min(free, key=lambda u: km_between(u.home, scene), default=None)

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
        self, incident: Incident, unit: SimUnit, scene: tuple[float, float], hospital: tuple, sent: datetime
    ) -> None:
        """The unit's statuses from the alert to available, each at its moment."""
        r = self.rng
        late = r.random() < LATE_TURNOUT_SHARE
        t = sent + timedelta(seconds=r.uniform(5, 20))
        plan = [(t, UnitStatus.ACKNOWLEDGED)]
        t = sent + timedelta(seconds=r.uniform(150, 300) if late else r.uniform(20, 75))
        plan.append((t, UnitStatus.EN_ROUTE))
        kmh = SIREN_KMH if (incident.priority or 4) <= 2 else AMBULANCE_KMH
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
        self.at(closed, lambda: close_incident(incident, actor=incident.created_by, outcome=outcome))

    def status_step(self, unit: SimUnit, status: str) -> Callable[[], None]:
        def step() -> None:
            set_unit_status(unit.unit, status, actor=unit.crew)
            if status == UnitStatus.AVAILABLE:
                unit.free = True

        return step


def end_call(call_id: str, at: datetime) -> None:
    record_call_event(CallEvent(HISTORY_PROVIDER, call_id, CallEventKind.ENDED, at))


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
) -> HistoryResult:
    """`days` x 24 hours of history ending three hours before now (so every job is over), unless
    a history is there already and `force` is not given."""
    if has_history() and not force:
        return HistoryResult(skipped=True)
    now = now or timezone.now()
    end = now - STOP_BEFORE_NOW
    start = end - timedelta(days=days)
    if end <= start or not Unit.objects.exists():
        return HistoryResult(start=start, end=end)
    return History(start, end, calls_per_hour, seed, progress).run()


__all__ = [
    "COMPLAINTS",
    "DEFAULT_CALLS_PER_HOUR",
    "DEFAULT_DAYS",
    "HISTORY_PROVIDER",
    "HistoryResult",
    "SimulatedClock",
    "has_history",
    "make_history",
]
