"""What the crew records on the way: the patient, vital signs, and the message line."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.incidents import Assignment, Incident
from dispatch.models.people import User
from fleet.models import CrewShift, Unit


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
    # [{"name", "dose", "route", "given_at"}]: checked by dispatch.crew.actions.
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


class PushSubscription(models.Model):
    """A tablet's Web Push subscription (dispatch.crew.push): the crew member signed in on it and
    the unit of their shift then. One row per endpoint, the latest sign-in's; deleted when the
    push service says the endpoint is gone."""

    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)  # the browser's ECDH public key, base64url
    auth = models.CharField(max_length=50)  # the shared auth secret, base64url
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    # The crew member's language when they subscribed: the alert's words are in it.
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["unit", "user"], name="push_unit_user")]
