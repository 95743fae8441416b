"""Named actions: the only way important state changes (BRIEF decision 3).

Each action runs in one transaction, writes the change and its event row, and rings the
doorbell after commit. Views, webhooks, the admin, commands and tests call these.
"""

from .base import ActionError
from .fleet import create_station, create_unit, end_shift, set_unit_status, start_shift
from .hospitals import create_hospital, set_beds, set_diversion
from .incidents import (
    cancel_assignment,
    close_incident,
    create_incident,
    dispatch_unit,
    link_incident,
    locate_incident,
    reassign,
    set_destination,
    triage_incident,
    update_incident_details,
)

__all__ = [
    "ActionError",
    "cancel_assignment",
    "link_incident",
    "locate_incident",
    "reassign",
    "set_destination",
    "triage_incident",
    "update_incident_details",
    "close_incident",
    "create_hospital",
    "create_incident",
    "create_station",
    "create_unit",
    "dispatch_unit",
    "end_shift",
    "set_beds",
    "set_diversion",
    "set_unit_status",
    "start_shift",
]
