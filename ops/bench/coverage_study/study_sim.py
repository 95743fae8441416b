"""The discrete-event simulation of the coverage study: calls, units, the four policies.

Everything here works on travel-time matrices (no router, no database), so it runs on the real
city and on a hand-made network alike. The policies' decisions come from dispatch.coverage.policy,
the product's own module.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field

import numpy as np

from dispatch.coverage.policy import (
    DEFAULT_MARGINS_S,
    best_move,
    choose_unit,
    closest,
    covers,
    margin_for,
    point_gains,
)
from dispatch.demo.simulator import COMPLAINTS, Pace, hourly_rate

# The demo's history (dispatch/demo/history.py) draws these; the study draws the same.
PROCESSING_S = (29.0, 98.0)  # answer 1-8 s, locate 10-25, triage 10-30, send 8-35
SLOW_PROCESSING_S = (121.0, 303.0)  # ... or 90-240 s to send
SLOW_PROCESSING_SHARE = 0.04
LATE_TURNOUT_S = (150.0, 300.0)
LATE_TURNOUT_SHARE = 0.03
DRIVE_NOISE = (0.85, 1.3)  # realised drive / expected, as the history's drive_s
MOVING_TURNOUT_S = Pace().acknowledge  # a free unit already on the road only acknowledges
TARGET_S = 480.0  # priority I: call to on scene within 8 minutes
SECOND_TARGET_S = 720.0
RELOCATION_COOLDOWN_S = 3600.0  # one relocation per unit per hour at most


@dataclass(frozen=True)
class City:
    """The study's world as matrices. Points are stations, standby points and hospitals, each
    sitting on a demand node. Times in seconds, free-flow road time from the router."""

    name: str
    weights: np.ndarray  # demand share of each demand node (sums to 1)
    to_nodes: np.ndarray  # points x nodes: road time from each point to each demand node
    to_points: np.ndarray  # nodes x points: road time from each demand node to each point
    point_node: np.ndarray  # the demand node each point sits on
    stations: np.ndarray  # point indices of the stations
    standby: np.ndarray  # point indices of the standby points (move-up may use them too)
    hospitals: np.ndarray  # point indices of the hospitals
    unit_home: np.ndarray  # each unit's home station (a point index)
    calls_per_hour: float  # the normal day's mean

    @property
    def between_points(self) -> np.ndarray:
        return self.to_nodes[:, self.point_node]


@dataclass(frozen=True)
class Params:
    """The policies' settings (tuned on the tuning seeds only, docs/coverage-study.md)."""

    # coverage-aware: how much slower than the fastest a unit may be, for priority I .. IV
    margins_s: tuple[float, ...] = DEFAULT_MARGINS_S
    move_min_gain: float = 0.0005  # move-up: least expected-uncovered demand a move must remove
    move_max_travel_s: float = 600.0  # move-up: longest relocation drive
    moves_per_trigger: int = 1


@dataclass(frozen=True)
class Policy:
    name: str
    coverage_dispatch: bool
    move_up: bool


POLICIES = (
    Policy("closest_idle", False, False),
    Policy("coverage_dispatch", True, False),
    Policy("move_up", False, True),
    Policy("coverage_and_move_up", True, True),
)


@dataclass(frozen=True)
class Call:
    at: float  # seconds from the start of the run
    node: int
    priority: int
    processing_s: float
    turnout_s: float  # from a station
    moving_turnout_s: float  # from a free unit already on the road
    drive_noise: float
    scene_s: float  # patient contact and on scene
    treated_on_scene: bool
    transport_noise: float
    handover_s: float
    measured: bool  # inside the measured day (not the warm-up)


