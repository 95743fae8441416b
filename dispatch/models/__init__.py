"""The dispatch app's models, one module per feature (every table keeps the `dispatch` app label).

Important rows change only through the named actions of each feature (docs/architecture.md).
"""

from dispatch.models.alarms import Alarm, AlarmKind, AlarmQuerySet
from dispatch.models.calls import (
    Call,
    CallBack,
    CallBackOutcome,
    CallerLocation,
    CallerLocationQuerySet,
    CallerLocationSource,
    CallQuerySet,
    CallStatus,
    LocationLink,
)
from dispatch.models.casualty_notices import NOTICE_VITALS, CasualtyNotice, InjuryChip
from dispatch.models.coverage import OPEN_MOVE_UP_STATES, MoveUp, MoveUpQuerySet, MoveUpState
from dispatch.models.crew import (
    VITAL_RANGES,
    Message,
    MessageDirection,
    MessageQuerySet,
    PatientRecord,
    PushSubscription,
    Sex,
    VitalSign,
)
from dispatch.models.events import Event, EventCounter
from dispatch.models.handoff import (
    ErMessage,
    ErMessageDirection,
    FhirDeliveryAttempt,
    NoticeAcknowledgement,
    NoticeQuerySet,
    NoticeWithdrawal,
    PreArrivalNotice,
    WithdrawalReason,
)
from dispatch.models.incidents import (
    Assignment,
    AssignmentQuerySet,
    Incident,
    IncidentQuerySet,
    IncidentStatus,
    LocationSource,
    Priority,
)
from dispatch.models.major import (
    TAG_ORDER,
    Casualty,
    CasualtyStatus,
    MajorIncident,
    MajorLevel,
    MajorStatus,
    TriageTag,
)
from dispatch.models.outbox import IdempotencyKey, Outbox, OutboxQuerySet, OutboxStatus
from dispatch.models.people import Role, User
from dispatch.models.places import District, Place, PlaceKind
from dispatch.models.seats import (
    Handover,
    HandoverNote,
    HandoverNoteQuerySet,
    Seat,
    SeatSession,
    SeatSessionQuerySet,
)
from dispatch.models.triage import CallerInstruction, TriageProtocol

__all__ = [
    "OPEN_MOVE_UP_STATES",
    "MoveUp",
    "MoveUpQuerySet",
    "MoveUpState",
    "TAG_ORDER",
    "NOTICE_VITALS",
    "CasualtyNotice",
    "InjuryChip",
    "Casualty",
    "CasualtyStatus",
    "MajorIncident",
    "MajorLevel",
    "MajorStatus",
    "TriageTag",
    "Role",
    "User",
    "PlaceKind",
    "Place",
    "District",
    "CallStatus",
    "CallQuerySet",
    "Call",
    "CallBack",
    "CallBackOutcome",
    "CallerLocationSource",
    "CallerLocationQuerySet",
    "CallerLocation",
    "LocationLink",
    "Priority",
    "IncidentStatus",
    "LocationSource",
    "IncidentQuerySet",
    "Incident",
    "AssignmentQuerySet",
    "Assignment",
    "EventCounter",
    "Event",
    "OutboxStatus",
    "OutboxQuerySet",
    "Outbox",
    "IdempotencyKey",
    "CallerInstruction",
    "TriageProtocol",
    "Sex",
    "PatientRecord",
    "VITAL_RANGES",
    "VitalSign",
    "MessageDirection",
    "MessageQuerySet",
    "Message",
    "PushSubscription",
    "NoticeQuerySet",
    "PreArrivalNotice",
    "NoticeAcknowledgement",
    "FhirDeliveryAttempt",
    "WithdrawalReason",
    "NoticeWithdrawal",
    "ErMessageDirection",
    "ErMessage",
    "AlarmKind",
    "AlarmQuerySet",
    "Alarm",
    "Seat",
    "SeatSessionQuerySet",
    "SeatSession",
    "Handover",
    "HandoverNoteQuerySet",
    "HandoverNote",
]
