"""A hand-made history over several closed days of March 2026 for the rollup tests: odd
milliseconds, ties, missing and impossible clocks, several priorities, two hospitals, two
districts with an incident on their border, one outside and one with no location, calls
answered by two dispatchers (one signed on to a seat), and overrides with reasons.

Made by the actions (tests/support/report_world.make), then the clocks put in March with the
fixture's licence; everything in March is more than a day old, so every day is closed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from dispatch.calls.actions import record_call_event, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from dispatch.handover.actions import create_seat, sign_on
from dispatch.incidents.actions import cancel_assignment, dispatch_unit
from dispatch.models import Assignment, Call, Incident, SeatSession
from dispatch.registry.actions import save_district
from dispatch.reports import ReportFilter
from tests.support.report_world import MARCH, Job, make, steady


def square(west: float, south: float, east: float, north: float) -> MultiPolygon:
    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    return MultiPolygon(Polygon(ring), srid=4326)


# (lon, lat): west district, the border (counted in A1), east district, outside both.
PLACES = [(119.55, 24.85), (119.60, 24.85), (119.65, 24.85), (119.5999, 24.81), (119.80, 24.95)]


@dataclass
class History:
    incidents: list[Incident]
    jobs: list[Job]


def taken_call(n: int, by, rang: datetime, answer_s: float) -> Incident:
    """A call rung and taken by `by` through the call actions, then put at `rang`."""
    call = record_call_event(CallEvent("pbx", f"rollup-{n}", CallEventKind.RINGING, rang))
    take_call(call, actor=by)
    Call.objects.filter(pk=call.pk).update(ringing_at=rang, answered_at=rang + timedelta(seconds=answer_s))
    incident = Incident.objects.get(call=call)
    Incident.objects.filter(pk=incident.pk).update(created_at=rang + timedelta(seconds=2))
    return incident


def make_history(world) -> History:
    save_district("A1", name="西城区", name_en="West", polygon=square(119.50, 24.80, 119.60, 24.90))
    save_district("B2", name='东"港"区', name_en="East", polygon=square(119.60, 24.80, 119.70, 24.90))
    seat = create_seat("调度台 1", actor=world.bob)
    sign_on(seat, actor=world.alice)
    # alice was signed on to the seat all month (the fixture's licence).
    SeatSession.objects.filter(user=world.alice).update(signed_on_at=MARCH - timedelta(days=1))
    units = [world.als1, world.als2, world.bls1, world.neg1]
    hospitals = [world.city, world.county, None]
    jobs, incidents = [], []
    for n in range(40):
        day = n % 5  # days 2 to 6 of March, several jobs a day, in no order
        received = MARCH + timedelta(days=2 + day, hours=(n * 7) % 23, minutes=n, seconds=0.37 * n)
        # Odd milliseconds and ties: the travel repeats every 6 jobs, the handover every 4.
        offsets = steady(
            answer=3.0 + (n % 3) * 0.0004,
            processing=20.0 + (n % 7) * 11.111,
            travel=300.0 + (n % 6) * 97.0007,
            handover=600.0 + (n % 4) * 450.25,
        )
        if n % 9 == 4:
            offsets["on_scene_at"] = None  # missing while later clocks are set: unmeasured
        if n % 11 == 5:
            offsets["handover_at"] = None  # handover never recorded, the unit cleared: unmeasured
        if n % 13 == 6:
            offsets["on_scene_at"] = offsets["en_route_at"] - 5  # out of order: impossible
        job = Job(
            received,
            offsets,
            priority=1 + n % 3,
            unit=units[n % 4],
            hospital=hospitals[n % 3],
            point=Point(*PLACES[n % 5], srid=4326),
        )
        jobs.append(job)
        incidents.append(make(world, job, actor=world.alice if n % 2 else world.bob))
    # One with no location.
    Incident.objects.filter(pk=incidents[7].pk).update(location=None)
    # Calls answered by alice and bob, their incidents dispatched by them, with overrides.
    for n in range(12):
        by = world.alice if n % 3 else world.bob
        rang = MARCH + timedelta(days=2 + n % 5, hours=n, seconds=0.5 * n)
        incident = taken_call(n, by, rang, answer_s=2.0 + n % 4)
        unit = units[n % 4]
        rank = 1 if n % 4 == 0 else 2 + n % 3
        assignment = dispatch_unit(
            incident,
            unit,
            actor=by,
            recommended_rank=rank,
            eta_s=300.0 + 37.5 * (n % 5),
            override_reason="" if rank == 1 else ("车况" if n % 2 else "更近的车在加油"),
        )
        cancel_assignment(assignment, actor=by, reason="改派")
        Assignment.objects.filter(pk=assignment.pk).update(dispatched_at=rang + timedelta(seconds=40 + n))
        Incident.objects.filter(pk=incident.pk).update(
            call_answered_at=rang + timedelta(seconds=2), dispatched_at=rang + timedelta(seconds=40 + n)
        )
    return History(incidents, jobs)


def ranges() -> list[ReportFilter]:
    """Whole March, a few days, one day, a partial day, a priority, and up to now (open days)."""
    from django.utils import timezone

    day = timedelta(days=1)
    return [
        ReportFilter(MARCH, MARCH + 31 * day),
        ReportFilter(MARCH + 3 * day, MARCH + 5 * day),
        ReportFilter(MARCH + 4 * day, MARCH + 5 * day),
        ReportFilter(MARCH + 3 * day + timedelta(hours=12), MARCH + 6 * day),
        ReportFilter(MARCH, MARCH + 31 * day, priority=2),
        ReportFilter(MARCH + 2 * day, MARCH + 7 * day, priority=3),
        ReportFilter(timezone.now() - 300 * day, timezone.now() + day),
    ]


def double_every_stored_count() -> None:
    """Every rollup row's values, counts and counted-apart rows twice over: a figure read from the
    rollups changes, one read from the rows does not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dispatch_report_rollup "
            "SET vals = vals || vals, counts = counts || counts, n_null = n_null * 2, "
            "n_unmeasured = n_unmeasured * 2"
        )


