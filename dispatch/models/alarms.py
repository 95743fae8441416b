"""Alarms the console cannot miss: a condition that needs a dispatcher now, kept as a row so a
console opened later (or reloaded) shows it, until the condition goes away."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.incidents import Assignment, Incident
from fleet.models import Unit


class AlarmKind(models.TextChoices):
    NOTICE_UNACKNOWLEDGED = "notice_unacknowledged", _("Hospital has not acknowledged the pre-arrival notice")
    UNIT_NOT_ACKNOWLEDGING = "unit_not_acknowledging", _("Crew has not acknowledged the job")
    INCIDENT_UNDISPATCHED_OVERDUE = "incident_undispatched_overdue", _("Incident not dispatched in time")
    TURNOUT_EXCEEDED = "turnout_exceeded", _("Unit not en route in time")


class AlarmQuerySet(models.QuerySet):
    def open(self) -> "AlarmQuerySet":
        """Alarms whose condition still holds (acknowledged or not)."""
        return self.filter(cleared_at__isnull=True)

    def unacknowledged(self) -> "AlarmQuerySet":
        """Alarms nobody in the control room has acknowledged yet."""
        return self.filter(acknowledged_at__isnull=True)


class Alarm(models.Model):
    """One condition on one incident (and one unit, where it is a unit's): raised and cleared
    by the alarm scanner (dispatch/alarms), acknowledged by a named dispatcher."""

    kind = models.CharField(max_length=32, choices=AlarmKind.choices)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="alarms")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, null=True, blank=True, related_name="alarms"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # What the console shows beside the kind (call sign, hospital and its phone, the target).
    detail = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The condition went away (the unit went en route, the ER acknowledged, the incident closed).
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = AlarmQuerySet.as_manager()

    class Meta:
        ordering = ["raised_at", "pk"]
        constraints = [
            # One open alarm per (kind, incident, unit); NULL units are not equal in SQL, so
            # the incident-wide kinds have a constraint of their own.
            models.UniqueConstraint(
                fields=["kind", "incident", "unit"],
                condition=Q(cleared_at__isnull=True, unit__isnull=False),
                name="one_open_alarm_per_unit",
            ),
            models.UniqueConstraint(
                fields=["kind", "incident"],
                condition=Q(cleared_at__isnull=True, unit__isnull=True),
                name="one_open_alarm_per_incident",
            ),
        ]
        indexes = [models.Index(fields=["cleared_at", "raised_at"], name="alarm_open_raised")]

    def __str__(self) -> str:
        return f"{self.kind} {self.incident_id}/{self.unit_id}"
