"""Make the city live: calls, dispatches, driving ambulances and crews, through the public API.

    python manage.py simulate --base-url http://127.0.0.1:8000           # the demo
    python manage.py simulate --manual                                    # calls only: you dispatch
    python manage.py simulate --calls-per-hour 600 --seconds 600          # a load test

It signs in as its own dispatcher (sim-dispatcher) and one crew account per unit
(sim-crew-<unit id>), created here with fresh random passwords each run. Units a person is on
shift with are left to that person.
"""

import signal
import threading
import time
import uuid
from argparse import ArgumentParser

import requests
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

from dispatch.demo.crews import SIM_CREW_PREFIX, sim_crew  # make_demo_city puts these crews on shift
from dispatch.demo.simulator import (
    PLACE_WEIGHTS,
    Pace,
    Session,
    SimPlace,
    Simulator,
    SimUnit,
    haversine_m,
    new_password,
)
from dispatch.models import Place, Role, User
from fleet.models import CrewShift, Unit

SIM_DISPATCHER = "sim-dispatcher"


def sim_account(username: str, role: str) -> str:
    """Create or refresh a simulator account; return its new password."""
    password = new_password()
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    User.objects.filter(pk=user.pk).update(
        password=make_password(password), role=role, is_active=True, first_name="模拟", last_name=""
    )
    return password


def wait_for(base_url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise CommandError(f"{base_url} did not answer /healthz within {seconds:.0f} s")
        time.sleep(0.5)


def world_places() -> list[SimPlace]:
    rows = Place.objects.filter(kind__in=PLACE_WEIGHTS).values_list("name", "point", "kind")
    return [SimPlace(name, point.x, point.y, PLACE_WEIGHTS[kind]) for name, point, kind in rows]


def humans_on_shift() -> set[int]:
    shifts = CrewShift.objects.current().exclude(user__username__startswith=SIM_CREW_PREFIX)
    return set(shifts.values_list("unit_id", flat=True))


def world_units(limit: int | None) -> list[SimUnit]:
    taken = humans_on_shift()
    units = (
        Unit.objects.in_service()
        .filter(tracker_id__isnull=False)
        .exclude(pk__in=taken)
        .select_related("home_station")
        .order_by("call_sign")
    )
    out = []
    for unit in units[:limit] if limit else units:
        home = unit.home_station.location if unit.home_station else unit.position
        if home is None:
            continue
        here = unit.position or home
        out.append(
            SimUnit(
                unit.pk, unit.call_sign, unit.tracker_id, unit.tracker_key, (home.x, home.y), (here.x, here.y)
            )
        )
    return out


def sign_in_crews(base: str, units: list[SimUnit]) -> None:
    """One crew account per unit, rostered on it (dispatch/roster), signed in on the tablet API
    and on shift on its unit."""
    rostered = {u.pk: u for u in Unit.objects.filter(pk__in=[unit.id for unit in units])}
    for unit in units:
        sim_crew(rostered[unit.id])
        username = f"{SIM_CREW_PREFIX}{unit.id}"
        unit.crew = Session(base, username, sim_account(username, Role.CREW))
        response = unit.crew.post("/api/crew/shift", {"unit": unit.id}, key=str(uuid.uuid4()))
        if response.status_code != 200:
            raise CommandError(f"cannot start a shift on {unit.call_sign}: {response.text[:200]}")


def road_route():
    """Routes on the active road network, or a straight line at 40 km/h without one."""
    from fleet.roads.router import get_router

    router = get_router()

    def route(a: tuple[float, float], b: tuple[float, float]) -> tuple[list[tuple[float, float]], float]:
        if router is not None:
            found = router.route(a, b)
            if found.coordinates and found.seconds < float("inf"):
                return list(found.coordinates), float(found.seconds)
        return [a, b], haversine_m(a, b) / (40 / 3.6)

    return route


class Command(BaseCommand):
    help = "Make the city live through the public API: calls, dispatches, moving ambulances, crews."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the running system")
        parser.add_argument("--calls-per-hour", type=float, default=20, help="daily average (default 20)")
        parser.add_argument("--manual", action="store_true", help="leave calls for human dispatchers")
        parser.add_argument(
            "--pace", type=float, default=1, help="divide on-scene and hospital times by this"
        )
        parser.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
        parser.add_argument("--max-calls", type=int, help="stop creating calls after this many")
        parser.add_argument("--units", type=int, help="simulate at most this many units")
        parser.add_argument("--seed", type=int, default=120)
        parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the server to be up")
        parser.add_argument("--report", type=float, default=30, help="print counters every N seconds")

    def handle(self, *args, **opts) -> None:
        base = opts["base_url"].rstrip("/")
        wait_for(base, opts["wait"])
        places, units = world_places(), world_units(opts["units"])
        if not places or not units:
            raise CommandError("No places or no units with a tracker id: load a city first (make_demo_city).")
        dispatcher = Session(base, SIM_DISPATCHER, sim_account(SIM_DISPATCHER, Role.DISPATCHER))
        sign_in_crews(base, units)
        sim = Simulator(
            base,
            dispatcher,
            units,
            places,
            road_route(),
            calls_per_hour=opts["calls_per_hour"],
            auto_dispatch=not opts["manual"],
            pace=Pace().scaled(opts["pace"]),
            seed=opts["seed"],
            max_calls=opts["max_calls"],
        )
        mode = "leaving calls to you" if opts["manual"] else "dispatching the top recommendation"
        self.stdout.write(f"simulating {len(units)} units, {opts['calls_per_hour']:g} calls/h, {mode}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        reporter = threading.Thread(target=self.report, args=(sim, stop, opts["report"]), daemon=True)
        reporter.start()
        try:
            sim.run(opts["seconds"], stop)
        except KeyboardInterrupt:
            stop.set()
        self.stdout.write(f"simulator stopped: {sim.counters.line(len(sim.waiting))}")

    def report(self, sim: Simulator, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            self.stdout.write(f"simulator: {sim.counters.line(len(sim.waiting))}")
