"""Incidents and assignments as the API and the screens read them."""

from dispatch.models import Assignment, Incident


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
    "priority",
    "chief_complaint",
    "capability_needed",
    "patient_name",
    "patient_sex",
    "patient_age",
    "notes",
    "outcome",
    "call_received_at",
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
        **{name: getattr(incident, name) for name in INCIDENT_FIELDS},
        "assignments": [assignment_out(a) for a in incident.assignments.all()],
    }


def incidents_with_assignments():
    return Incident.objects.prefetch_related("assignments__unit", "assignments__hospital")


def fresh(incident: Incident) -> dict:
    return incident_out(incidents_with_assignments().get(pk=incident.pk))
