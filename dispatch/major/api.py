"""The major-incident API: declaring, the situation report and scene, many units at once, the
casualties (registered and re-tagged on the tablets, carried, arrived), the distribution plan,
each ER's own allocation and acknowledgement, and the report afterwards.

Who sees what (dispatch/core/permissions.py): the control room everything; a crew sent to the
incident its picture (casualties by tag number, no names) and the casualty writes; a hospital
only the patients allocated to it; the report supervisors and admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from dispatch.core.actions import ActionError, checked_point
from dispatch.core.fields import LonLat
from dispatch.core.idempotency import run_once
from dispatch.core.openapi import errors
from dispatch.core.permissions import (
    CONTROL_ROOM,
    DISPATCHERS,
    REPORT_READERS,
    crew_assignment_on,
    may_dispatch,
    may_see_major_incident,
    require_role,
    staff_hospital_id,
)
from dispatch.core.signed_in import SignedInRequest
from dispatch.major import actions
from dispatch.major.reads import (
    aboard,
    casualty_row,
    hospital_allocation,
    major_report,
    major_summary,
    notice_row,
    picture,
    proposed_plan,
)
from dispatch.models import (
    Assignment,
    Casualty,
    CasualtyNotice,
    Incident,
    InjuryChip,
    MajorIncident,
    MajorStatus,
    Role,
    TriageTag,
)
from fleet.models import Unit
from hospitals.models import Hospital

router = Router(tags=["major incidents"])


# ------------------------------------------------------------------------------ schemas


class MajorSitrepOut(Schema):
    exact_location: str
    incident_type: str
    hazards: str
    access: str
    casualties_reported: int | None
    casualty_notes: str
    services: str
    updated_at: datetime | None


class MajorOut(Schema):
    id: int
    incident: int
    incident_number: str
    level: int = Field(description="1 (特别重大) to 4 (一般)")
    status: str = Field(description=", ".join(MajorStatus.values))
    declared_at: datetime
    declared_by: str | None = Field(description="None when declared by rule")
    rule: str
    sitrep: MajorSitrepOut
    command_unit: str | None
    staging_point: list[float] | None
    access_route: list[list[float]] | None
    scene: list[float] | None


class CasualtyOut(Schema):
    id: int
    tag_number: str
    tag: str = Field(description=", ".join(TriageTag.values))
    sex: str
    age_estimate: int | None
    description: str
    where: str = Field(description="at_scene, transporting, at_hospital")
    unit: str | None
    hospital: int | None
    hospital_name: str | None
    registered_at: datetime
    tagged_at: datetime
    transported_at: datetime | None
    acknowledged_at: datetime | None


class MajorUnitOut(Schema):
    assignment: int
    unit: str
    status: str
    command: bool
    dispatched_at: datetime
    on_scene_at: datetime | None


class MajorHospitalOut(Schema):
    id: int
    name: str | None
    tags: dict[str, int]
    acknowledged: int


class MajorPictureOut(MajorOut):
    casualties: list[CasualtyOut]
    counts: dict[str, dict[str, int]] = Field(description="per tag: total and per place")
    hospitals: list[MajorHospitalOut]
    units: list[MajorUnitOut]
    unassigned: list[int] = Field(description="casualties to carry with no destination yet")


class MajorDeclareIn(Schema):
    level: int = Field(ge=1, le=4)
    casualties_reported: int | None = Field(None, ge=0, le=100_000)


class MajorSitrepIn(Schema):
    level: int | None = Field(None, ge=1, le=4)
    exact_location: str | None = Field(None, max_length=300)
    incident_type: str | None = Field(None, max_length=300)
    hazards: str | None = Field(None, max_length=500)
    access: str | None = Field(None, max_length=500)
    casualties_reported: int | None = Field(None, ge=0, le=100_000)
    casualty_notes: str | None = Field(None, max_length=300)
    services: str | None = Field(None, max_length=300)


class MajorSceneIn(Schema):
    command_unit: int | None = None
    staging_point: LonLat | None = None
    access_route: list[LonLat] | None = Field(None, min_length=2, max_length=200)


class DispatchManyIn(Schema):
    units: list[int] = Field(min_length=1, max_length=50)
    command_unit: int | None = None


class DispatchedManyOut(Schema):
    assignments: list[int]
    units: list[str]


class CasualtyIn(Schema):
    tag: TriageTag
    tag_number: str = Field("", max_length=20)
    client_id: str | None = Field(None, max_length=64, description="the tablet's id: a retry adds nothing")
    sex: str = Field("", max_length=1)
    age_estimate: int | None = Field(None, ge=0, le=120)
    description: str = Field("", max_length=300)


class CasualtyTagIn(Schema):
    tag: TriageTag


class PlannedCasualtyOut(Schema):
    casualty: int
    tag_number: str
    tag: str
    hospital: int | None
    hospital_name: str | None
    eta_s: float | None
    reason: str = Field(description="not_carried or no_capacity when hospital is None")


class DistributionPlanOut(Schema):
    allocations: list[PlannedCasualtyOut]
    by_hospital: list[MajorHospitalOut]
    unplaced: int


class CasualtyAllocationIn(Schema):
    casualty: int
    hospital: int | None


class CasualtyAllocationsIn(Schema):
    allocations: list[CasualtyAllocationIn] = Field(min_length=1, max_length=500)


class CasualtyTransportIn(Schema):
    assignment: int
    casualties: list[int] = Field(min_length=1, max_length=10)


class CasualtyNoticeVitalsOut(Schema):
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    spo2: int | None
    respiratory_rate: int | None
    gcs: int | None


class CasualtyNoticeOut(Schema):
    version: int = Field(description="1 for the first send, one more for each re-send")
    first_sent_at: datetime
    sent_at: datetime
    unit: str
    injuries: str
    chips: list[str] = Field(description=", ".join(InjuryChip.values))
    vitals: CasualtyNoticeVitalsOut
    abnormal: list[str] = Field(description="readings outside the adult normal range")


class NoticedCasualtyOut(CasualtyOut):
    notice: CasualtyNoticeOut | None
    eta_s: int | None = Field(description="road time of the ambulance to the hospital, when known")
    arrives_at: datetime | None


class HospitalAllocationOut(Schema):
    id: int
    incident_number: str
    level: int
    status: str
    incident_type: str
    casualties: list[NoticedCasualtyOut]
    counts: dict[str, int]


class CasualtyNoticeIn(Schema):
    client_id: str = Field(
        min_length=8, max_length=80, description="the tablet's id for this send: a retry adds nothing"
    )
    sex: str = Field("", max_length=1)
    age_estimate: int | None = Field(None, ge=0, le=120)
    injuries: str = Field("", max_length=500)
    chips: list[InjuryChip] = Field(default_factory=list, max_length=10)
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    gcs: int | None = None


class CasualtyNoticeSentOut(Schema):
    casualty: int
    tag_number: str
    hospital: int
    notice: CasualtyNoticeOut


class MajorReportOut(MajorOut):
    started_at: datetime
    first_unit_on_scene_at: datetime | None
    last_patient_carried_at: datetime | None
    to_first_unit_on_scene_s: float | None
    to_last_patient_carried_s: float | None
    units_sent: int
    casualties: int
    by_tag: dict[str, int]
    by_hospital: dict[str, dict[str, int]]
    not_carried: int


# ------------------------------------------------------------------------------ lookups


def seen_major(request: SignedInRequest, major_id: int) -> MajorIncident:
    """The major incident, for the control room and the crews sent to it (404 for anyone else:
    whether it exists is not theirs to know)."""
    major = get_object_or_404(MajorIncident.objects.select_related("incident"), pk=major_id)
    if not may_see_major_incident(request.user, major.incident_id):
        raise ActionError(_("Major incident %(id)s not found.") % {"id": major_id}, "not_found", 404)
    return major


def dispatcher_major(request: SignedInRequest, major_id: int) -> MajorIncident:
    require_role(request, *DISPATCHERS)
    return get_object_or_404(MajorIncident.objects.select_related("incident"), pk=major_id)


def writer_unit(request: SignedInRequest, major: MajorIncident) -> Unit | None:
    """Who may register and re-tag casualties: dispatchers (from the radio) and the crews sent
    there; the crew's unit is named on the event."""
    if may_dispatch(request.user):
        return None
    job = crew_assignment_on(request.user, major.incident_id)
    if job is None:
        raise ActionError(_("Only crews sent to this incident register its casualties."), "forbidden", 403)
    return job.unit


