"""Dispatcher seats (席位) and the shift handover (交班): who sits at which desk now, the notes the
outgoing team leaves for the next, and the incoming team's acknowledgement of what it took over."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Seat(models.Model):
    """A dispatcher's desk in the control room, e.g. 调度台 3."""

    name = models.CharField(_("seat"), max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SeatSessionQuerySet(models.QuerySet):
    def open(self) -> "SeatSessionQuerySet":
        """Sessions still signed on."""
        return self.filter(signed_off_at__isnull=True)


class SeatSession(models.Model):
    """One dispatcher signed on to one seat, from sign-on to sign-off (or until the next
    dispatcher takes the seat over)."""

    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seat_sessions")
    signed_on_at = models.DateTimeField(default=timezone.now)
    signed_off_at = models.DateTimeField(null=True, blank=True)

    objects = SeatSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["seat"], condition=Q(signed_off_at__isnull=True), name="one_dispatcher_per_seat"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(signed_off_at__isnull=True), name="one_seat_per_dispatcher"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.seat}"


class Handover(models.Model):
    """The incoming team's acknowledgement of a shift handover: who, when, at which seat, and
    what was open at that moment (incident and alarm ids, units out of service)."""

    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-acknowledged_at"]


class HandoverNoteQuerySet(models.QuerySet):
    def pending(self) -> "HandoverNoteQuerySet":
        """Notes the next team has not acknowledged yet."""
        return self.filter(handover__isnull=True)


class HandoverNote(models.Model):
    """A note the outgoing team writes for the next one; acknowledged with the handover."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"), max_length=2000)
    written_at = models.DateTimeField(default=timezone.now)
    handover = models.ForeignKey(
        Handover, on_delete=models.PROTECT, null=True, blank=True, related_name="notes"
    )

    objects = HandoverNoteQuerySet.as_manager()

    class Meta:
        ordering = ["written_at", "pk"]
