"""The simulator: makes a city live through the same public interfaces a deployment uses.

Calls arrive as incidents created through the console API (and are triaged and, when asked,
dispatched to the top recommendation through it too); ambulances report GPS fixes through the
OsmAnd endpoint that real trackers use; crews move through every status through the crew
tablet's API. Nothing here writes the database behind the actions' backs: the only direct
database use is reading the world (places, units, the road network for driving) and creating
the simulator's own user accounts.

The same tool drives load tests (`--calls-per-hour`, `--units`), and `make demo` runs it so a
newcomer sees ambulances moving within a minute.

Realism, from docs/targets.md and common 120 practice: calls follow a daily curve (quiet at night,
busiest in the evening) and come mostly from residential compounds; a realistic mix of
priorities; turnout within about a minute; on-scene times of 10 to 20 minutes; one patient in
seven treated on scene; handover 10 to 25 minutes; GPS every 5 s while moving and every 30 s
parked (so a parked unit is never flagged stale).
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

log = logging.getLogger(__name__)

KNOTS_PER_KMH = 1 / 1.852
EARTH_RADIUS_M = 6_371_008.8

# Relative call rate by hour of day (local time): low at night, peak in the evening.
HOURLY_SHAPE = [
    0.55, 0.45, 0.40, 0.35, 0.35, 0.45, 0.65, 0.85, 1.00, 1.05, 1.05, 1.05,
    1.00, 1.00, 1.00, 1.05, 1.10, 1.20, 1.35, 1.45, 1.45, 1.30, 1.05, 0.75,
]  # fmt: skip

FREE_STATUSES = ("available", "returning")
# A unit's status on its tablet -> the simulated crew's phase, and the taps already made.
RESUME_PHASE = {
    "dispatched": "alerted",
    "acknowledged": "alerted",
    "en_route": "driving_scene",
    "on_scene": "on_scene",
    "patient_contact": "on_scene",
    "transporting": "driving_hospital",
    "at_hospital": "at_hospital",
}
RESUME_AFTER = {
    "acknowledged": {
        "acknowledged",
        "en_route",
        "on_scene",
        "patient_contact",
        "transporting",
        "at_hospital",
    },
    "patient_contact": {"patient_contact", "transporting", "at_hospital"},
}
WAIT_RETRY_S = 30  # an incident no unit could take is offered again this often

# Where calls come from: people are at home most of the time.
PLACE_WEIGHTS = {"compound": 6.0, "address": 3.0, "landmark": 2.0, "intersection": 1.0, "road": 0.5}


@dataclass(frozen=True)
class Complaint:
    name: str
    priority: int
    capability: str  # unit capability needed
    hospital_capability: str = ""
    protocol: str = ""
    weight: float = 1.0


# A plausible mix for a Chinese 120 centre: about 5% priority I, 20% II, 45% III, 30% IV.
COMPLAINTS = [
    Complaint("心跳骤停/呼吸停止", 1, "als", "", "cardiac_arrest", 2.5),
    Complaint("严重创伤（车祸）", 1, "als", "trauma", "trauma", 2.5),
    Complaint("胸痛", 2, "als", "chest_pain", "chest_pain", 7),
    Complaint("卒中（中风）", 2, "als", "stroke", "stroke", 6),
    Complaint("呼吸困难", 2, "als", "", "breathing", 7),
    Complaint("摔伤", 3, "bls", "trauma", "fall", 14),
    Complaint("腹痛", 3, "bls", "", "abdominal", 12),
    Complaint("意识不清/晕厥", 3, "als", "", "unconscious", 9),
    Complaint("发热", 3, "bls", "", "fever", 10),
    Complaint("孕妇临产", 3, "bls", "maternal", "pregnancy", 2),
    Complaint("醉酒", 4, "bls", "", "", 12),
    Complaint("头晕/乏力", 4, "bls", "", "", 12),
    Complaint("转院", 4, "bls", "", "", 6),
]


@dataclass
class Pace:
    """How long each phase of a job takes, in seconds (min, max); drawn uniformly."""

    acknowledge: tuple[float, float] = (5, 20)
    en_route: tuple[float, float] = (20, 75)  # from dispatch: the turnout
    patient_contact: tuple[float, float] = (30, 120)
    on_scene: tuple[float, float] = (480, 1200)  # patient contact to leaving
    handover: tuple[float, float] = (600, 1500)
    treated_on_scene_share: float = 1 / 7
    close_after_s: float = 30  # the dispatcher closes the incident this long after the unit clears
    fix_moving_s: float = 5
    fix_parked_s: float = 30
    poll_s: float = 3

    def scaled(self, factor: float) -> Pace:
        """Dwell times divided by `factor` (driving stays at road speed: the trackers'
        fixes must stay believable)."""
        if factor == 1:
            return self
        shrink = lambda r: (r[0] / factor, r[1] / factor)  # noqa: E731
        return Pace(
            acknowledge=shrink(self.acknowledge),
            en_route=shrink(self.en_route),
            patient_contact=shrink(self.patient_contact),
            on_scene=shrink(self.on_scene),
            handover=shrink(self.handover),
            treated_on_scene_share=self.treated_on_scene_share,
            close_after_s=self.close_after_s / factor,
            fix_moving_s=self.fix_moving_s,
            fix_parked_s=self.fix_parked_s,
            poll_s=self.poll_s,
        )


# ---------------------------------------------------------------------------------------------
# pure pieces (tested without a server)


def hourly_rate(calls_per_hour: float, hour: int) -> float:
    """Calls per hour at this local hour, the daily average being `calls_per_hour`."""
    mean = sum(HOURLY_SHAPE) / len(HOURLY_SHAPE)
    return calls_per_hour * HOURLY_SHAPE[hour % 24] / mean


def draw_complaint(rng: random.Random) -> Complaint:
    return rng.choices(COMPLAINTS, weights=[c.weight for c in COMPLAINTS])[0]


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def bearing_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


@dataclass
class Drive:
    """A vehicle driving a route polyline at the route's average road speed."""

    coordinates: list[tuple[float, float]]
    seconds: float
    started: float
    cumulative: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        total = 0.0
        self.cumulative = [0.0]
        for a, b in zip(self.coordinates, self.coordinates[1:], strict=False):
            total += haversine_m(a, b)
            self.cumulative.append(total)

    @property
    def metres(self) -> float:
        return self.cumulative[-1]

    @property
    def speed_kmh(self) -> float:
        return 3.6 * self.metres / self.seconds if self.seconds > 0 else 0.0

    def arrived(self, now: float) -> bool:
        return now - self.started >= self.seconds

    def position(self, now: float) -> tuple[tuple[float, float], float]:
        """Where the vehicle is at `now` and its heading."""
        if len(self.coordinates) == 1 or self.metres == 0:
            return self.coordinates[-1], 0.0
        share = min(max((now - self.started) / self.seconds, 0.0), 1.0) if self.seconds > 0 else 1.0
        target = share * self.metres
        for i in range(1, len(self.cumulative)):
            if self.cumulative[i] >= target:
                a, b = self.coordinates[i - 1], self.coordinates[i]
                span = self.cumulative[i] - self.cumulative[i - 1]
                t = (target - self.cumulative[i - 1]) / span if span > 0 else 1.0
                point = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                return point, bearing_deg(a, b)
        return self.coordinates[-1], 0.0


