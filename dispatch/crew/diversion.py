"""The receiving hospital can no longer take a patient already bound there: it went on diversion
for what the patient needs (a STEMI to a hospital now diverting chest pain), or its
resuscitation beds ran out. Each unit bound there gets an event on its job with the next best
hospital (dispatch.recommend's ranking, from where the ambulance is): the crew's tablet shows a
banner with a one-tap redirect (the crew's own destination write), the console shows it on the
incident's timeline and as an alert.

dispatch.handoff's diversion and bed actions call these in their own transaction.
"""

from typing import Any

from django.contrib.gis.geos import Point
from django.db.models import QuerySet
from django.utils import translation

from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Assignment, Event, User
from dispatch.recommend.api import incident_hospital_capability
from dispatch.recommend.reads import HospitalOption, diversion_category_for, recommend_hospitals
from fleet.models import UnitStatus
from hospitals.models import BedAvailability, BedCategory, DiversionCategory, Hospital

# The beds the ranking counts (a hospital without a free resuscitation bed ranks lower).
ALERT_BEDS = (BedCategory.RESUS,)
# A patient who needs a resuscitation bed: priority I or II, or a specialist centre.
NEEDS_RESUS_PRIORITY = 2


def bound_for(hospital: Hospital) -> QuerySet[Assignment]:
    """Live jobs on their way to this hospital (not arrived yet)."""
    return (
        Assignment.objects.live()
        .filter(hospital=hospital, at_hospital_at__isnull=True)
        .select_related("incident", "unit", "hospital")
    )


def refuses(diverting: list[str], category: str | None) -> bool:
    """Whether a hospital diverting these categories turns this patient away."""
    return DiversionCategory.ALL in diverting or bool(category and category in diverting)


def alert_diversion(hospital: Hospital, before: list[str], *, actor: User | None) -> int:
    """After a diversion change: alert each job bound there whose patient it now turns away
    (and did not before). Returns how many."""
    count = 0
    for assignment in bound_for(hospital):
        category = diversion_category_for(incident_hospital_capability(assignment.incident))
        if refuses(hospital.diverting, category) and not refuses(before, category):
            alert(assignment, "diversion", category, actor)
            count += 1
    return count


def alert_beds(
    hospital: Hospital, category: str, before: int | None, after: int, *, actor: User | None
) -> int:
    """After a bed count change: resuscitation beds down to none alerts each job bound there
    whose patient needs one (priority I–II or a specialist centre)."""
    if category not in ALERT_BEDS or after != 0 or before == 0:
        return 0
    count = 0
    for assignment in bound_for(hospital):
        incident = assignment.incident
        urgent = incident.priority is not None and incident.priority <= NEEDS_RESUS_PRIORITY
        if urgent or incident_hospital_capability(incident):
            alert(assignment, "beds", category, actor)
            count += 1
    return count


def alert(assignment: Assignment, cause: str, category: str | None, actor: User | None) -> Event:
    hospital = assignment.hospital
    assert hospital is not None, "bound_for selects jobs with a destination"
    capability = incident_hospital_capability(assignment.incident)
    other = alternative(assignment, capability, cause)
    unit = assignment.unit
    words = alert_words(unit.call_sign, hospital, cause, category, other)
    return record_event(
        EventKind.ASSIGNMENT_DESTINATION_DIVERTING,
        actor=actor,
        incident=assignment.incident,
        unit=unit,
        data={
            "assignment": assignment.pk,
            "call_sign": unit.call_sign,
            "hospital": hospital.pk,
            "hospital_name": hospital.name,
            "cause": cause,
            "category": category,
            "alternative": (
                {"id": other.id, "name": other.name, "rank": other.rank, "eta_s": other.eta_s}
                if other
                else None
            ),
            **words,
        },
    )


def alternative(assignment: Assignment, capability: str, cause: str) -> HospitalOption | None:
    """The best-ranked other hospital that takes this patient, from where the ambulance is
    (its last position once the patient is on board, else the scene)."""
    point = where_from(assignment)
    if point is None:
        return None
    for option in recommend_hospitals(point, capability, limit=6):
        if option.id == assignment.hospital_id or option.diverting:
            continue
        if capability and not option.has_capability:
            continue
        if cause == "beds" and option.resus_beds == 0:
            continue
        return option
    return None


def where_from(assignment: Assignment) -> Point | None:
    unit = assignment.unit
    if unit.status == UnitStatus.TRANSPORTING and unit.position is not None:
        return unit.position
    return assignment.incident.location


def alert_words(
    call_sign: str, hospital: Hospital, cause: str, category: str | None, other: HospitalOption | None
) -> dict[str, str]:
    known = category if category in DiversionCategory.values else None
    if DiversionCategory.ALL in hospital.diverting:
        known = None  # turning every patient away: say so
    with translation.override("zh-hans"):
        what_zh = str(DiversionCategory(known).label) if known else ""
    with translation.override("en"):
        what_en = str(DiversionCategory(known).label).lower() if known else ""
    if cause == "beds":
        zh = f"{hospital.name} 抢救床位已满"
        en = f"{hospital.name_en or hospital.name} has no resuscitation bed"
    else:
        zh = f"{hospital.name} 停收{what_zh or '全部'}患者"
        en = f"{hospital.name_en or hospital.name} is diverting {what_en or 'all'} patients"
    zh, en = f"{call_sign} 目的医院：{zh}", f"{call_sign} destination: {en}"
    if other is not None:
        zh += f"；建议改送 {other.name}"
        en += f"; next best: {other.name}"
    return {"text": zh, "text_en": en}


# --- what the tablet shows -------------------------------------------------------------------


def destination_alert(assignment: Assignment) -> dict[str, Any] | None:
    """The latest alert about the job's current destination, while it still holds (the
    hospital still diverting the patient, or still without a resuscitation bed)."""
    hospital = assignment.hospital
    if hospital is None or assignment.at_hospital_at or assignment.cancelled_at or assignment.cleared_at:
        return None
    event = (
        Event.objects.filter(
            kind=EventKind.ASSIGNMENT_DESTINATION_DIVERTING,
            incident_id=assignment.incident_id,
            data__assignment=assignment.pk,
            data__hospital=hospital.pk,
        )
        .order_by("-seq")
        .first()
    )
    if event is None or not still_holds(hospital, event.data):
        return None
    d = event.data
    return {
        "event": event.seq,
        "at": event.at,
        "hospital": hospital.pk,
        "hospital_name": d.get("hospital_name") or hospital.name,
        "cause": d.get("cause") or "diversion",
        "text": d.get("text") or "",
        "text_en": d.get("text_en") or "",
        "alternative": d.get("alternative"),
    }


def still_holds(hospital: Hospital, data: dict[str, Any]) -> bool:
    if data.get("cause") == "beds":
        beds = BedAvailability.objects.filter(hospital=hospital, category=data.get("category")).first()
        return beds is not None and beds.available == 0
    return refuses(hospital.diverting, data.get("category"))
