"""What the screens read of a major incident: the picture (casualties by tag and where they are,
units, hospitals), the distribution plan's inputs, a hospital's own allocation, and the report
afterwards."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from dispatch.major.distribution import (
    CARRIED,
    DEFAULT_ER_CAPACITY,
    DEFAULT_RED_CAPACITY,
    Destination,
    Patient,
    Plan,
    plan_distribution,
)
from dispatch.models import (
    NOTICE_VITALS,
    TAG_ORDER,
    Assignment,
    Casualty,
    CasualtyNotice,
    CasualtyStatus,
    MajorIncident,
)
from dispatch.recommend.reads import recommend_hospitals
from hospitals.eta import road_etas
from hospitals.models import BedAvailability, BedCategory, DiversionCategory, Hospital

# Road speed for a hospital no road search reached (no network loaded): straight line at this.
STRAIGHT_LINE_MPS = 10.0

# An adult casualty's reading outside these (inclusive) is marked on the ER board: the field
# triage thresholds (SBP < 90, RR < 10 or > 29, GCS <= 13) and the usual alarm limits for the rest.
NOTICE_NORMAL: dict[str, tuple[int, int]] = {
    "heart_rate": (50, 120),
    "systolic_bp": (90, 180),
    "diastolic_bp": (40, 110),
    "spo2": (94, 100),
    "respiratory_rate": (10, 29),
    "gcs": (14, 15),
}


def where(casualty: Casualty) -> str:
    """at_scene, transporting or at_hospital: the ambulance reaching the hospital counts as
    arrival even before anyone there taps it."""
    job = casualty.assignment
    if casualty.status == CasualtyStatus.TRANSPORTING and job is not None and job.at_hospital_at is not None:
        return CasualtyStatus.AT_HOSPITAL
    return casualty.status


def casualty_row(c: Casualty) -> dict[str, Any]:
    return {
        "id": c.pk,
        "tag_number": c.tag_number,
        "tag": c.tag,
        "sex": c.sex,
        "age_estimate": c.age_estimate,
        "description": c.description,
        "where": where(c),
        "unit": c.assignment.unit.call_sign if c.assignment else None,
        "hospital": c.hospital_id,
        "hospital_name": c.hospital.short_name or c.hospital.name if c.hospital else None,
        "registered_at": c.registered_at,
        "tagged_at": c.tagged_at,
        "transported_at": c.transported_at,
        "acknowledged_at": c.acknowledged_at,
    }


def casualties_of(major: MajorIncident) -> QuerySet[Casualty]:
    return major.casualties.select_related("hospital", "assignment__unit")


def major_summary(major: MajorIncident) -> dict[str, Any]:
    incident = major.incident
    return {
        "id": major.pk,
        "incident": incident.pk,
        "incident_number": incident.number,
        "level": major.level,
        "status": major.status,
        "declared_at": major.declared_at,
        "declared_by": major.declared_by.get_full_name() or major.declared_by.username
        if major.declared_by
        else None,
        "rule": major.rule,
        "sitrep": {
            "exact_location": major.exact_location,
            "incident_type": major.incident_type,
            "hazards": major.hazards,
            "access": major.access,
            "casualties_reported": major.casualties_reported,
            "casualty_notes": major.casualty_notes,
            "services": major.services,
            "updated_at": major.sitrep_at,
        },
        "command_unit": major.command_unit.call_sign if major.command_unit else None,
        "staging_point": [major.staging_point.x, major.staging_point.y] if major.staging_point else None,
        "access_route": [list(p) for p in major.access_route.coords] if major.access_route else None,
        "scene": [incident.location.x, incident.location.y] if incident.location else None,
    }


def picture(major: MajorIncident) -> dict[str, Any]:
    """The supervisor's casualty board and the tablets' view: every casualty by tag and where,
    the units sent, the hospitals and what each gets."""
    rows = [casualty_row(c) for c in casualties_of(major)]
    by_tag: dict[str, Counter[str]] = {tag: Counter() for tag in TAG_ORDER}
    for row in rows:
        by_tag[row["tag"]][row["where"]] += 1
    hospitals: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["hospital"] is not None:
            h = hospitals.setdefault(
                row["hospital"],
                {"id": row["hospital"], "name": row["hospital_name"], "tags": Counter(), "acknowledged": 0},
            )
            h["tags"][row["tag"]] += 1
            h["acknowledged"] += row["acknowledged_at"] is not None
    units = [
        {
            "assignment": a.pk,
            "unit": a.unit.call_sign,
            "status": a.unit.status,
            "command": a.unit_id == major.command_unit_id,
            "dispatched_at": a.dispatched_at,
            "on_scene_at": a.on_scene_at,
        }
        for a in Assignment.objects.filter(incident=major.incident, cancelled_at__isnull=True)
        .select_related("unit")
        .order_by("dispatched_at", "pk")
    ]
    unassigned = [r["id"] for r in rows if r["tag"] in CARRIED and r["hospital"] is None]
    return {
        **major_summary(major),
        "casualties": rows,
        "counts": {tag: {"total": sum(c.values()), **c} for tag, c in by_tag.items()},
        "hospitals": [{**h, "tags": dict(h["tags"])} for h in hospitals.values()],
        "units": units,
        "unassigned": unassigned,
    }


def notice_row(notice: CasualtyNotice | None) -> dict[str, Any] | None:
    """A casualty's pre-arrival notice as the ER board and the tablet show it, with the readings
    outside NOTICE_NORMAL named in `abnormal`."""
    if notice is None:
        return None
    vitals = {name: getattr(notice, name) for name in NOTICE_VITALS}
    abnormal = [
        name
        for name, value in vitals.items()
        if value is not None and not NOTICE_NORMAL[name][0] <= value <= NOTICE_NORMAL[name][1]
    ]
    return {
        "version": notice.version,
        "first_sent_at": notice.first_sent_at,
        "sent_at": notice.sent_at,
        "unit": notice.assignment.unit.call_sign,
        "injuries": notice.injuries,
        "chips": list(notice.chips),
        "vitals": vitals,
        "abnormal": abnormal,
    }


def noticed_row(c: Casualty) -> dict[str, Any]:
    """A casualty's row with its notice (a casualty without one has no `notice` attribute)."""
    notice = c.notice if hasattr(c, "notice") else None
    return {**casualty_row(c), "notice": notice_row(notice), "eta_s": None, "arrives_at": None}