# ---------------------------------------------------------------------------------------------
# talking to the server


class SimulatorError(RuntimeError):
    pass


class Session:
    """A signed-in browser-like session: the login form, then JSON with the CSRF header."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.login(username, password)

    def login(self, username: str, password: str) -> None:
        self.http.get(f"{self.base}/login/", timeout=self.timeout)
        response = self.http.post(
            f"{self.base}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": self.csrf},
            headers={"Referer": f"{self.base}/login/"},
            timeout=self.timeout,
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise SimulatorError(f"cannot sign in as {username} ({response.status_code})")

    @property
    def csrf(self) -> str:
        return self.http.cookies.get("csrftoken") or ""

    def get(self, path: str, **params) -> requests.Response:
        return self.http.get(f"{self.base}{path}", params=params, timeout=self.timeout)

    def post(self, path: str, body: dict, key: str | None = None) -> requests.Response:
        headers = {"X-CSRFToken": self.csrf, "Referer": f"{self.base}/"}
        if key:
            headers["Idempotency-Key"] = key
        return self.http.post(f"{self.base}{path}", json=body, headers=headers, timeout=self.timeout)


def send_fix(
    http: requests.Session,
    base: str,
    tracker: SimUnit,
    point: tuple[float, float],
    speed_kmh: float,
    heading: float,
) -> bool:
    """One OsmAnd fix, as the Traccar Client app sends it (speed in knots), set up the way a
    dedicated tracker is: the unit's key in the server URL, its IMEI as the device identifier."""
    params: dict[str, str | int] = {
        "id": tracker.tracker_id,
        "lat": f"{point[1]:.6f}",
        "lon": f"{point[0]:.6f}",
        "timestamp": int(time.time()),
        "speed": f"{speed_kmh * KNOTS_PER_KMH:.1f}",
        "bearing": f"{heading:.0f}",
        "accuracy": "5",
    }
    try:
        return (
            http.get(f"{base}/api/osmand/{tracker.tracker_key}", params=params, timeout=10).status_code == 200
        )
    except requests.RequestException:
        return False


