"""What the report tests share: incidents whose clocks are known to the microsecond.

Each incident is made by the actions (create, dispatch, the unit's whole status flow), so its
rows, assignment and events are real. The clocks the actions stamp are "now", so the helper
then writes the exact times the test wants with queryset.update(): reports only read the
clocks, and the status flow that fills them in is tested by the crew tests. This is a test
fixture's licence; no product code writes clocks behind the actions.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.gis.geos import Point
from django.test import Client

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Incident, User
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus

TZ = ZoneInfo("Asia/Shanghai")
# A past month, so "now" never cuts it short.
MARCH = datetime(2026, 3, 1, tzinfo=TZ)
MONTH_QUERY = "month=2026-03"

JOB = [
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
    UnitStatus.AVAILABLE,
]
# Incident clock -> seconds after the call was received, for a complete job.
CLOCKS = (
    "call_answered_at",
    "dispatched_at",
    "en_route_at",
    "on_scene_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
    "unit_available_at",
)
ASSIGNMENT_CLOCKS = {
    "dispatched_at": "dispatched_at",
    "en_route_at": "en_route_at",
    "on_scene_at": "on_scene_at",
    "transport_started_at": "transport_started_at",
    "at_hospital_at": "at_hospital_at",
    "handover_at": "handover_at",
    "unit_available_at": "cleared_at",
}


@dataclass
class Job:
    """One incident: when its call came, and each clock as seconds after that (None: unset)."""

    received: datetime
    offsets: dict[str, float | None] = field(default_factory=dict)
    priority: int = 2
    unit: object = None
    hospital: object = None
    point: Point | None = None

    def at(self, clock: str) -> datetime | None:
        if clock == "call_received_at":
            return self.received
        seconds = self.offsets.get(clock)
        return None if seconds is None else self.received + timedelta(seconds=seconds)


def steady(
    answer=5.0, processing=40.0, turnout=60.0, travel=400.0, scene=600.0, transport=700.0, handover=900.0
):
    """Offsets for a job with these intervals, each clock after the one before."""
    offsets, t = {}, 0.0
    for clock, step in zip(
        CLOCKS, (answer, processing, turnout, travel, scene, transport, handover, 300.0), strict=True
    ):
        t += step
        offsets[clock] = t
    return offsets


def make(world, job: Job, actor: User | None = None) -> Incident:
    """The incident through the actions, then its clocks set to the job's exact times."""
    actor = actor or world.alice
    incident = create_incident(
        actor=actor,
        location=job.point or Point(119.6, 24.9, srid=4326),
        location_source="pin",
        priority=job.priority,
        chief_complaint="胸痛",
        call_received_at=job.received,
        call_answered_at=job.at("call_answered_at") or job.received,
    )
    assignment = None
    if job.unit is not None:
        assignment = dispatch_unit(incident, job.unit, actor=actor, hospital=job.hospital)
        for status in JOB:
            set_unit_status(job.unit, status, actor=actor)
    clocks = {clock: job.at(clock) for clock in ("call_received_at", *CLOCKS)}
    # The report's period goes by created_at: a few seconds after the call, like the console.
    Incident.objects.filter(pk=incident.pk).update(created_at=job.received + timedelta(seconds=1), **clocks)
    if assignment is not None:
        times = {name: job.at(clock) for clock, name in ASSIGNMENT_CLOCKS.items()}
        times["dispatched_at"] = times["dispatched_at"] or job.received
        Assignment.objects.filter(pk=assignment.pk).update(**times)
    incident.refresh_from_db()
    return incident


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
