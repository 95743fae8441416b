"""Declaring a major incident by rule: an open incident whose reported patients reach
MAJOR_PATIENT_THRESHOLD, or whose chief complaint names a mass-casualty event
(MAJOR_COMPLAINT_WORDS), becomes a major incident at the level its patient count gives
(MAJOR_LEVEL_BY_PATIENTS). A dispatcher can declare sooner, or at another level, by hand.

Run by `manage.py run_major_rules` (and run_workers) every couple of seconds: whichever way the
count or the complaint changed (console, crew, import), the next pass sees it. An incident the
rule declared once, or one a supervisor stood down, is never declared again by the rule.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.major.actions import declare_major_incident
from dispatch.models import Incident, MajorLevel


def level_for(patients: int) -> int:
    """The level a patient count gives (the gravest whose floor it reaches)."""
    for floor, level in sorted(settings.MAJOR_LEVEL_BY_PATIENTS, reverse=True):
        if patients >= floor:
            return level
    return MajorLevel.IV


def due_by_rule() -> list[Incident]:
    words = Q()
    for word in settings.MAJOR_COMPLAINT_WORDS:
        words |= Q(chief_complaint__icontains=word)
    count = Q(patient_count__gte=settings.MAJOR_PATIENT_THRESHOLD)
    due = Incident.objects.open().filter(major__isnull=True).filter(count | words if words else count)
    return list(due.order_by("pk")[:50])


def reason(incident: Incident) -> str:
    if incident.patient_count >= settings.MAJOR_PATIENT_THRESHOLD:
        return _("%(count)d patients reported (the rule: %(threshold)d or more)") % {
            "count": incident.patient_count,
            "threshold": settings.MAJOR_PATIENT_THRESHOLD,
        }
    return _("chief complaint: %(complaint)s") % {"complaint": incident.chief_complaint[:150]}


def declare_due() -> int:
    """One pass: declare every incident the rule now covers; the number declared."""
    declared = 0
    for incident in due_by_rule():
        try:
            declare_major_incident(
                incident, level=level_for(incident.patient_count), actor=None, rule=reason(incident)
            )
        except ActionError:  # closed or declared by hand meanwhile: nothing to do
            continue
        declared += 1
    return declared
