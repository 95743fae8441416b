"""Users and roles, calls, incidents, assignments, the gazetteer, the event log and the outbox.

Important rows change only through the named actions in dispatch/actions/ (BRIEF decision 3).
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fleet.models import CrewShift, Unit
from hospitals.models import Hospital


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher")
    SUPERVISOR = "supervisor", _("Supervisor")
    CREW = "crew", _("Ambulance crew")
    HOSPITAL = "hospital", _("Hospital staff")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.DISPATCHER)
    hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("Hospital staff see only this hospital's patients."),
    )
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="hospital") | Q(hospital__isnull=False),
                name="hospital_staff_have_a_hospital",
            )
        ]

    @property
    def is_control_room(self) -> bool:
        """Dispatchers, supervisors and admins see every incident."""
        return self.role in (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN) or self.is_superuser


class PlaceKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    LANDMARK = "landmark", _("Landmark")
    COMPOUND = "compound", _("Residential compound (小区)")
    INTERSECTION = "intersection", _("Intersection")
    ROAD = "road", _("Road")
    HOSPITAL = "hospital", _("Hospital")
    STATION = "station", _("Ambulance station")


class Place(models.Model):
    """A gazetteer entry: what a caller names, and where it is."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    point = models.PointField(geography=True, srid=4326)
    address = models.CharField(_("address"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    # Search keys filled by dispatch.gazetteer from the name: full pinyin and initials.
    pinyin = models.CharField(max_length=400, blank=True)
    initials = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=40, default="admin")

    class Meta:
        indexes = [
            GinIndex(fields=["name"], name="place_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["pinyin"], name="place_pinyin_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["name_en"], name="place_name_en_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class CallQuerySet(models.QuerySet):
    def ringing(self) -> "CallQuerySet":
        """Calls waiting for a dispatcher, oldest first."""
        return self.filter(status=CallStatus.RINGING).order_by("ringing_at")

    def unanswered_since(self, before) -> "CallQuerySet":
        """Ringing calls that began before `before` and are not escalated yet."""
        return self.filter(status=CallStatus.RINGING, ringing_at__lte=before, escalated_at__isnull=True)

    def on_line_with(self, user) -> "CallQuerySet":
        """Calls this dispatcher has taken and that have not ended."""
        return self.filter(status=CallStatus.ANSWERED, answered_by=user)


class Call(models.Model):
    provider = models.CharField(max_length=20, default="console")
    provider_call_id = models.CharField(max_length=64)
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    called_number = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=CallStatus.choices, default=CallStatus.RINGING)
    ringing_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recording_url = models.URLField(max_length=500, blank=True)
    # Set once by dispatch.actions.calls.escalate_unanswered_calls (a conditional update, so
    # several app nodes running the loop escalate each call once).
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_call_id"], name="one_call_per_provider_id")
        ]
        indexes = [models.Index(fields=["status", "ringing_at"], name="call_status_ringing")]

    @property
    def is_live(self) -> bool:
        """Still ringing or being talked on."""
        return self.status in (CallStatus.RINGING, CallStatus.ANSWERED)


class Priority(models.IntegerChoices):
    I = 1, _("I Critical (危重)")  # noqa: E741
    II = 2, _("II Emergency (急重)")
    III = 3, _("III Urgent (紧急)")
    IV = 4, _("IV Non-urgent (非紧急)")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class LocationSource(models.TextChoices):
    PIN = "pin", _("Map pin")
    GAZETTEER = "gazetteer", _("Gazetteer")
    SMS_LINK = "sms_link", _("Caller's phone (SMS link)")
    AML = "aml", _("Advanced Mobile Location")
    GEOCODER = "geocoder", _("Geocoder")
    CELL = "cell", _("Carrier cell location")


class IncidentQuerySet(models.QuerySet):
    def open(self) -> "IncidentQuerySet":
        """Incidents still being handled."""
        return self.filter(status=IncidentStatus.OPEN)

    def bound_for(self, hospital: Hospital) -> "IncidentQuerySet":
        """Incidents with a live assignment whose destination is this hospital."""
        return self.filter(assignments__hospital=hospital, assignments__cancelled_at__isnull=True).distinct()

    def visible_to(self, user: User) -> "IncidentQuerySet":
        """What this user may see: control room all; a hospital its own; a crew its unit's."""
        if user.is_control_room:
            return self
        if user.role == Role.HOSPITAL and user.hospital_id:
            return self.filter(assignments__hospital_id=user.hospital_id).distinct()
        if user.role == Role.CREW:
            return self.filter(assignments__in=Assignment.objects.for_crew(user)).distinct()
        return self.none()


class Incident(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents")
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=60, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326, null=True, blank=True)
    location_source = models.CharField(max_length=12, choices=LocationSource.choices, blank=True)
    location_accuracy_m = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    place = models.ForeignKey(Place, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    chief_complaint = models.CharField(_("chief complaint"), max_length=200, blank=True)
    capability_needed = models.CharField(max_length=20, blank=True)
    triage_answers = models.JSONField(default=dict, blank=True)
    patient_name = models.CharField(_("patient name"), max_length=60, blank=True)
    patient_sex = models.CharField(
        _("sex"), max_length=1, blank=True, choices=[("M", _("Male")), ("F", _("Female"))]
    )
    patient_age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    patient_count = models.PositiveSmallIntegerField(_("patients"), default=1)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    linked_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The timeline (BRIEF.md). The first unit's times are copied here for the reports.
    call_received_at = models.DateTimeField(null=True, blank=True)
    call_answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    location_confirmed_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    patient_contact_at = models.DateTimeField(null=True, blank=True)
    transport_started_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    unit_available_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="incident_status_created"),
            models.Index(fields=["caller_number", "-created_at"], name="incident_caller_created"),
        ]

    def __str__(self) -> str:
        return self.number