def casualty_of(major: MajorIncident, casualty_id: int) -> Casualty:
    return get_object_or_404(Casualty, pk=casualty_id, major=major)


# ------------------------------------------------------------------------------ routes


@router.post(
    "/incidents/{incident_id}/major",
    response={200: MajorOut, **errors(403, 409)},
    summary="Declare a major incident (群体伤) on an incident, with its level",
)
def declare_major(request: SignedInRequest, incident_id: int, payload: MajorDeclareIn) -> dict[str, Any]:
    require_role(request, *DISPATCHERS)
    incident = get_object_or_404(Incident, pk=incident_id)
    major = actions.declare_major_incident(
        incident, level=payload.level, actor=request.user, casualties_reported=payload.casualties_reported
    )
    return major_summary(major)


@router.get("/major", response={200: list[MajorOut], **errors(403)}, summary="Active major incidents")
def active_majors(request: SignedInRequest) -> list[dict[str, Any]]:
    require_role(request, *CONTROL_ROOM)
    majors = MajorIncident.objects.filter(status=MajorStatus.ACTIVE).select_related(
        "incident", "declared_by", "command_unit"
    )
    return [major_summary(m) for m in majors]


class CrewMajorOut(Schema):
    assignment: int | None = Field(description="the crew's job on the incident, to load casualties into")
    major: MajorPictureOut | None = Field(description="None when the crew's job is not a major incident")
    aboard: list[NoticedCasualtyOut] = Field(description="the casualties in this ambulance, with notices")


