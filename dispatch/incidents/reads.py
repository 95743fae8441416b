"""Incidents and assignments as the API and the screens read them, and the search that finds
any incident, open or closed."""

import json
import re
from datetime import datetime

from django.db.models import Q
from ninja.responses import NinjaJSONEncoder

from dispatch.incidents.schemas import IncidentOut
from dispatch.models import Assignment, Incident, IncidentStatus


def assignment_out(a: Assignment) -> dict:
    return {
        "id": a.pk,
        "unit": a.unit_id,
        "unit_call_sign": a.unit.call_sign,
        "unit_status": a.unit.status,
        "hospital": a.hospital_id,
        "hospital_name": a.hospital.name if a.hospital else None,
        **{
            name: getattr(a, name)
            for name in (
                "dispatched_at",
                "recommended_rank",
                "eta_at_dispatch_s",
                "override_reason",
                "acknowledged_at",
                "en_route_at",
                "on_scene_at",
                "transport_started_at",
                "at_hospital_at",
                "handover_at",
                "cleared_at",
                "cancelled_at",
                "cancel_reason",
            )
        },
    }


INCIDENT_FIELDS = (
    "number",
    "status",
    "caller_number",
    "caller_name",
    "location_source",
    "location_accuracy_m",
    "address",
    "address_building",
    "address_unit",
    "address_floor",
    "address_room",
    "access_notes",
    "hazards",
    "priority",
    "chief_complaint",
    "capability_needed",
    "patient_name",
    "patient_sex",
    "patient_age",
    "patient_count",
    "notes",
    "outcome",
    "linked_to_id",
    "call_received_at",
    "call_answered_at",
    "created_at",
    "location_confirmed_at",
    "triaged_at",
    "dispatched_at",
    "on_scene_at",
    "closed_at",
)


def incident_out(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
        "triage": incident.triage_answers,
        **{name.removesuffix("_id"): getattr(incident, name) for name in INCIDENT_FIELDS},
        "assignments": [assignment_out(a) for a in incident.assignments.all()],
    }


# What hospital staff read of an incident bound for them: the patient, the scene and the clock,
# never the caller (phone, name), the dispatcher's notes, the way in (access notes, flat
# number) nor the other units sent. Named one by one, so a field added to incidents later
# does not reach hospitals unless it is added here.
HOSPITAL_INCIDENT_FIELDS = (
    "number",
    "status",
    "address",
    "hazards",
    "priority",
    "chief_complaint",
    "capability_needed",
    "patient_name",
    "patient_sex",
    "patient_age",
    "patient_count",
    "outcome",
    "created_at",
    "dispatched_at",
    "on_scene_at",
    "closed_at",
)
HOSPITAL_ASSIGNMENT_FIELDS = (
    "dispatched_at",
    "acknowledged_at",
    "en_route_at",
    "on_scene_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
    "cleared_at",
)


def hospital_assignment_out(a: Assignment) -> dict:
    return {
        "id": a.pk,
        "unit": a.unit_id,
        "unit_call_sign": a.unit.call_sign,
        "unit_status": a.unit.status,
        "hospital": a.hospital_id,
        **{name: getattr(a, name) for name in HOSPITAL_ASSIGNMENT_FIELDS},
    }


def hospital_incident_out(incident: Incident, hospital_id: int) -> dict:
    """The reduced view for the staff of one hospital: only the units bound for it."""
    bound = [a for a in incident.assignments.all() if a.hospital_id == hospital_id and not a.cancelled_at]
    return {
        "view": "hospital",
        "id": incident.pk,
        "lon": incident.location.x if incident.location else None,
        "lat": incident.location.y if incident.location else None,
        "triage": incident.triage_answers,
        **{name: getattr(incident, name) for name in HOSPITAL_INCIDENT_FIELDS},
        "assignments": [hospital_assignment_out(a) for a in bound],
    }


def incident_out_for(user_hospital_id: int | None, incident: Incident) -> dict:
    """The full view for everyone who may see the incident; the reduced one for hospital staff
    (`user_hospital_id`: permissions.staff_hospital_id of the reader)."""
    if user_hospital_id is not None:
        return hospital_incident_out(incident, user_hospital_id)
    return incident_out(incident)


def incidents_with_assignments():
    return Incident.objects.prefetch_related("assignments__unit", "assignments__hospital")


def fresh(incident: Incident) -> dict:
    return incident_out(incidents_with_assignments().get(pk=incident.pk))


def incident_rows(ids: list[int]) -> str:
    """The control room's view of these incidents, a JSON array encoded exactly as GET
    /api/incidents/<id> answers a dispatcher (the API's schema and encoder): the rows the live
    socket hands to every console (dispatch.core.fanout), read once for all of them. An id no
    longer found is left out."""
    rows = incidents_with_assignments().filter(pk__in=ids).order_by("pk")
    return json.dumps(
        [IncidentOut.model_validate(incident_out(incident)).model_dump() for incident in rows],
        cls=NinjaJSONEncoder,
    )


FOUND_FIELDS = (
    "number",
    "status",
    "outcome",
    "priority",
    "chief_complaint",
    "address",
    "caller_number",
    "caller_name",
    "patient_name",
    "created_at",
    "dispatched_at",
    "closed_at",
)
PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


def phone_digits(text: str) -> str:
    """The digits of a phone number as a dispatcher types it (+86 138-0000-0001, 0086...), without
    the country code, so the number matches however it was stored; "" when it is not a number."""
    digits = PHONE_PUNCTUATION.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 2:
            digits = digits[len(prefix) :]
    return digits if digits.isdigit() and len(digits) >= 3 else ""


def search_incidents(
    text: str, *, since: datetime | None, until: datetime | None, status: str, limit: int
) -> list[dict]:
    """Incidents open or closed whose number, caller's phone, address, or caller's or patient's
    name holds `text`, created in [since, until), newest first."""
    found = Incident.objects.all()
    text = text.strip()
    if text:
        matches = (
            Q(number__icontains=text)
            | Q(address__icontains=text)
            | Q(caller_name__icontains=text)
            | Q(patient_name__icontains=text)
        )
        if digits := phone_digits(text):
            matches |= Q(caller_number__contains=digits)
        found = found.filter(matches)
    if since is not None:
        found = found.filter(created_at__gte=since)
    if until is not None:
        found = found.filter(created_at__lt=until)
    if status == "open":
        found = found.filter(status=IncidentStatus.OPEN)
    elif status == "closed":
        found = found.exclude(status=IncidentStatus.OPEN)
    rows = found.order_by("-created_at").values("id", *FOUND_FIELDS)[:limit]
    return list(rows)