class AssignmentQuerySet(models.QuerySet):
    def live(self) -> "AssignmentQuerySet":
        """Assignments not cancelled and not finished."""
        return self.filter(cancelled_at__isnull=True, cleared_at__isnull=True)

    def for_crew(self, user: User) -> "AssignmentQuerySet":
        """What a crew member on shift may see and document: their unit's live assignment and
        the ones that unit finished during this shift (a record is often completed after
        clearing, and a tablet's offline queue may arrive later still), never another crew's."""
        on_shift = CrewShift.objects.current().filter(user=user, unit=OuterRef("unit"))
        finished_in_shift = on_shift.filter(
            Q(started_at__lte=OuterRef("cleared_at")) | Q(started_at__lte=OuterRef("cancelled_at"))
        )
        live = Q(cancelled_at__isnull=True, cleared_at__isnull=True)
        return self.filter((live & Exists(on_shift)) | Exists(finished_in_shift))


class Assignment(models.Model):
    """One unit sent to one incident, with its own clocks."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the dispatcher was shown, kept for quality review.
    recommended_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    eta_at_dispatch_s = models.FloatField(null=True, blank=True)
    hospital_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=200, blank=True)
    dispatched_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    patient_contact_at = models.DateTimeField(null=True, blank=True)
    transport_started_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True, help_text="unit available again")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # The tablet's own clock for each time above that a crew tapped, as it sent it: the server
    # time is the record, the client's shows what a tablet that was offline saw.
    client_times = models.JSONField(default=dict, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["dispatched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cancelled_at__isnull=True, cleared_at__isnull=True),
                name="one_live_assignment_per_unit",
            )
        ]


class EventCounter(models.Model):
    """The single row whose UPDATE hands out gap-free event numbers (BRIEF decision 4).

    A bare sequence would hand out numbers that can commit out of order; the row lock makes
    every event-writing transaction take its number and commit in order.
    """

    last_seq = models.BigIntegerField(default=0)


class Event(models.Model):
    """The record: every change screens see, numbered without gaps."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)  # dotted: "incident.created", "unit.status"
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Audience: the hospital whose staff may see this event (null: control room only
    # unless the incident is theirs); see dispatch.events.visible_events.
    hospital = models.ForeignKey(Hospital, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["incident", "seq"], name="event_incident_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed for good")


class OutboxQuerySet(models.QuerySet):
    def due(self, now=None) -> "OutboxQuerySet":
        """Pending messages whose next attempt time has come."""
        return self.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now or timezone.now())


class Outbox(models.Model):
    """Outbound messages, written in the same transaction as the change (BRIEF decision 8)."""

    channel = models.CharField(max_length=20)  # "sms", "fhir", "crew_alert", ...
    recipient = models.CharField(max_length=300)
    payload = models.JSONField(default=dict)
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]


class IdempotencyKey(models.Model):
    """A write already applied: a retry with the same key returns the stored answer
    (dispatch.idempotency)."""

    key = models.CharField(max_length=80, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict)
    operation = models.CharField(max_length=40, blank=True)
    # SHA-256 of the request: the same key with another body is refused, not answered.
    fingerprint = models.CharField(max_length=64, blank=True)
    # A retry writes these rather than only reading, so its commit waits for the synchronous
    # standby like the first one did (NOTES: Patroni).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)


class CallerInstruction(models.Model):
    """Scripted pre-arrival instructions a dispatcher reads to the caller (e.g. telephone CPR)."""

    code = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("English title"), max_length=120, blank=True)
    steps = models.JSONField(_("steps"), default=list, help_text=_("One sentence per step, in Chinese."))
    steps_en = models.JSONField(_("English steps"), default=list, blank=True)
    cpr = models.BooleanField(
        _("telephone CPR"), default=False, help_text=_("Shows the metronome and timer.")
    )

    def __str__(self) -> str:
        return self.title