@router.get(
    "/major/mine",
    response={200: CrewMajorOut, **errors(403)},
    summary="A crew: the major incident its current job belongs to, if any (the tablet's panel)",
)
def crew_major(request: SignedInRequest) -> dict[str, Any]:
    require_role(request, Role.CREW)
    job = (
        Assignment.objects.for_crew(request.user)
        .filter(cancelled_at__isnull=True, cleared_at__isnull=True, incident__major__isnull=False)
        .select_related("incident__major")
        .order_by("-dispatched_at")
        .first()
    )
    if job is None:
        return {"assignment": None, "major": None, "aboard": []}
    return {"assignment": job.pk, "major": picture(job.incident.major), "aboard": aboard(job)}


@router.get(
    "/major/{major_id}",
    response={200: MajorPictureOut, **errors(403)},
    summary="The picture: every casualty by tag and place, the units, the hospitals",
)
def major_picture(request: SignedInRequest, major_id: int) -> dict[str, Any]:
    return picture(seen_major(request, major_id))


@router.patch(
    "/major/{major_id}/sitrep",
    response={200: MajorOut, **errors(403, 409)},
    summary="Update the situation report (METHANE) or the level",
)
def major_sitrep(request: SignedInRequest, major_id: int, payload: MajorSitrepIn) -> dict[str, Any]:
    major = dispatcher_major(request, major_id)
    fields = {k: v for k, v in payload.dict().items() if v is not None}
    return major_summary(actions.update_sitrep(major, actor=request.user, **fields))


@router.post(
    "/major/{major_id}/scene",
    response={200: MajorOut, **errors(403, 409)},
    summary="The unit in command, the staging point, the access route",
)
def major_scene(request: SignedInRequest, major_id: int, payload: MajorSceneIn) -> dict[str, Any]:
    major = dispatcher_major(request, major_id)
    unit = get_object_or_404(Unit, pk=payload.command_unit) if payload.command_unit else None
    staging = (
        checked_point(payload.staging_point.lon, payload.staging_point.lat) if payload.staging_point else None
    )
    route = [(p.lon, p.lat) for p in payload.access_route] if payload.access_route else None
    return major_summary(
        actions.set_scene(
            major, actor=request.user, command_unit=unit, staging_point=staging, access_route=route
        )
    )


@router.post(
    "/major/{major_id}/stand-down",
    response={200: MajorOut, **errors(403, 409)},
    summary="Stand the major incident down",
)
def major_stand_down(request: SignedInRequest, major_id: int) -> dict[str, Any]:
    major = dispatcher_major(request, major_id)
    return major_summary(actions.stand_down_major(major, actor=request.user))


@router.post(
    "/incidents/{incident_id}/dispatch-many",
    response={200: DispatchedManyOut, **errors(403, 409)},
    summary="Send several units at once (all or none), one of them in command",
)
def dispatch_many_units(
    request: SignedInRequest, incident_id: int, payload: DispatchManyIn
) -> dict[str, Any]:
    require_role(request, *DISPATCHERS)
    incident = get_object_or_404(Incident, pk=incident_id)
    units = Unit.objects.in_bulk(payload.units)
    missing = [pk for pk in payload.units if pk not in units]
    if missing:
        raise ActionError(_("No unit %(id)s.") % {"id": missing[0]}, "unknown_unit", 404)
    command = units.get(payload.command_unit) if payload.command_unit else None
    if payload.command_unit and command is None:
        raise ActionError(_("The unit in command must be one of those sent."), "bad_command_unit")
    sent = actions.dispatch_units(
        incident, [units[pk] for pk in payload.units], actor=request.user, command_unit=command
    )
    return {"assignments": [a.pk for a in sent], "units": [a.unit.call_sign for a in sent]}