def draw_calls(city: City, seed: int, surge: float, warmup_h: float, hours: float) -> list[Call]:
    """The call stream of one replication: the same for every policy (common random numbers),
    so policies are compared on identical days. Poisson per hour on the simulator's daily curve,
    at the demand model's nodes, with the simulator's priority mix and the history's times."""
    rng = random.Random(seed)
    pace = Pace()
    cum = np.cumsum(city.weights)
    complaints = [c.priority for c in COMPLAINTS]
    cweights = [c.weight for c in COMPLAINTS]
    calls = []
    start_hour = int(round(-warmup_h))
    for h in range(start_hour, int(hours)):
        rate = hourly_rate(city.calls_per_hour * surge, h % 24)
        t = 0.0
        while True:
            t += rng.expovariate(rate / 3600.0)
            if t >= 3600.0:
                break
            node = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
            slow = rng.random() < SLOW_PROCESSING_SHARE
            late = rng.random() < LATE_TURNOUT_SHARE
            calls.append(
                Call(
                    at=h * 3600.0 + t,
                    node=min(node, len(cum) - 1),
                    priority=rng.choices(complaints, weights=cweights)[0],
                    processing_s=rng.uniform(*(SLOW_PROCESSING_S if slow else PROCESSING_S)),
                    turnout_s=rng.uniform(*(LATE_TURNOUT_S if late else pace.en_route)),
                    moving_turnout_s=rng.uniform(*MOVING_TURNOUT_S),
                    drive_noise=rng.uniform(*DRIVE_NOISE),
                    scene_s=rng.uniform(*pace.patient_contact) + rng.uniform(*pace.on_scene),
                    treated_on_scene=rng.random() < pace.treated_on_scene_share,
                    transport_noise=rng.uniform(*DRIVE_NOISE),
                    handover_s=rng.uniform(*pace.handover),
                    measured=h >= 0,
                )
            )
    return calls


def mean_processing_s() -> float:
    a = sum(PROCESSING_S) / 2
    b = sum(SLOW_PROCESSING_S) / 2
    return (1 - SLOW_PROCESSING_SHARE) * a + SLOW_PROCESSING_SHARE * b


def mean_turnout_s() -> float:
    a = sum(Pace().en_route) / 2
    b = sum(LATE_TURNOUT_S) / 2
    return (1 - LATE_TURNOUT_SHARE) * a + LATE_TURNOUT_SHARE * b


def coverage_target_s() -> float:
    """Coverage is judged on dispatch to arrival (ETA with turnout): the 8-minute target less
    the mean call processing that comes before the dispatch."""
    return TARGET_S - mean_processing_s()


IDLE, MOVING, BUSY = 0, 1, 2


@dataclass
class Result:
    policy: str
    responses: list[tuple[int, float]] = field(default_factory=list)  # (priority, call to on scene)
    relocations: int = 0
    not_fastest: int = 0
    dispatches: int = 0
    unit_hours: float = 0.0


