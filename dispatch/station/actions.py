"""The station screen's one action: someone in the station acknowledged a job on the screen.

It is recorded on the incident's timeline and stops the station's ringing. It is not the unit's
acknowledgement (Assignment.acknowledged_at, "crew acknowledged"): anyone passing the wall screen
may press it, while the unit's acknowledgement is its crew's, from the tablet that then holds the
job and its navigation, and it starts the reports' turnout interval. So the crew alert's
escalation (SMS, voice call) and the console's alarm still follow a job no crew acknowledged.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Assignment, Event, User


@transaction.atomic
def acknowledge_at_station(assignment: Assignment, *, actor: User) -> Assignment:
    """Record the station's acknowledgement of a job, once: a second press (another screen in
    the same station, a double tap) changes nothing."""
    # The row lock orders two screens pressing at once: the second sees the first's event.
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("incident", "unit")
        .get(pk=assignment.pk)
    )
    if assignment.cancelled_at or assignment.cleared_at:
        raise ActionError(_("This job was stood down or is finished."), "not_live", 409)
    kind = EventKind.ASSIGNMENT_STATION_ACKNOWLEDGED
    done = Event.objects.filter(kind=kind, data__assignment=assignment.pk)
    if not done.exists():
        # On the incident and the unit, not the hospital: the control room, the unit's crew and
        # the station's screens see it.
        record_event(
            EventKind.ASSIGNMENT_STATION_ACKNOWLEDGED,
            actor=actor,
            incident=assignment.incident,
            unit=assignment.unit,
            data={
                "assignment": assignment.pk,
                "unit": assignment.unit.call_sign,
                "by": actor.get_full_name() or actor.username,
            },
        )
    return assignment
