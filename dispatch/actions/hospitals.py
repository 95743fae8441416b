"""Actions on hospitals: creation, diversion and beds (each change is audited as an event)."""

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from dispatch.actions.base import ActionError, checked_text
from dispatch.events import record_event
from dispatch.models import User
from hospitals.models import BedAvailability, BedCategory, Capability, DiversionCategory, Hospital


@transaction.atomic
def create_hospital(
    name: str, location: Point, *, capabilities: list[str] | None = None, **fields
) -> Hospital:
    unknown = set(capabilities or []) - set(Capability.values)
    if unknown:
        raise ActionError(f"Unknown capabilities: {', '.join(sorted(unknown))}.", "bad_capability")
    hospital = Hospital.objects.create(
        name=checked_text(name, "name", 120), location=location, capabilities=capabilities or [], **fields
    )
    record_event("hospital.created", hospital=hospital, data={"id": hospital.pk, "name": hospital.name})
    return hospital


@transaction.atomic
def set_diversion(
    hospital: Hospital, categories: list[str], *, actor: User | None, reason: str = ""
) -> Hospital:
    """Open (no categories) or divert the named categories; every console re-ranks on it."""
    unknown = set(categories) - set(DiversionCategory.values)
    if unknown:
        raise ActionError(f"Unknown diversion categories: {', '.join(sorted(unknown))}.", "bad_category")
    before = list(Hospital.objects.values_list("diverting", flat=True).get(pk=hospital.pk))
    hospital.diverting = sorted(set(categories))
    hospital.diversion_reason = checked_text(reason, "reason", 200) if categories else ""
    hospital.status_changed_at = timezone.now()
    Hospital.objects.filter(pk=hospital.pk).update(
        diverting=hospital.diverting,
        diversion_reason=hospital.diversion_reason,
        status_changed_at=hospital.status_changed_at,
    )
    record_event(
        "hospital.diversion",
        actor=actor,
        hospital=hospital,
        data={"from": before, "to": hospital.diverting, "reason": hospital.diversion_reason},
    )
    return hospital


@transaction.atomic
def set_beds(hospital: Hospital, category: str, available: int, *, actor: User | None) -> BedAvailability:
    if category not in BedCategory.values:
        raise ActionError(f"Unknown bed category {category!r}.", "bad_category")
    if not isinstance(available, int) or not 0 <= available <= 10000:
        raise ActionError("Available beds must be a whole number from 0 to 10000.", "bad_count")
    beds, _ = BedAvailability.objects.select_for_update().get_or_create(hospital=hospital, category=category)
    before = beds.available
    beds.available = available
    beds.save(update_fields=["available", "updated_at"])
    record_event(
        "hospital.beds",
        actor=actor,
        hospital=hospital,
        data={"category": category, "from": before, "to": available},
    )
    return beds