def with_notices(casualties: QuerySet[Casualty]) -> QuerySet[Casualty]:
    return casualties.select_related("notice__assignment__unit")


def aboard(assignment: Assignment) -> list[dict[str, Any]]:
    """The casualties in this ambulance, each with its notice: what the crew sends notices for."""
    casualties = with_notices(
        Casualty.objects.filter(assignment=assignment).select_related("hospital", "assignment__unit")
    )
    return [noticed_row(c) for c in casualties.order_by("pk")]


def hospital_allocation(major: MajorIncident, hospital_id: int) -> dict[str, Any]:
    """What one ER sees: the major incident's headline and the patients sent to it, nobody else's,
    each with its pre-arrival notice and, on the way, the ambulance's road ETA."""
    casualties = list(with_notices(casualties_of(major).filter(hospital_id=hospital_id)))
    rows = [noticed_row(c) for c in casualties]
    on_way = {
        c.assignment.unit_id: c.assignment.unit
        for c, row in zip(casualties, rows, strict=True)
        if row["where"] == CasualtyStatus.TRANSPORTING and c.assignment is not None
    }
    if on_way:
        hospital = Hospital.objects.get(pk=hospital_id)
        etas = road_etas(hospital, list(on_way.values()))
        for c, row in zip(casualties, rows, strict=True):
            eta = etas.get(c.assignment.unit_id) if c.assignment is not None else None
            if row["where"] == CasualtyStatus.TRANSPORTING and eta is not None and eta.seconds is not None:
                row["eta_s"] = round(eta.seconds)
                row["arrives_at"] = eta.arrives_at
    return {
        "id": major.pk,
        "incident_number": major.incident.number,
        "level": major.level,
        "status": major.status,
        "incident_type": major.incident_type,
        "casualties": rows,
        "counts": dict(Counter(r["tag"] for r in rows)),
    }


# ------------------------------------------------------------------------------ the plan