@router.post(
    "/major/{major_id}/casualties",
    response={200: CasualtyOut, **errors(403, 409)},
    summary="Register a casualty, tag first (crews sent there, dispatchers)",
)
def register_casualty(request: SignedInRequest, major_id: int, payload: CasualtyIn) -> dict[str, Any]:
    major = seen_major(request, major_id)
    unit = writer_unit(request, major)
    casualty = actions.register_casualty(
        major,
        tag=payload.tag,
        actor=request.user,
        tag_number=payload.tag_number,
        client_id=payload.client_id,
        sex=payload.sex,
        age_estimate=payload.age_estimate,
        description=payload.description,
        unit=unit,
    )
    return casualty_out(casualty)


@router.post(
    "/major/{major_id}/casualties/{casualty_id}/tag",
    response={200: CasualtyOut, **errors(403, 409)},
    summary="Re-triage a casualty",
)
def retag_casualty(
    request: SignedInRequest, major_id: int, casualty_id: int, payload: CasualtyTagIn
) -> dict[str, Any]:
    major = seen_major(request, major_id)
    unit = writer_unit(request, major)
    casualty = casualty_of(major, casualty_id)
    return casualty_out(actions.retag_casualty(casualty, tag=payload.tag, actor=request.user, unit=unit))


@router.get(
    "/major/{major_id}/plan",
    response={200: DistributionPlanOut, **errors(403)},
    summary="A distribution plan for the casualties still at the scene without a destination",
)
def distribution_plan(request: SignedInRequest, major_id: int, replan: bool = False) -> dict[str, Any]:
    major = dispatcher_major(request, major_id)
    proposal, casualties = proposed_plan(major, replan=replan)
    by_id = {c.pk: c for c in casualties}
    names = dict(Hospital.objects.values_list("pk", "name"))
    counts = proposal.by_hospital()
    return {
        "allocations": [
            {
                "casualty": a.patient,
                "tag_number": by_id[a.patient].tag_number,
                "tag": a.tag,
                "hospital": a.hospital,
                "hospital_name": names.get(a.hospital) if a.hospital else None,
                "eta_s": a.eta_s,
                "reason": a.reason,
            }
            for a in proposal.allocations
        ],
        "by_hospital": [
            {"id": h, "name": names.get(h), "tags": tags, "acknowledged": 0} for h, tags in counts.items()
        ],
        "unplaced": len(proposal.unplaced()),
    }


@router.post(
    "/major/{major_id}/allocations",
    response={200: MajorPictureOut, **errors(403, 409)},
    summary="Give casualties their destinations (an accepted or changed plan; null takes one back)",
)
def allocate_casualties(
    request: SignedInRequest, major_id: int, payload: CasualtyAllocationsIn
) -> dict[str, Any]:
    major = dispatcher_major(request, major_id)
    wanted = {a.casualty: a.hospital for a in payload.allocations}
    if len(wanted) != len(payload.allocations):
        raise ActionError(_("A casualty is listed twice."), "duplicate_casualty")
    actions.allocate_casualties(major, wanted, actor=request.user)
    return picture(major)


@router.post(
    "/major/{major_id}/transport",
    response={200: MajorPictureOut, **errors(403, 409)},
    summary="Casualties loaded into an ambulance of this incident",
)
def transport_casualties(
    request: SignedInRequest, major_id: int, payload: CasualtyTransportIn
) -> dict[str, Any]:
    major = seen_major(request, major_id)
    assignment = get_object_or_404(Assignment.objects.select_related("unit"), pk=payload.assignment)
    if not may_dispatch(request.user):
        job = crew_assignment_on(request.user, major.incident_id)
        if job is None or job.pk != assignment.pk:
            raise ActionError(_("A crew loads casualties into its own ambulance only."), "forbidden", 403)
    casualties = list(Casualty.objects.filter(major=major, pk__in=payload.casualties))
    if len(casualties) != len(set(payload.casualties)):
        raise ActionError(_("A casualty is not in this incident."), "unknown_casualty", 404)
    actions.transport_casualties(casualties, assignment, actor=request.user)
    return picture(major)


@router.get(
    "/hospital/major",
    response={200: list[HospitalAllocationOut], **errors(403)},
    summary="Hospital staff: the patients of active major incidents allocated to their hospital",
)
def hospital_major_allocations(request: SignedInRequest) -> list[dict[str, Any]]:
    hospital_id = staff_hospital_id(request.user)
    if hospital_id is None:
        raise ActionError(_("Only hospital staff have an allocation."), "forbidden", 403)
    majors = MajorIncident.objects.filter(
        status=MajorStatus.ACTIVE, casualties__hospital_id=hospital_id
    ).select_related("incident")
    return [hospital_allocation(m, hospital_id) for m in majors.distinct()]


