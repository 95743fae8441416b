"""Calls as the telephony providers report them, and where callers' phones say they are."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    # Set once by dispatch.calls.actions.escalate_unanswered_calls (a conditional update, so
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


class CallBackOutcome(models.TextChoices):
    """What the dispatcher found when calling a missed caller back, chosen after the call."""

    REACHED = "reached", _("Reached the caller")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    NOT_NEEDED = "not_needed", _("No help needed")


class CallBack(models.Model):
    """One attempt to call back a missed or abandoned call (dispatch.calls.callbacks): placed
    through the telephony provider by a dispatcher, its outcome chosen afterwards. An empty
    outcome is an attempt under way; at most one per call (the constraint backs the row lock)."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="callbacks")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    seat = models.CharField(max_length=40, blank=True)  # the dispatcher's seat at the time
    provider = models.CharField(max_length=20)
    provider_call_id = models.CharField(max_length=64, blank=True)
    to_number = models.CharField(max_length=32)
    placed_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=12, choices=CallBackOutcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["placed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["call"], condition=models.Q(outcome=""), name="one_open_call_back_per_call"
            )
        ]


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
        "dispatch.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="caller_locations"
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
    incident = models.ForeignKey(
        "dispatch.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    phone = models.CharField(max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