def pending_at(hospital_ids: list[int]) -> dict[int, Counter]:
    """Casualties (of every major incident) allocated to each hospital and not yet arrived, by
    tag: beds a hospital reported free are already theirs."""
    pending: dict[int, Counter] = {h: Counter() for h in hospital_ids}
    rows = Casualty.objects.filter(hospital_id__in=hospital_ids, arrived_at__isnull=True).exclude(
        assignment__at_hospital_at__isnull=False
    )
    for hospital_id, tag in rows.values_list("hospital_id", "tag"):
        pending[hospital_id][tag] += 1
    return pending


def destinations_for(major: MajorIncident, exclude_casualties: set[int]) -> list[Destination]:
    """Every hospital, with its road time from the scene and what it can still take."""
    scene = major.incident.location
    hospitals = {h.pk: h for h in Hospital.objects.all()}
    etas: dict[int, float] = {}
    if scene is not None:
        for option in recommend_hospitals(scene, None, limit=len(hospitals)):
            etas[option.id] = (
                option.eta_s if option.eta_s is not None else option.straight_m / STRAIGHT_LINE_MPS
            )
    beds: dict[int, dict[str, int]] = {}
    for hospital_id, category, available in BedAvailability.objects.values_list(
        "hospital_id", "category", "available"
    ):
        beds.setdefault(hospital_id, {})[category] = available
    pending = pending_at(list(hospitals))
    # The patients being planned are not pending anywhere: they are what the plan places.
    for hospital_id, tag in Casualty.objects.filter(
        pk__in=exclude_casualties, hospital__isnull=False
    ).values_list("hospital_id", "tag"):
        pending[hospital_id][tag] -= 1
    result = []
    for pk, h in hospitals.items():
        reported = beds.get(pk, {})
        red = reported.get(BedCategory.RESUS, DEFAULT_RED_CAPACITY)
        er = reported.get(BedCategory.ER, DEFAULT_ER_CAPACITY)
        waiting = pending[pk]
        result.append(
            Destination(
                id=pk,
                eta_s=etas.get(pk, math.inf),
                capabilities=frozenset(h.capabilities),
                diverting_all=DiversionCategory.ALL in h.diverting,
                diverting_trauma=DiversionCategory.TRAUMA in h.diverting,
                red_capacity=red - waiting["red"],
                er_capacity=er - waiting["yellow"] - waiting["green"],
            )
        )
    return result


def proposed_plan(major: MajorIncident, *, replan: bool = False) -> tuple[Plan, list[Casualty]]:
    """The plan for the casualties still at the scene without a destination (all still at the
    scene when `replan`)."""
    at_scene = major.casualties.filter(status=CasualtyStatus.AT_SCENE)
    if not replan:
        at_scene = at_scene.filter(hospital__isnull=True)
    casualties = list(at_scene.order_by("pk"))
    destinations = destinations_for(major, {c.pk for c in casualties} if replan else set())
    patients = [Patient(c.pk, c.tag) for c in casualties]
    return plan_distribution(patients, destinations), casualties


# ------------------------------------------------------------------------------ the report


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def major_report(major: MajorIncident) -> dict[str, Any]:
    """Afterwards: the timeline's milestones, patients per tag and hospital, the times to the
    first unit on scene and to the last patient carried."""
    incident = major.incident
    casualties = list(casualties_of(major))
    assignments = list(Assignment.objects.filter(incident=incident).select_related("unit"))
    first_on_scene = min((a.on_scene_at for a in assignments if a.on_scene_at), default=None)
    carried = [c.transported_at for c in casualties if c.transported_at]
    last_carried = max(carried, default=None)
    start = incident.call_received_at or incident.created_at
    per_hospital: dict[str, Counter] = {}
    for c in casualties:
        if c.hospital is not None:
            per_hospital.setdefault(c.hospital.short_name or c.hospital.name, Counter())[c.tag] += 1
    return {
        **major_summary(major),
        "started_at": start,
        "first_unit_on_scene_at": first_on_scene,
        "last_patient_carried_at": last_carried,
        "to_first_unit_on_scene_s": seconds_between(start, first_on_scene),
        "to_last_patient_carried_s": seconds_between(start, last_carried),
        "units_sent": len(assignments),
        "casualties": len(casualties),
        "by_tag": dict(Counter(c.tag for c in casualties)),
        "by_hospital": {name: dict(tags) for name, tags in per_hospital.items()},
        "not_carried": sum(1 for c in casualties if c.transported_at is None),
    }
