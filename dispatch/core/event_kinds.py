"""Every kind of event the log records: one catalogue for the actions that write them, the
screens that react to them and the timelines that show them.

The value is what is stored in Event.kind and sent on the live socket (dotted, `incident.created`);
the label is what a timeline shows, in the user's language. Pages get both from
`page_catalogue()` (the `event-kinds` JSON in templates/base.html, read by static/js/shared.js),
so a kind is spelled in exactly one place.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class EventKind(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_LOCATED = "incident.located"
    INCIDENT_TRIAGED = "incident.triaged"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_LINKED = "incident.linked"
    INCIDENT_REPEAT_CALL = "incident.repeat_call"
    INCIDENT_REOPENED = "incident.reopened"
    INCIDENT_CLOSED = "incident.closed"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_CANCELLED = "assignment.cancelled"
    ASSIGNMENT_DESTINATION = "assignment.destination"
    ASSIGNMENT_REDIRECTED = "assignment.redirected"
    # A station's alert screen acknowledged the job (dispatch.station); crew alert escalation:
    # SMS and voice call to the unit's phone when nobody acknowledged (dispatch.alarms.scanner).
    ASSIGNMENT_STATION_ACKNOWLEDGED = "assignment.station_acknowledged"
    ASSIGNMENT_ESCALATED = "assignment.escalated"
    ASSIGNMENT_ENDED_EARLY = "assignment.ended_early"
    ASSIGNMENT_DESTINATION_DIVERTING = "assignment.destination_diverting"
    UNIT_CREATED = "unit.created"
    UNIT_UPDATED = "unit.updated"
    UNIT_STATUS = "unit.status"
    UNIT_STATUS_CORRECTED = "unit.status_corrected"
    STATION_CREATED = "station.created"
    STATION_UPDATED = "station.updated"
    # A standby point added or changed (the admin, the import): where move-ups may send units.
    STANDBY_POINT_SAVED = "standby_point.saved"
    PLACE_SAVED = "place.saved"
    DISTRICT_SAVED = "district.saved"
    USER_SAVED = "user.saved"
    SHIFT_STARTED = "shift.started"
    SHIFT_ENDED = "shift.ended"
    # The roster and the control room's own shifts (dispatch.roster): control room only.
    ROSTER_ADDED = "roster.added"
    ROSTER_REMOVED = "roster.removed"
    SHIFT_APPROVED = "roster.approved"
    SEAT_CREATED = "seat.created"
    SEAT_SIGNED_ON = "seat.signed_on"
    SEAT_SIGNED_OFF = "seat.signed_off"
    HANDOVER_NOTE = "changeover.note"
    HANDOVER_ACKNOWLEDGED = "changeover.acknowledged"
    CALL_RINGING = "call.ringing"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_ESCALATED = "call.escalated"
    CALL_RECORDING = "call.recording"
    CALL_LOCATION_LINK = "call.location_link"
    # A missed or abandoned call called back, and what came of it (dispatch.calls.callbacks):
    # no incident, no unit, no hospital on the event, so only the control room receives it.
    CALL_BACK_PLACED = "call.back_placed"
    CALL_BACK_OUTCOME = "call.back_outcome"
    CALLER_LOCATION = "caller.location"
    SMS_QUEUED = "sms.queued"
    MESSAGE_SENT = "message.sent"
    MESSAGE_READ = "message.read"
    PATIENT_UPDATED = "patient.updated"
    VITALS_RECORDED = "vitals.recorded"
    NOTICE_SENT = "notice.sent"
    NOTICE_UPDATED = "notice.updated"
    NOTICE_ACKNOWLEDGED = "notice.acknowledged"
    NOTICE_WITHDRAWN = "notice.withdrawn"
    NOTICE_UNACKNOWLEDGED = "notice.unacknowledged"
    NOTICE_WITHDRAWAL_ACKNOWLEDGED = "notice.withdrawal_acknowledged"
    NOTICE_MESSAGE = "notice.message"
    HANDOVER_ARRIVED = "handover.arrived"
    HANDOVER_COMPLETED = "handover.completed"
    HOSPITAL_CREATED = "hospital.created"
    HOSPITAL_UPDATED = "hospital.updated"
    HOSPITAL_DIVERSION = "hospital.diversion"
    HOSPITAL_BEDS = "hospital.beds"
    OUTBOX_SENT = "outbox.sent"
    OUTBOX_FAILED = "outbox.failed"
    # Major incidents (dispatch.major): declared, the situation report, stood down; casualties
    # registered, re-tagged, given a destination, carried and arrived. A casualty's event names
    # its hospital once it has one, so that hospital (and only it) receives it.
    MAJOR_DECLARED = "major.declared"
    MAJOR_SITREP = "major.sitrep"
    MAJOR_SCENE = "major.scene"
    MAJOR_STOOD_DOWN = "major.stood_down"
    CASUALTY_REGISTERED = "casualty.registered"
    CASUALTY_RETAGGED = "casualty.retagged"
    CASUALTY_ALLOCATED = "casualty.allocated"
    CASUALTY_TRANSPORTED = "casualty.transported"
    CASUALTY_ARRIVED = "casualty.arrived"
    # A casualty's pre-arrival notice sent or re-sent by the crew carrying it (dispatch.major).
    CASUALTY_NOTICE = "casualty.notice"
    # Alarms the console cannot miss (dispatch.alarms): control room only.
    ALARM_RAISED = "alarm.raised"
    ALARM_ACKNOWLEDGED = "alarm.acknowledged"
    ALARM_CLEARED = "alarm.cleared"
    # Move-up suggestions (dispatch.coverage.moveup): proposed, dismissed and superseded name no
    # unit (control room only); accepted, arrived and cancelled name it, so its crew hears them.
    MOVE_UP_PROPOSED = "move_up.proposed"
    MOVE_UP_ACCEPTED = "move_up.accepted"
    MOVE_UP_DISMISSED = "move_up.dismissed"
    MOVE_UP_SUPERSEDED = "move_up.superseded"
    MOVE_UP_ARRIVED = "move_up.arrived"
    MOVE_UP_CANCELLED = "move_up.cancelled"
    # The audit family: administrators only (dispatch.core.permissions).
    AUDIT_SIGNED_IN = "audit.signed_in"
    AUDIT_SIGNED_OUT = "audit.signed_out"
    AUDIT_SIGN_IN_FAILED = "audit.sign_in_failed"
    AUDIT_ADMIN_EDIT = "audit.admin_edit"
    AUDIT_TWO_FACTOR_ENROLLING = "audit.two_factor_enrolling"
    AUDIT_TWO_FACTOR_CONFIRMED = "audit.two_factor_confirmed"
    AUDIT_TWO_FACTOR_REMOVED = "audit.two_factor_removed"


# What a timeline says for each kind.
LABELS = {
    EventKind.INCIDENT_CREATED: _("incident opened"),
    EventKind.INCIDENT_LOCATED: _("location confirmed"),
    EventKind.INCIDENT_TRIAGED: _("triaged"),
    EventKind.INCIDENT_UPDATED: _("details updated"),
    EventKind.INCIDENT_LINKED: _("linked as duplicate"),
    EventKind.INCIDENT_REPEAT_CALL: _("repeat call linked here"),
    EventKind.INCIDENT_REOPENED: _("reopened"),
    EventKind.INCIDENT_CLOSED: _("closed"),
    EventKind.ASSIGNMENT_CREATED: _("unit dispatched"),
    EventKind.ASSIGNMENT_CANCELLED: _("unit stood down"),
    EventKind.ASSIGNMENT_DESTINATION: _("destination set"),
    EventKind.ASSIGNMENT_REDIRECTED: _("redirected"),
    EventKind.ASSIGNMENT_STATION_ACKNOWLEDGED: _("station acknowledged"),
    EventKind.ASSIGNMENT_ESCALATED: _("crew alert escalated"),
    EventKind.ASSIGNMENT_ENDED_EARLY: _("job ended before transport"),
    EventKind.ASSIGNMENT_DESTINATION_DIVERTING: _("destination can no longer take the patient"),
    EventKind.UNIT_CREATED: _("unit added"),
    EventKind.UNIT_UPDATED: _("unit details changed"),
    EventKind.UNIT_STATUS: _("unit status"),
    EventKind.UNIT_STATUS_CORRECTED: _("status tap undone"),
    EventKind.STATION_CREATED: _("station added"),
    EventKind.STATION_UPDATED: _("station details changed"),
    EventKind.STANDBY_POINT_SAVED: _("standby point saved"),
    EventKind.PLACE_SAVED: _("gazetteer place saved"),
    EventKind.DISTRICT_SAVED: _("district saved"),
    EventKind.USER_SAVED: _("user account saved"),
    EventKind.SHIFT_STARTED: _("shift started"),
    EventKind.SHIFT_ENDED: _("shift ended"),
    EventKind.ROSTER_ADDED: _("rostered"),
    EventKind.ROSTER_REMOVED: _("taken off the roster"),
    EventKind.SHIFT_APPROVED: _("shift approved by a supervisor"),
    EventKind.SEAT_CREATED: _("seat added"),
    EventKind.SEAT_SIGNED_ON: _("signed on to a seat"),
    EventKind.SEAT_SIGNED_OFF: _("signed off a seat"),
    EventKind.HANDOVER_NOTE: _("note for the next team"),
    EventKind.HANDOVER_ACKNOWLEDGED: _("shift handover acknowledged"),
    EventKind.CALL_RINGING: _("call ringing"),
    EventKind.CALL_ANSWERED: _("call answered"),
    EventKind.CALL_ENDED: _("call ended"),
    EventKind.CALL_ESCALATED: _("unanswered call escalated"),
    EventKind.CALL_RECORDING: _("call recording"),
    EventKind.CALL_LOCATION_LINK: _("location link sent"),
    EventKind.CALL_BACK_PLACED: _("missed call called back"),
    EventKind.CALL_BACK_OUTCOME: _("call back outcome recorded"),
    EventKind.CALLER_LOCATION: _("caller's position received"),
    EventKind.SMS_QUEUED: _("SMS queued"),
    EventKind.MESSAGE_SENT: _("message"),
    EventKind.MESSAGE_READ: _("message read"),
    EventKind.PATIENT_UPDATED: _("patient record updated"),
    EventKind.VITALS_RECORDED: _("vital signs recorded"),
    EventKind.NOTICE_SENT: _("pre-arrival notice sent"),
    EventKind.NOTICE_UPDATED: _("pre-arrival notice updated"),
    EventKind.NOTICE_ACKNOWLEDGED: _("hospital acknowledged the notice"),
    EventKind.NOTICE_WITHDRAWN: _("pre-arrival notice withdrawn"),
    EventKind.NOTICE_UNACKNOWLEDGED: _("notice not acknowledged: phone the hospital"),
    EventKind.NOTICE_WITHDRAWAL_ACKNOWLEDGED: _("hospital acknowledged the withdrawal"),
    EventKind.NOTICE_MESSAGE: _("crew and ER message"),
    EventKind.HANDOVER_ARRIVED: _("arrived at hospital"),
    EventKind.HANDOVER_COMPLETED: _("handover complete"),
    EventKind.HOSPITAL_CREATED: _("hospital added"),
    EventKind.HOSPITAL_UPDATED: _("hospital details changed"),
    EventKind.HOSPITAL_DIVERSION: _("hospital diversion changed"),
    EventKind.HOSPITAL_BEDS: _("beds updated"),
    EventKind.OUTBOX_SENT: _("outbound message sent"),
    EventKind.OUTBOX_FAILED: _("outbound message failed"),
    EventKind.MAJOR_DECLARED: _("major incident declared"),
    EventKind.MAJOR_SITREP: _("situation report updated"),
    EventKind.MAJOR_SCENE: _("scene command, staging or access changed"),
    EventKind.MAJOR_STOOD_DOWN: _("major incident stood down"),
    EventKind.CASUALTY_REGISTERED: _("casualty registered"),
    EventKind.CASUALTY_RETAGGED: _("casualty re-triaged"),
    EventKind.CASUALTY_ALLOCATED: _("casualty given a destination"),
    EventKind.CASUALTY_TRANSPORTED: _("casualty on the way to hospital"),
    EventKind.CASUALTY_ARRIVED: _("casualty arrived at hospital"),
    EventKind.CASUALTY_NOTICE: _("casualty's pre-arrival notice sent"),
    EventKind.ALARM_RAISED: _("alarm raised"),
    EventKind.ALARM_ACKNOWLEDGED: _("alarm acknowledged"),
    EventKind.ALARM_CLEARED: _("alarm cleared"),
    EventKind.MOVE_UP_PROPOSED: _("move-up suggested"),
    EventKind.MOVE_UP_ACCEPTED: _("move-up accepted"),
    EventKind.MOVE_UP_DISMISSED: _("move-up dismissed"),
    EventKind.MOVE_UP_SUPERSEDED: _("move-up superseded"),
    EventKind.MOVE_UP_ARRIVED: _("arrived at the standby site"),
    EventKind.MOVE_UP_CANCELLED: _("move-up cancelled"),
    EventKind.AUDIT_SIGNED_IN: _("signed in"),
    EventKind.AUDIT_SIGNED_OUT: _("signed out"),
    EventKind.AUDIT_SIGN_IN_FAILED: _("sign-in failed"),
    EventKind.AUDIT_ADMIN_EDIT: _("admin edit"),
    EventKind.AUDIT_TWO_FACTOR_ENROLLING: _("two-factor set-up begun"),
    EventKind.AUDIT_TWO_FACTOR_CONFIRMED: _("two-factor sign-in turned on"),
    EventKind.AUDIT_TWO_FACTOR_REMOVED: _("two-factor sign-in removed"),
}


AUDIT_PREFIX = "audit."


def page_catalogue() -> dict[str, dict[str, str]]:
    """The kinds by name and their labels by value, in the current language, for the pages."""
    return {
        "kinds": {kind.name: kind.value for kind in EventKind},
        "labels": {kind.value: str(LABELS[kind]) for kind in EventKind},
    }
