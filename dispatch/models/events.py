"""The event log: every change, numbered without gaps in commit order."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone

from dispatch.models.incidents import Incident
from fleet.models import Unit
from hospitals.models import Hospital


class EventCounter(models.Model):
    """The single row whose UPDATE hands out gap-free event numbers (decision 4, docs/decisions/).

    A bare sequence would hand out numbers that can commit out of order; the row lock makes
    every event-writing transaction take its number and commit in order.
    """

    last_seq = models.BigIntegerField(default=0)


class Event(models.Model):
    """The record: every change screens see, numbered without gaps."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)  # dotted (incident.created): dispatch.core.event_kinds
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Audience: the hospital whose staff may see this event (null: control room only
    # unless the incident is theirs); see dispatch.core.permissions.visible_events.
    hospital = models.ForeignKey(Hospital, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["incident", "seq"], name="event_incident_seq"),
            # the audit trail and the alarm history read one family of kinds, newest first
            models.Index(fields=["kind", "seq"], name="event_kind_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"