# ---------------------------------------------------------------------------------------------
# the world


@dataclass
class SimPlace:
    name: str
    lon: float
    lat: float
    weight: float


@dataclass
class SimUnit:
    """One ambulance and its simulated crew."""

    id: int
    call_sign: str
    tracker_id: str
    tracker_key: str
    home: tuple[float, float]
    position: tuple[float, float]
    crew: Session | None = None
    # idle, alerted, driving_scene, on_scene, driving_hospital, at_hospital,
    # returning (taps available on arrival) or homing (already available, driving home)
    phase: str = "idle"
    assignment: dict | None = None
    drive: Drive | None = None
    due: float = 0.0  # when the next timed step of the job happens
    next_fix: float = 0.0
    next_poll: float = 0.0
    heading: float = 0.0
    steps: list[str] = field(default_factory=list)  # the statuses tapped this job, in order


@dataclass
class Counters:
    calls: int = 0
    dispatched: int = 0
    fixes: int = 0
    fixes_refused: int = 0
    statuses: int = 0
    refused: int = 0
    closed: int = 0
    unplaced: int = 0  # recommendation requests the server refused

    def line(self, waiting: int = 0) -> str:
        return " ".join(f"{k}={v}" for k, v in self.__dict__.items()) + f" waiting={waiting}"


RouteFn = Callable[[tuple[float, float], tuple[float, float]], tuple[list[tuple[float, float]], float]]