@router.post(
    "/major/casualties/{casualty_id}/acknowledge",
    response={200: CasualtyOut, **errors(403)},
    summary="Hospital staff: acknowledge a patient allocated to their hospital",
)
def acknowledge_casualty(request: SignedInRequest, casualty_id: int) -> dict[str, Any]:
    hospital_id = staff_hospital_id(request.user)
    casualty = (
        Casualty.objects.filter(pk=casualty_id, hospital_id=hospital_id).first() if hospital_id else None
    )
    if casualty is None:  # another hospital's patient does not exist for this one
        raise ActionError(_("Casualty %(id)s not found.") % {"id": casualty_id}, "not_found", 404)
    return casualty_out(actions.acknowledge_casualty(casualty, actor=request.user))


@router.post(
    "/major/casualties/{casualty_id}/arrived",
    response={200: CasualtyOut, **errors(403, 409)},
    summary="A casualty arrived (the receiving hospital's staff, or the control room)",
)
def casualty_arrived(request: SignedInRequest, casualty_id: int) -> dict[str, Any]:
    hospital_id = staff_hospital_id(request.user)
    if hospital_id is None and not may_dispatch(request.user):
        raise ActionError(
            _("Only the receiving hospital or the control room records an arrival."), "forbidden", 403
        )
    found = Casualty.objects.filter(pk=casualty_id)
    if hospital_id is not None:
        found = found.filter(hospital_id=hospital_id)
    casualty = found.first()
    if casualty is None:
        raise ActionError(_("Casualty %(id)s not found.") % {"id": casualty_id}, "not_found", 404)
    return casualty_out(actions.casualty_arrived(casualty, actor=request.user))


@router.post(
    "/major/casualties/{casualty_id}/notice",
    response={200: CasualtyNoticeSentOut, **errors(403, 409)},
    summary="A crew: send (or send again) the pre-arrival notice of a casualty in its own ambulance",
)
def send_casualty_notice(
    request: SignedInRequest, casualty_id: int, payload: CasualtyNoticeIn
) -> JsonResponse:
    """Only the crew of the ambulance carrying the casualty; to the casualty's destination. The
    client_id is the send's idempotency key: a retry answers what the first send answered."""
    require_role(request, Role.CREW)
    user = request.user
    vitals = {
        name: getattr(payload, name)
        for name in ("heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs")
    }

    def apply() -> tuple[int, dict[str, Any]]:
        casualty = Casualty.objects.select_related("major").filter(pk=casualty_id).first()
        if casualty is None:
            raise ActionError(_("Casualty %(id)s not found.") % {"id": casualty_id}, "not_found", 404)
        job = crew_assignment_on(user, casualty.major.incident_id)
        if job is None:  # the crew is not on this incident at all
            raise ActionError(
                _("Casualty %(number)s is not in your ambulance.") % {"number": casualty.tag_number},
                "not_in_ambulance",
                403,
            )
        notice = actions.send_casualty_notice(
            casualty,
            job,
            actor=user,
            sex=payload.sex,
            age_estimate=payload.age_estimate,
            injuries=payload.injuries,
            chips=[c.value for c in payload.chips],
            vitals=vitals,
        )
        fresh = CasualtyNotice.objects.select_related("assignment__unit", "casualty").get(pk=notice.pk)
        body: dict[str, Any] = {
            "casualty": fresh.casualty_id,
            "tag_number": fresh.casualty.tag_number,
            "hospital": fresh.casualty.hospital_id,
            "notice": notice_row(fresh),
        }
        return 200, CasualtyNoticeSentOut.model_validate(body).model_dump(mode="json")

    request_data = {"casualty": casualty_id, **payload.model_dump(mode="json", exclude={"client_id"})}
    outcome = run_once(user, payload.client_id, "casualty.notice", request_data, apply)
    response = JsonResponse(outcome.body, status=outcome.status, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replay"] = "true" if outcome.replayed else "false"
    return response


@router.get(
    "/major/{major_id}/report",
    response={200: MajorReportOut, **errors(403)},
    summary="The major-incident report: milestones, patients per tag and hospital",
)
def major_incident_report(request: SignedInRequest, major_id: int) -> dict[str, Any]:
    require_role(request, *REPORT_READERS, *DISPATCHERS)
    major = get_object_or_404(MajorIncident.objects.select_related("incident"), pk=major_id)
    return major_report(major)


def casualty_out(casualty: Casualty) -> dict[str, Any]:
    fresh = Casualty.objects.select_related("hospital", "assignment__unit").get(pk=casualty.pk)
    return casualty_row(fresh)
