"""Outbound messages written with the change that causes them, and idempotency keys."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.incidents import Incident


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
    """Outbound messages, written in the same transaction as the change (decision 8, docs/decisions/)."""

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
    (dispatch.core.idempotency)."""

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