class Simulator:
    """The loop: calls arrive, dispatchers (optionally) dispatch, crews work their jobs."""

    def __init__(
        self,
        base_url: str,
        dispatcher: Session,
        units: list[SimUnit],
        places: list[SimPlace],
        route: RouteFn,
        *,
        calls_per_hour: float = 12,
        auto_dispatch: bool = True,
        pace: Pace | None = None,
        seed: int = 120,
        first_call_now: bool = True,
        max_calls: int | None = None,
        now: Callable[[], float] = time.monotonic,
        local_hour: Callable[[], int] = lambda: datetime.now().hour,
        workers: int = 8,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.dispatcher = dispatcher
        self.units = units
        self.places = places
        self.route = route
        self.calls_per_hour = calls_per_hour
        self.auto_dispatch = auto_dispatch
        self.pace = pace or Pace()
        self.rng = random.Random(seed)
        self.now = now
        self.local_hour = local_hour
        self.max_calls = max_calls
        self.counters = Counters()
        self.next_call = self.now() if first_call_now else self.now() + self.gap()
        self.tracker_http = requests.Session()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim")
        self.lock = threading.Lock()
        self.to_close: dict[int, float] = {}  # incident id -> when the dispatcher closes it
        self.waiting: dict[int, tuple[Complaint, float]] = {}  # no unit free yet: retry then

    # -- the loop ------------------------------------------------------------------------------

    def run(self, seconds: float | None = None, stop: threading.Event | None = None) -> Counters:
        end = None if seconds is None else self.now() + seconds
        stop = stop or threading.Event()
        while not stop.is_set() and (end is None or self.now() < end):
            self.tick()
            stop.wait(0.5)
        self.pool.shutdown(wait=True)
        return self.counters

    def tick(self) -> None:
        now = self.now()
        if now >= self.next_call and (self.max_calls is None or self.counters.calls < self.max_calls):
            self.next_call = now + self.gap()
            self.new_call()
        for incident_id, when in list(self.to_close.items()):
            if now >= when:
                self.close(incident_id)
        for incident_id, (complaint, when) in list(self.waiting.items()):
            if now >= when:
                self.dispatch_best(incident_id, complaint)
        jobs = [self.pool.submit(self.work_unit, unit, now) for unit in self.units]
        for job in jobs:
            job.result()

    def gap(self) -> float:
        """Seconds to the next call (a Poisson process at this hour's rate)."""
        rate = hourly_rate(self.calls_per_hour, self.local_hour()) / 3600
        return self.rng.expovariate(rate) if rate > 0 else math.inf

    # -- calls ---------------------------------------------------------------------------------

    def draw_place(self) -> SimPlace:
        return self.rng.choices(self.places, weights=[p.weight for p in self.places])[0]

    def new_call(self) -> int | None:
        """A caller rings: the dispatcher opens, locates and triages, then (maybe) dispatches."""
        place, complaint = self.draw_place(), draw_complaint(self.rng)
        jitter = lambda: self.rng.uniform(-0.0004, 0.0004)  # noqa: E731  (about 40 m)
        body = {
            "caller_number": f"+86139{self.rng.randrange(10**8):08d}",
            "lon": place.lon + jitter(),
            "lat": place.lat + jitter(),
            "location_source": "gazetteer",
            "address": place.name,
        }
        response = self.dispatcher.post("/api/incidents", body, key=str(uuid.uuid4()))
        if response.status_code != 201:
            log.warning("incident refused: %s %s", response.status_code, response.text[:200])
            return None
        incident = response.json()
        self.counters.calls += 1
        triage = {
            "priority": complaint.priority,
            "chief_complaint": complaint.name,
            "capability": complaint.capability,
            "protocol": complaint.protocol,
            "hospital_capability": complaint.hospital_capability,
        }
        self.dispatcher.post(f"/api/incidents/{incident['id']}/triage", triage)
        if self.auto_dispatch:
            self.dispatch_best(incident["id"], complaint)
        return incident["id"]

    def dispatch_best(self, incident_id: int, complaint: Complaint) -> bool:
        """Accept the top recommendation, as a dispatcher pressing Enter would."""
        params = (
            {"hospital_capability": complaint.hospital_capability} if complaint.hospital_capability else {}
        )
        response = self.dispatcher.get(f"/api/incidents/{incident_id}/recommendation", **params)
        if response.status_code != 200:
            self.counters.unplaced += 1
            return False
        answer = response.json()
        free = [
            u
            for u in answer.get("units", [])
            if u.get("dispatchable", u["status"] in FREE_STATUSES)
            and u["eta_s"] is not None
            and math.isfinite(u["eta_s"])
        ]
        if not free:
            self.waiting[incident_id] = (complaint, self.now() + WAIT_RETRY_S)
            return False
        unit, hospitals = free[0], answer.get("hospitals", [])
        rank = answer["units"].index(unit) + 1
        body = {
            "unit": unit["id"],
            "hospital": hospitals[0]["id"] if hospitals else None,
            "recommended_rank": rank,
            "eta_s": unit["eta_s"],
            "hospital_rank": 1 if hospitals else None,
            "override_reason": "" if rank == 1 else "首选车辆不空闲（模拟）",
        }
        response = self.dispatcher.post(f"/api/incidents/{incident_id}/dispatch", body)
        if response.status_code == 201:
            self.counters.dispatched += 1
            self.waiting.pop(incident_id, None)
            return True
        self.waiting[incident_id] = (complaint, self.now() + WAIT_RETRY_S)  # lost a race: retry
        return False

    def close(self, incident_id: int) -> None:
        response = self.dispatcher.post(f"/api/incidents/{incident_id}/close", {"outcome": "transported"})
        self.to_close.pop(incident_id, None)
        if response.status_code == 200:
            self.counters.closed += 1

    # -- units ---------------------------------------------------------------------------------

    def work_unit(self, unit: SimUnit, now: float) -> None:
        try:
            self.poll(unit, now)
            self.advance(unit, now)
            self.report_position(unit, now)
        except requests.RequestException as exc:  # the server restarting: try again next tick
            log.info("%s: %s", unit.call_sign, exc)

    def poll(self, unit: SimUnit, now: float) -> None:
        """The tablet learns of a new assignment (it would also hear it on its socket)."""
        if unit.crew is None or now < unit.next_poll or unit.phase not in ("idle", "returning", "homing"):
            return
        unit.next_poll = now + self.pace.poll_s
        response = unit.crew.get("/api/crew/assignment")
        if response.status_code != 200:
            return
        assignment = (response.json() or {}).get("assignment")
        if assignment and (unit.assignment is None or assignment["id"] != unit.assignment["id"]):
            self.take(unit, assignment, now)

    def take(self, unit: SimUnit, assignment: dict, now: float) -> None:
        """Work this assignment from wherever it stands (new, or left by an earlier run)."""
        unit.assignment, unit.drive = assignment, None
        status = assignment["unit"]["status"]
        unit.steps = [s for s in ("acknowledged", "patient_contact") if status in RESUME_AFTER[s]]
        unit.phase = RESUME_PHASE.get(status, "alerted")
        unit.due = now + self.draw(self.pace.acknowledge)
        target = {"driving_scene": self.scene, "driving_hospital": self.destination}.get(unit.phase)
        place = target(unit) if target else None
        if place is not None:
            unit.drive = self.start_drive(unit.position, place, now)

    def draw(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span)

    def tap(self, unit: SimUnit, status: str) -> bool:
        """One status tap on the tablet, with its idempotency key and the tablet's clock."""
        body = {
            "status": status,
            "assignment": unit.assignment["id"] if unit.assignment else None,
            "client_time": datetime.now(UTC).isoformat(),
            # clearing from the scene ends the job before transport: the crew says why
            "end_reason": "treated_on_scene" if status == "available" else None,
        }
        response = crew_of(unit).post("/api/crew/status", body, key=str(uuid.uuid4()))
        with self.lock:
            if response.status_code == 200:
                self.counters.statuses += 1
                unit.steps.append(status)
            else:
                self.counters.refused += 1
                log.info("%s %s refused: %s", unit.call_sign, status, response.text[:200])
        if response.status_code == 409:
            self.stood_down(unit, self.now())
        return response.status_code == 200

    def advance(self, unit: SimUnit, now: float) -> None:
        """The crew's next step when its time has come."""
        step = getattr(self, f"step_{unit.phase}")
        step(unit, now)

    def step_idle(self, unit: SimUnit, now: float) -> None:
        pass

    def step_alerted(self, unit: SimUnit, now: float) -> None:
        if now < unit.due:
            return
        if "acknowledged" not in unit.steps:
            self.tap(unit, "acknowledged")
            unit.due = now + self.draw(self.pace.en_route)
            return
        scene = self.scene(unit)
        if self.tap(unit, "en_route") and scene:
            unit.drive = self.start_drive(unit.position, scene, now)
            unit.phase = "driving_scene"
        elif not scene:
            unit.phase = "idle"

    def arrived(self, unit: SimUnit, now: float, status: str | None = None) -> bool:
        """True once the drive has ended (and its arrival status, if any, is tapped); the unit
        then stands at the end of its route."""
        if not (unit.drive and unit.drive.arrived(now)) or (status and not self.tap(unit, status)):
            return False
        unit.position, unit.drive = unit.drive.coordinates[-1], None
        return True

    def step_driving_scene(self, unit: SimUnit, now: float) -> None:
        if self.arrived(unit, now, "on_scene"):
            unit.phase, unit.due = "on_scene", now + self.draw(self.pace.patient_contact)

    def step_on_scene(self, unit: SimUnit, now: float) -> None:
        if now < unit.due:
            return
        if "patient_contact" not in unit.steps:
            if self.tap(unit, "patient_contact"):
                self.record_vitals(unit)
                unit.due = now + self.draw(self.pace.on_scene)
            return
        hospital = self.destination(unit)
        if self.rng.random() < self.pace.treated_on_scene_share or hospital is None:
            if self.tap(unit, "available"):  # treated on scene: the job ends here
                self.finish(unit, now, tap_on_arrival=False)
            return
        if self.tap(unit, "transporting"):
            self.record_vitals(unit)
            unit.drive = self.start_drive(unit.position, hospital, now)
            unit.phase = "driving_hospital"

    def step_driving_hospital(self, unit: SimUnit, now: float) -> None:
        if self.arrived(unit, now, "at_hospital"):
            unit.phase, unit.due = "at_hospital", now + self.draw(self.pace.handover)

    def step_at_hospital(self, unit: SimUnit, now: float) -> None:
        if now >= unit.due and self.tap(unit, "returning"):  # handover complete, driving home
            self.finish(unit, now, tap_on_arrival=True)

    def step_returning(self, unit: SimUnit, now: float) -> None:
        if self.arrived(unit, now):
            self.tap(unit, "available")
            unit.phase = "idle"

    def step_homing(self, unit: SimUnit, now: float) -> None:
        if self.arrived(unit, now):
            unit.phase = "idle"

    def finish(self, unit: SimUnit, now: float, tap_on_arrival: bool) -> None:
        """The job is over: drive home (tapping available on arrival when still returning)."""
        incident = (unit.assignment or {}).get("incident") or {}
        if incident.get("id"):
            # the dispatcher closes the incident a little after the unit clears
            self.to_close[incident["id"]] = now + self.pace.close_after_s
        unit.assignment, unit.steps = None, []
        if haversine_m(unit.position, unit.home) > 50:
            unit.drive = self.start_drive(unit.position, unit.home, now)
            unit.phase = "returning" if tap_on_arrival else "homing"
        else:
            unit.drive, unit.phase = None, "idle"
            if tap_on_arrival:
                self.tap(unit, "available")

    def stood_down(self, unit: SimUnit, now: float) -> None:
        """A tap was refused: if the dispatcher stood the unit down, go home."""
        response = crew_of(unit).get("/api/crew/assignment")
        current = (response.json() or {}).get("assignment") if response.status_code == 200 else None
        if current is None or current["id"] != (unit.assignment or {}).get("id"):
            unit.assignment = None
            self.finish(unit, now, tap_on_arrival=False)

    def scene(self, unit: SimUnit) -> tuple[float, float] | None:
        incident = (unit.assignment or {}).get("incident") or {}
        if incident.get("lon") is None:
            return None
        return (incident["lon"], incident["lat"])

    def destination(self, unit: SimUnit) -> tuple[float, float] | None:
        hospital = (unit.assignment or {}).get("destination")
        if hospital:
            return (hospital["lon"], hospital["lat"])
        return None

    def record_vitals(self, unit: SimUnit) -> None:
        """A set of vital signs, roughly normal; the ER board shows the latest."""
        if not unit.assignment:
            return
        vitals = {
            "heart_rate": self.rng.randint(60, 120),
            "systolic_bp": self.rng.randint(95, 170),
            "diastolic_bp": self.rng.randint(55, 100),
            "spo2": self.rng.randint(90, 99),
            "respiratory_rate": self.rng.randint(12, 26),
            "client_time": datetime.now(UTC).isoformat(),
        }
        crew_of(unit).post(
            f"/api/crew/assignments/{unit.assignment['id']}/vitals", vitals, key=str(uuid.uuid4())
        )

    def start_drive(self, start: tuple[float, float], end: tuple[float, float], now: float) -> Drive:
        coordinates, seconds = self.route(start, end)
        return Drive(coordinates or [start, end], max(seconds, 1.0), now)

    def report_position(self, unit: SimUnit, now: float) -> None:
        moving = unit.drive if unit.drive is not None and not unit.drive.arrived(now) else None
        if now < unit.next_fix:
            return
        unit.next_fix = now + (self.pace.fix_moving_s if moving else self.pace.fix_parked_s)
        if moving is not None:
            unit.position, unit.heading = moving.position(now)
        speed = moving.speed_kmh if moving is not None else 0.0
        stored = send_fix(self.tracker_http, self.base, unit, unit.position, speed, unit.heading)
        with self.lock:
            if stored:
                self.counters.fixes += 1
            else:
                self.counters.fixes_refused += 1


def crew_of(unit: SimUnit) -> Session:
    """The unit's crew: a unit has a job only once its crew polled for it (Simulator.poll)."""
    assert unit.crew is not None, f"{unit.call_sign} has no crew signed in"
    return unit.crew


def new_password() -> str:
    return secrets.token_urlsafe(18)