@dataclass
class RungCall:
    """A call's own clocks, as the test set them (None: never reported)."""

    rang: datetime
    answered: datetime | None
    ended: datetime | None
    status: str


def make_calls() -> list[RungCall]:
    """Calls over the closed days 2 to 6 March for the answering rollups: odd milliseconds, a
    fraction of a millisecond over the 10 s target, exactly on it, ties, abandoned callers with
    odd waits, an answer before the ring and one over a day after it (unmeasurable), a call still
    "ringing" (its end lost), and calls a millisecond either side of local midnight (centre time),
    so that the day a call belongs to is the day it rang in. Made by the call actions (telephony
    events), the impossible clocks then set with the fixture's licence."""
    from dispatch.calls.actions import record_call_event
    from dispatch.calls.telephony.events import CallEvent, CallEventKind
    from dispatch.reports.filters import local_midnight

    made: list[RungCall] = []

    def event(call_id: str, kind: CallEventKind, at: datetime):
        return record_call_event(CallEvent("pbx", call_id, kind, at, caller="+8613900000000", called="120"))

    n = 0
    for day in range(2, 7):
        midnight = local_midnight((MARCH + timedelta(days=day)).date())
        rings = [
            midnight,  # the first instant of the day: this day's
            midnight - timedelta(microseconds=500),  # half a millisecond before: the day before
            midnight + timedelta(hours=11, seconds=0.137 * day),
            midnight + timedelta(days=1) - timedelta(milliseconds=1),  # the last millisecond
        ]
        answers = [10.0, 10.0004, 9.9994 + day, 3.217 * day, None, None, 61.0, 10.001]
        for i, rang in enumerate(rings):
            for answer in [answers[(2 * i + day + k) % len(answers)] for k in range(4)]:
                n += 1
                call_id = f"answer-rollup-{n}"
                event(call_id, CallEventKind.RINGING, rang)
                if answer is not None:
                    answered = rang + timedelta(seconds=answer)
                    event(call_id, CallEventKind.ANSWERED, answered)
                    event(call_id, CallEventKind.ENDED, answered + timedelta(seconds=90))
                    made.append(RungCall(rang, answered, answered + timedelta(seconds=90), "ended"))
                else:
                    ended = rang + timedelta(seconds=4.0001 + 7 * (n % 4))
                    event(call_id, CallEventKind.ENDED, ended)
                    made.append(RungCall(rang, None, ended, "missed"))
        # Unmeasurable: answered before the ring; answered over a day later; ringing, its end lost.
        for k, (answer, status) in enumerate([(-2.0, "ended"), (86_401.0, "ended"), (None, "ringing")]):
            n += 1
            rang = midnight + timedelta(hours=5 + k, milliseconds=day)
            call = event(f"answer-rollup-{n}", CallEventKind.RINGING, rang)
            answered = rang + timedelta(seconds=answer) if answer is not None else None
            ended = answered + timedelta(seconds=30) if answered is not None else None
            Call.objects.filter(pk=call.pk).update(answered_at=answered, ended_at=ended, status=status)
            made.append(RungCall(rang, answered, ended, status))
    return made