class TriageProtocol(models.Model):
    """Question-driven triage for one chief complaint, as data an admin edits.

    `questions` is {"start": id, "questions": {id: {"text", "text_en", "hint"?, "hint_en"?,
    "answers": [{"label", "label_en", "next": id} or {"label", "label_en", "outcome": {"priority":
    1-4, "capability": a fleet UnitCapability, "instruction": CallerInstruction code or null,
    "hospital_capability"?: a hospitals Capability}}]}}}. At most 9 answers per question (keys
    1-9); English texts may be left out (screens fall back to Chinese). dispatch.triage
    validates and evaluates it.
    """

    code = models.SlugField(unique=True)
    name = models.CharField(_("chief complaint"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    keywords = models.CharField(_("search words"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)
    questions = models.JSONField(_("questions"))

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------------------------
# The crew tablet: the patient record filled on the way, vital signs, and the message line.


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class PatientRecord(models.Model):
    """What the crew finds and does, one per assignment; the receiving ER reads it ahead."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="patient_record")
    name = models.CharField(_("patient name"), max_length=60, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    chief_complaint = models.CharField(_("chief complaint"), max_length=200, blank=True)
    findings = models.TextField(_("findings"), max_length=4000, blank=True)
    interventions = models.TextField(_("interventions"), max_length=2000, blank=True)
    # [{"name", "dose", "route", "given_at"}]: checked by dispatch.actions.crew.
    drugs = models.JSONField(_("drugs given"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_time = models.DateTimeField(
        null=True, blank=True, help_text="the tablet's time of the last change"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(age__lte=150), name="patient_age_at_most_150"),
        ]


# Plausible readings (inclusive) and their units. Wider than normal on purpose: a heart rate of
# 0 is an arrest, not a typo; 350 is a typo. Outside these the crew is asked to check.
VITAL_RANGES: dict[str, tuple[float, float, str]] = {
    "heart_rate": (0, 300, "/min"),
    "systolic_bp": (20, 300, "mmHg"),
    "diastolic_bp": (10, 200, "mmHg"),
    "spo2": (30, 100, "%"),
    "respiratory_rate": (0, 80, "/min"),
    "temperature_c": (25, 45, "°C"),
    "gcs": (3, 15, ""),
    "glucose_mmol": (0.5, 60, "mmol/L"),
}


def _vital_range_constraints() -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": low, f"{name}__lte": high}),
            name=f"vital_{name}_in_range",
        )
        for name, (low, high, _unit) in VITAL_RANGES.items()
    ]


class VitalSign(models.Model):
    """One set of readings; each value optional, at least one present."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField(_("taken at"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_time = models.DateTimeField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("heart rate (/min)"), null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField(_("systolic BP (mmHg)"), null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(_("diastolic BP (mmHg)"), null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(_("respiratory rate (/min)"), null=True, blank=True)
    temperature_c = models.FloatField(_("temperature (°C)"), null=True, blank=True)
    gcs = models.PositiveSmallIntegerField(_("GCS"), null=True, blank=True)
    glucose_mmol = models.FloatField(_("blood glucose (mmol/L)"), null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(heart_rate__isnull=False)
                | Q(systolic_bp__isnull=False)
                | Q(diastolic_bp__isnull=False)
                | Q(spo2__isnull=False)
                | Q(respiratory_rate__isnull=False)
                | Q(temperature_c__isnull=False)
                | Q(gcs__isnull=False)
                | Q(glucose_mmol__isnull=False),
                name="vital_at_least_one_reading",
            ),
            *_vital_range_constraints(),
        ]


class MessageDirection(models.TextChoices):
    TO_CREW = "to_crew", _("Control room to crew")
    TO_CONTROL = "to_control", _("Crew to control room")


class MessageQuerySet(models.QuerySet):
    def for_crew(self, user: User) -> "MessageQuerySet":
        """A crew member's line: their unit's messages since the shift began, and those on an
        assignment they may see."""
        since_shift = CrewShift.objects.current().filter(
            user=user, unit=OuterRef("unit"), started_at__lte=OuterRef("sent_at")
        )
        return self.filter(Q(assignment__in=Assignment.objects.for_crew(user)) | Exists(since_shift))


class Message(models.Model):
    """One line between the control room and a unit's crew."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="messages")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    direction = models.CharField(max_length=10, choices=MessageDirection.choices)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("text"), max_length=500)
    sent_at = models.DateTimeField(default=timezone.now)
    client_time = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["unit", "sent_at"], name="message_unit_sent")]


# --------------------------------------------------------------------------------------------
# Caller location: positions the caller's own phone reports (the SMS-link page, AML).


class CallerLocationSource(models.TextChoices):
    SMS_LINK = "sms_link", _("Caller's phone (SMS link)")
    AML = "aml", _("Advanced Mobile Location")


class CallerLocationQuerySet(models.QuerySet):
    def for_number(self, number: str, since) -> "CallerLocationQuerySet":
        """Fixes from this number received since `since`, newest first."""
        return self.filter(caller_number=number, received_at__gte=since).order_by("-received_at")


class CallerLocation(models.Model):
    """One position from the caller's handset, as received; adopting it as the incident's
    location goes through locate_incident."""

    source = models.CharField(max_length=10, choices=CallerLocationSource.choices)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="locations")
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="caller_locations"
    )
    caller_number = models.CharField(max_length=32, blank=True)
    point = models.PointField(geography=True, srid=4326)
    accuracy_m = models.FloatField(null=True, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True, help_text="the handset's time of the fix")
    received_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, blank=True)  # AML: gnss, wifi, cell; page: browser
    raw = models.JSONField(default=dict, blank=True)

    objects = CallerLocationQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["caller_number", "-received_at"], name="callerloc_number_received")]


class LocationLink(models.Model):
    """A one-time link sent to the caller by SMS; only the token's hash is stored, so the
    database alone cannot be used to post a position."""

    token_hash = models.CharField(max_length=64, unique=True)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    phone = models.CharField(max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


# --------------------------------------------------------------------------------------------
# Hospital handoff (上车即入院): the pre-arrival notice, its acknowledgement by the receiving ER,
# and each attempt to deliver it to the hospital's FHIR endpoint (Hospital.fhir_endpoint is the
# endpoint's one address). Arrival and handover are the assignment's own clocks.


class NoticeQuerySet(models.QuerySet):
    def on_board(self) -> "NoticeQuerySet":
        """Notices of patients still to be handed over, on jobs neither cancelled, cleared (a
        crew that cleared from the scene brings nobody) nor withdrawn."""
        return self.filter(
            withdrawn_at__isnull=True,
            assignment__cancelled_at__isnull=True,
            assignment__cleared_at__isnull=True,
            assignment__handover_at__isnull=True,
        )

    def for_hospital(self, hospital_id: int) -> "NoticeQuerySet":
        """Notices sent to this hospital."""
        return self.filter(hospital_id=hospital_id)

    def visible_to(self, user: User) -> "NoticeQuerySet":
        """Control room all; hospital staff their own hospital's; everyone else none."""
        if user.is_control_room:
            return self
        if user.role == Role.HOSPITAL and user.hospital_id:
            return self.for_hospital(user.hospital_id)
        return self.none()

    def unacknowledged(self) -> "NoticeQuerySet":
        """Notices nobody at their current hospital has acknowledged."""
        acks = NoticeAcknowledgement.objects.filter(notice=OuterRef("pk"), hospital=OuterRef("hospital"))
        return self.filter(~Exists(acks))


class PreArrivalNotice(models.Model):
    """What the receiving ER is told before the ambulance arrives: one per assignment. Its
    content is read live from the assignment (patient record, vitals, the unit's position);
    `revision` counts the sends and updates, so a delivery can say which one it carried."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="notice")
    # The hospital it was sent to: the assignment's destination when last sent.
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="notices")
    revision = models.PositiveIntegerField(default=1)
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # The road ETA when last sent or updated (the board recomputes it from the live position).
    eta_s = models.FloatField(null=True, blank=True)
    eta_at = models.DateTimeField(null=True, blank=True)
    # Set once by alert_unacknowledged_notices (a conditional update: one alert per sending).
    alerted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["hospital", "sent_at"], name="notice_hospital_sent")]


class NoticeAcknowledgement(models.Model):
    """Someone at the receiving hospital has read the notice (or a dispatcher phoned them).
    One per notice and hospital: a patient redirected elsewhere needs the new ER's own."""

    notice = models.ForeignKey(PreArrivalNotice, on_delete=models.CASCADE, related_name="acknowledgements")
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField()
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    by_phone = models.BooleanField(default=False, help_text="recorded by a dispatcher who phoned the ER")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "hospital"], name="one_ack_per_notice_and_hospital")
        ]


class FhirDeliveryAttempt(models.Model):
    """One try at POSTing a notice's FHIR Bundle to the hospital's endpoint, kept whatever the
    outcome so the dispatcher sees why a notice has not arrived."""

    outbox = models.ForeignKey(Outbox, on_delete=models.SET_NULL, null=True, related_name="+")
    notice = models.ForeignKey(PreArrivalNotice, on_delete=models.CASCADE, related_name="deliveries")
    revision = models.PositiveIntegerField()
    url = models.URLField(max_length=300)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["started_at", "pk"]