class Simulation:
    """One policy on one call stream. Units are idle at a point, moving (free, on the way to a
    point: home after a job, or a relocation) or busy (from dispatch to free again)."""

    def __init__(self, city: City, calls: list[Call], policy: Policy, params: Params, hours: float) -> None:
        self.city, self.calls, self.policy, self.params = city, calls, policy, params
        self.hours = hours
        n_units = len(city.unit_home)
        self.target = coverage_target_s()
        self.turnout = mean_turnout_s()
        self.moving_turnout = sum(MOVING_TURNOUT_S) / 2
        self.point_eta = city.to_nodes + self.turnout  # an idle unit at a point, turnout included
        self.point_cover = covers(self.point_eta, self.target)
        self.between = city.between_points
        self.state = np.full(n_units, IDLE)
        self.point = city.unit_home.copy()  # where it is, or where it is heading
        self.origin_eta = np.zeros((n_units, city.to_nodes.shape[1]))  # moving: ETA from where it set off
        self.depart = np.zeros(n_units)
        self.arrive = np.zeros(n_units)
        self.trip = np.zeros(n_units, dtype=np.int64)  # a newer order cancels an older arrival
        self.last_move = np.full(n_units, -np.inf)
        self.queue: list[tuple[int, float, int]] = []  # (priority, ready at, call index)
        self.events: list[tuple[float, int, str, int, int]] = []
        self.order = itertools.count()
        self.result = Result(policy.name)
        self.measure_end = hours * 3600.0

    # ------------------------------------------------------------------ the loop

    def at(self, t: float, kind: str, a: int, b: int = 0) -> None:
        heapq.heappush(self.events, (t, next(self.order), kind, a, b))

    def run(self) -> Result:
        for i, call in enumerate(self.calls):
            self.at(call.at + call.processing_s, "ready", i)
        while self.events:
            t, _, kind, a, b = heapq.heappop(self.events)
            self.now = t
            getattr(self, "on_" + kind)(a, b)
        self.result.unit_hours = len(self.state) * self.hours
        return self.result

    # ------------------------------------------------------------------ ETAs and coverage

    def etas(self, units: np.ndarray) -> np.ndarray:
        """Free units x demand nodes: expected time to each node from now, turnout included.
        A moving unit's is the better of two upper bounds: back along its way and on from where it
        set off, or on to its point and from there (every road here is two-way)."""
        out = self.point_eta[self.point[units]].copy()
        moving = units[self.state[units] == MOVING]
        if len(moving):
            rows = np.flatnonzero(self.state[units] == MOVING)
            elapsed = (self.now - self.depart[moving])[:, None]
            remaining = np.maximum(self.arrive[moving] - self.now, 0.0)[:, None]
            onward = self.city.to_nodes[self.point[moving]] + remaining
            back = self.origin_eta[moving] + elapsed
            out[rows] = np.minimum(onward, back) + self.moving_turnout
        return out

    def busy_share(self) -> float:
        return min(float(np.mean(self.state == BUSY)), 0.95)

    def free_units(self) -> np.ndarray:
        return np.flatnonzero(self.state != BUSY)

    # ------------------------------------------------------------------ events

    def on_ready(self, i: int, _: int) -> None:
        free = self.free_units()
        call = self.calls[i]
        if len(free) == 0:
            heapq.heappush(self.queue, (call.priority, self.now, i))
            return
        eta = self.etas(free)
        at_scene = eta[:, call.node]
        if self.policy.coverage_dispatch:
            margin = margin_for(call.priority, self.params.margins_s)
            choice = choose_unit(
                at_scene, covers(eta, self.target), self.city.weights, self.busy_share(), margin
            )
            pick = -1 if choice is None else choice.unit
        else:
            pick = closest(at_scene)
        if pick < 0:
            heapq.heappush(self.queue, (call.priority, self.now, i))
            return
        self.result.dispatches += 1
        self.result.not_fastest += int(at_scene[pick] > at_scene.min() + 1e-9)
        self.send(int(free[pick]), i)
        if self.policy.move_up:
            self.move_up()

    def send(self, u: int, i: int) -> None:
        call = self.calls[i]
        if self.state[u] == IDLE:
            drive = self.city.to_nodes[self.point[u], call.node]
            turnout = call.turnout_s
        else:
            elapsed = self.now - self.depart[u]
            remaining = max(self.arrive[u] - self.now, 0.0)
            drive = min(
                self.origin_eta[u, call.node] + elapsed,
                self.city.to_nodes[self.point[u], call.node] + remaining,
            )
            turnout = call.moving_turnout_s
        self.state[u] = BUSY
        self.trip[u] += 1
        on_scene = self.now + turnout + drive * call.drive_noise
        if call.measured:
            self.result.responses.append((call.priority, on_scene - call.at))
        self.at(on_scene + call.scene_s, "leave_scene", u, i)

    def on_leave_scene(self, u: int, i: int) -> None:
        call = self.calls[i]
        if call.treated_on_scene:
            # from the scene: via the best point (an upper bound: node-to-node times are not kept)
            via = self.city.to_points[call.node][:, None] + self.city.to_nodes
            self.free(u, via.min(axis=0), self.city.to_points[call.node])
            return
        hospitals = self.city.hospitals
        h = int(hospitals[np.argmin(self.city.to_points[call.node, hospitals])])
        drive = self.city.to_points[call.node, h] * call.transport_noise
        self.at(self.now + drive + call.handover_s, "handed_over", u, h)

    def on_handed_over(self, u: int, h: int) -> None:
        self.free(u, self.city.to_nodes[h], self.between[h])

    def free(self, u: int, from_here: np.ndarray, to_points: np.ndarray) -> None:
        """Unit u is free where it is (from_here: its times to the nodes, to_points: to the
        points): it takes the most urgent waiting call, else heads home, or where move-up says."""
        home = int(self.city.unit_home[u])
        self.state[u] = MOVING
        self.depart[u] = self.now
        self.point[u] = home
        self.arrive[u] = self.now + float(to_points[home])
        self.origin_eta[u] = from_here
        if self.queue:
            _, _, i = heapq.heappop(self.queue)
            self.result.dispatches += 1
            self.send(u, i)
            return
        target = home
        if self.policy.move_up and self.now - self.last_move[u] >= RELOCATION_COOLDOWN_S:
            target = self.return_point(u, to_points, home)
        if target != home and self.now < self.measure_end:
            self.result.relocations += 1
            self.last_move[u] = self.now
        self.head(u, target, float(to_points[target]))
        if self.policy.move_up:
            self.move_up()

    def head(self, u: int, point: int, travel: float) -> None:
        self.state[u] = MOVING if travel > 0 else IDLE
        self.point[u] = point
        self.trip[u] += 1
        self.arrive[u] = self.now + travel
        if travel > 0:
            self.at(self.arrive[u], "arrived", u, int(self.trip[u]))

    def on_arrived(self, u: int, trip: int) -> None:
        if self.trip[u] == trip and self.state[u] == MOVING:
            self.state[u] = IDLE

    # ------------------------------------------------------------------ move-up

    def planned_cover(self, units: np.ndarray) -> np.ndarray:
        """Free units' coverage where they are or are heading (a move-up already ordered counts
        as done, so the same gap is not filled twice)."""
        return self.point_cover[self.point[units]]

    def return_point(self, u: int, to_points: np.ndarray, home: int) -> int:
        """Where a unit that just came free should go: home, unless another point within the
        relocation drive adds more than move_min_gain of coverage than home does."""
        others = self.free_units()
        others = others[others != u]
        gains = point_gains(
            self.planned_cover(others), self.point_cover, self.city.weights, self.busy_share()
        )
        allowed = np.zeros(len(gains), bool)
        allowed[self.city.stations] = True
        allowed[self.city.standby] = True
        gains = np.where(
            allowed & (to_points <= to_points[home] + self.params.move_max_travel_s), gains, -np.inf
        )
        best = int(np.argmax(gains))
        return best if gains[best] > gains[home] + self.params.move_min_gain else home

    def move_up(self) -> None:
        for _ in range(self.params.moves_per_trigger):
            free = self.free_units()
            if len(free) == 0:
                return
            movable = (self.state[free] == IDLE) & (self.now - self.last_move[free] >= RELOCATION_COOLDOWN_S)
            if not movable.any():
                return
            points = np.concatenate([self.city.stations, self.city.standby])
            move = best_move(
                self.planned_cover(free),
                movable,
                self.point_cover[points],
                self.between[self.point[free]][:, points],
                self.city.weights,
                self.busy_share(),
                self.params.move_max_travel_s,
                self.params.move_min_gain,
            )
            if move is None:
                return
            u = int(free[move.unit])
            self.origin_eta[u] = self.city.to_nodes[self.point[u]]
            self.depart[u] = self.now
            self.last_move[u] = self.now
            if self.now < self.measure_end:
                self.result.relocations += 1
            self.head(u, int(points[move.point]), move.travel_s)


def simulate(city: City, calls: list[Call], policy: Policy, params: Params, hours: float) -> Result:
    return Simulation(city, calls, policy, params, hours).run()
