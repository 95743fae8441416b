"""Named actions: the only way important state changes (BRIEF decision 3).

Each action runs in one transaction, writes the change and its event row, and rings the
doorbell after commit. Views, webhooks, the admin, commands and tests call these.
"""

from dispatch.actions.base import ActionError
from dispatch.actions.calls import (
    adopt_caller_location,
    escalate_unanswered_calls,
    queue_sms,
    record_aml,
    record_call_event,
    record_caller_location,
    send_location_link,
    take_call,
    use_location_link,
)
from dispatch.actions.crew import mark_read, record_vitals, send_message, update_patient_record
from dispatch.actions.fleet import create_station, create_unit, end_shift, set_unit_status, start_shift
from dispatch.actions.handoff import (
    acknowledge_notice,
    alert_unacknowledged_notices,
    record_arrival,
    record_handover,
    refresh_notices,
    send_due_notices,
    send_notice,
)
from dispatch.actions.hospitals import create_hospital, set_beds, set_diversion
from dispatch.actions.incidents import (
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
from dispatch.actions.positions import (
    Fix,
    PositionResult,
    count_rejected_fix,
    record_position,
    record_tracker_fix,
    tracker_unit,
)

__all__ = [
    "ActionError",
    "adopt_caller_location",
    "escalate_unanswered_calls",
    "queue_sms",
    "record_aml",
    "record_call_event",
    "record_caller_location",
    "send_location_link",
    "take_call",
    "use_location_link",
    "Fix",
    "PositionResult",
    "count_rejected_fix",
    "record_position",
    "record_tracker_fix",
    "tracker_unit",
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
    "acknowledge_notice",
    "alert_unacknowledged_notices",
    "record_arrival",
    "record_handover",
    "refresh_notices",
    "send_due_notices",
    "send_notice",
    "set_unit_status",
    "start_shift",
    "mark_read",
    "record_vitals",
    "send_message",
    "update_patient_record",
]
