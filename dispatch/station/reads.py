"""What a station screen reads: its station's units and their jobs waiting to roll, and one
job's dispatch slip. Only what the station needs to turn out: never the caller's number nor the
patient's record (dispatch.core.permissions.visible_station_assignments holds the rule)."""

from typing import Any

from django.db.models import QuerySet

from dispatch.core.event_kinds import EventKind
from dispatch.core.permissions import visible_station_assignments
from dispatch.crew.reads import triage_summary
from dispatch.models import Assignment, Event, MoveUp, MoveUpState, User
from fleet.models import Station, Unit

# A unit past any of these has left the station: its job is off the screen.
LEFT = ("en_route_at", "on_scene_at", "patient_contact_at", "transport_started_at", "at_hospital_at")


def waiting_jobs(user: User) -> QuerySet[Assignment]:
    """The station's jobs whose unit has not left yet, oldest first."""
    return (
        visible_station_assignments(user)
        .filter(**{f"{name}__isnull": True for name in LEFT})
        .select_related("incident", "unit", "dispatched_by")
        .order_by("dispatched_at", "pk")
    )


def station_acknowledgements(assignment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For each job acknowledged at the station: when and by which screen."""
    found: dict[int, dict[str, Any]] = {}
    rows = Event.objects.filter(
        kind=EventKind.ASSIGNMENT_STATION_ACKNOWLEDGED, data__assignment__in=assignment_ids
    ).order_by("seq")
    for event in rows:
        found.setdefault(event.data["assignment"], {"at": event.at, "by": event.data.get("by", "")})
    return found


def job_out(a: Assignment, acknowledged: dict[str, Any] | None) -> dict[str, Any]:
    incident = a.incident
    return {
        "assignment": a.pk,
        "number": incident.number,
        "priority": incident.priority,
        "chief_complaint": incident.chief_complaint,
        "address": incident.address,
        "unit": a.unit.call_sign,
        "unit_status": a.unit.status,
        "dispatched_at": a.dispatched_at,
        "crew_acknowledged_at": a.acknowledged_at,
        "station_acknowledged_at": acknowledged["at"] if acknowledged else None,
        "station_acknowledged_by": acknowledged["by"] if acknowledged else None,
    }


def unit_out(unit: Unit, move: MoveUp | None = None) -> dict[str, Any]:
    """`move`: the unit's accepted move-up (it is relocating there, still free for a job)."""
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "status": unit.status,
        "status_changed_at": unit.status_changed_at,
        "relocating_to": {"name": move.site.name, "name_en": move.site.name_en} if move else None,
    }


def relocations(units: list[Unit]) -> dict[int, MoveUp]:
    """Each unit's accepted move-up (one at most: the one_move_up_per_unit constraint)."""
    moves = MoveUp.objects.filter(unit__in=units, state=MoveUpState.ACCEPTED)
    return {m.unit_id: m for m in moves.select_related("to_station", "to_standby")}


def board(user: User, station: Station) -> dict[str, Any]:
    """The screen's whole state: its station, its units (where each relocates, if it does), and
    the jobs waiting to roll."""
    jobs = list(waiting_jobs(user))
    acknowledged = station_acknowledgements([a.pk for a in jobs])
    units = list(Unit.objects.filter(home_station=station).order_by("call_sign"))
    moving = relocations(units)
    return {
        "station": {"id": station.pk, "code": station.code, "name": station.name, "name_en": station.name_en},
        "units": [unit_out(u, moving.get(u.pk)) for u in units],
        "jobs": [job_out(a, acknowledged.get(a.pk)) for a in jobs],
    }


def slip(assignment: Assignment) -> dict[str, Any]:
    """The dispatch slip (派车单): everything the crew takes on paper, nothing of the caller."""
    incident = assignment.incident
    by = assignment.dispatched_by
    where_inside = [
        incident.address_building,
        incident.address_unit,
        incident.address_floor,
        incident.address_room,
    ]
    return {
        "assignment": assignment,
        "incident": incident,
        "unit": assignment.unit,
        "where_inside": [part for part in where_inside if part],
        "triage": triage_summary(incident.triage_answers),
        "dispatcher": (by.get_full_name() or by.username) if by else "",
        "acknowledged": station_acknowledgements([assignment.pk]).get(assignment.pk),
    }
