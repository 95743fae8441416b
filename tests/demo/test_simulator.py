"""The simulator drives a real server through its public API: one whole job, end to end.

A daphne serves the test database; the simulator signs in as its dispatcher and crews, opens
an incident beside a station, dispatches the top recommendation, reports GPS through the
OsmAnd endpoint and taps every status through the crew API. Dwell times are shrunk so the job
finishes in seconds; driving stays at road speed (the scene is at the station).
"""

import random
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from dispatch.crew.actions import end_shift
from dispatch.demo.simulator import (
    COMPLAINTS,
    Drive,
    Pace,
    Session,
    SimPlace,
    Simulator,
    draw_complaint,
    haversine_m,
    hourly_rate,
)
from dispatch.management.commands.simulate import (
    SIM_DISPATCHER,
    road_route,
    sign_in_crews,
    sim_account,
    world_units,
)
from dispatch.models import Event, Incident, IncidentStatus, Role, VitalSign
from fleet.models import CrewShift, PositionReport, Station

pytestmark = pytest.mark.django_db(transaction=True)

QUICK = Pace(
    acknowledge=(0.1, 0.2),
    en_route=(0.2, 0.3),
    patient_contact=(0.1, 0.2),
    on_scene=(0.1, 0.2),
    handover=(0.1, 0.2),
    treated_on_scene_share=1.0,  # the job ends on scene: no drive to a hospital to wait for
    close_after_s=0.0,
    poll_s=0.2,
)


@pytest.fixture
def real_password_hashing(settings):
    """The server in its own process checks passwords with the default hashers, so the
    accounts the simulator signs in with are hashed with those too."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def test_evening_is_busier_than_the_small_hours_and_the_day_averages_out() -> None:
    assert hourly_rate(24, 20) > 1.5 * hourly_rate(24, 3)
    assert sum(hourly_rate(24, h) for h in range(24)) == pytest.approx(24 * 24)


def test_priority_mix_is_realistic() -> None:
    rng = random.Random(1)
    drawn = [draw_complaint(rng).priority for _ in range(20_000)]
    shares = {p: drawn.count(p) / len(drawn) for p in (1, 2, 3, 4)}
    assert 0.03 < shares[1] < 0.08 and 0.15 < shares[2] < 0.25
    assert 0.38 < shares[3] < 0.52 and 0.25 < shares[4] < 0.36
    assert {c.capability for c in COMPLAINTS} <= {"als", "bls"}


def test_a_drive_moves_along_the_route_at_road_speed() -> None:
    route = [(119.60, 24.90), (119.61, 24.90), (119.61, 24.91)]
    drive = Drive(route, seconds=200.0, started=1000.0)
    start, _ = drive.position(1000.0)
    middle, heading = drive.position(1100.0)
    assert start == route[0] and drive.position(1300.0)[0] == route[-1]
    # half the time, half the road: just past the corner
    along = haversine_m(route[0], route[1]) + haversine_m(route[1], middle)
    assert along == pytest.approx(drive.metres / 2, rel=0.01)
    assert drive.speed_kmh == pytest.approx(3.6 * drive.metres / 200)
    assert 0 <= heading < 360 and not drive.arrived(1199) and drive.arrived(1200)


class RefusingSession:
    """A dispatcher whose every request is answered 503, as during a database failover."""

    def get(self, path: str, **params: object) -> SimpleNamespace:
        return SimpleNamespace(status_code=503, text="", json=dict)

    def post(self, path: str, body: dict, key: str | None = None) -> SimpleNamespace:
        return self.get(path)


def test_a_refused_recommendation_is_counted_and_the_loop_goes_on() -> None:
    straight = lambda a, b: ([a, b], 60.0)  # noqa: E731
    sim = Simulator("http://127.0.0.1:9", RefusingSession(), [], [], straight, workers=1)
    try:
        assert sim.dispatch_best(1, COMPLAINTS[0]) is False
    finally:
        sim.pool.shutdown()
    assert sim.counters.unplaced == 1 and "unplaced=1" in sim.counters.line()


def test_one_job_end_to_end_through_the_public_api(live_url, real_password_hashing) -> None:  # noqa: F811
    call_command("make_demo_city", verbosity=0)
    station = Station.objects.order_by("code").first()
    units = world_units(limit=3)
    # make_demo_city puts a crew on every unit; only the three simulated ones keep theirs, so
    # the dispatcher sends a unit somebody drives (one nobody is on shift on is not sent)
    for shift in CrewShift.objects.current().exclude(unit_id__in=[u.id for u in units]):
        end_shift(shift.user)
    sign_in_crews(live_url, units)
    dispatcher = Session(live_url, SIM_DISPATCHER, sim_account(SIM_DISPATCHER, Role.DISPATCHER))
    scene = SimPlace("演练现场", station.location.x, station.location.y, 1.0)
    sim = Simulator(live_url, dispatcher, units, [scene], road_route(), pace=QUICK, max_calls=1, workers=3)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sim.tick()
        if sim.counters.closed:
            break
        time.sleep(0.1)

    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.CLOSED, sim.counters.line()
    assert incident.created_by.username == SIM_DISPATCHER and incident.priority is not None
    assignment = incident.assignments.get()
    assert assignment.recommended_rank is not None and assignment.eta_at_dispatch_s is not None
    taps = list(
        Event.objects.filter(kind="unit.status", unit=assignment.unit)
        .order_by("seq")
        .values_list("data", flat=True)
    )
    assert [t["to"] for t in taps] == ["acknowledged", "en_route", "on_scene", "patient_contact", "available"]
    assert all(t["client_time"] for t in taps)
    assert VitalSign.objects.filter(assignment=assignment).exists()
    # every simulated unit reported through the OsmAnd endpoint, as a tracker
    reporting = set(PositionReport.objects.filter(source="tracker").values_list("unit_id", flat=True))
    assert reporting == {u.id for u in units}
    assert sim.counters.refused == 0 and sim.counters.fixes_refused == 0
