"""Pre-arrival notices to receiving hospitals, their acknowledgements, and FHIR deliveries."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.incidents import Assignment
from dispatch.models.outbox import Outbox
from hospitals.models import Hospital


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


class WithdrawalReason(models.TextChoices):
    REDIRECTED = "redirected", _("Redirected to another hospital")
    STOOD_DOWN = "stood_down", _("Unit stood down")
    NOT_TRANSPORTED = "not_transported", _("Not transported")


class NoticeWithdrawal(models.Model):
    """A notice taken back from a hospital that had it: the patient goes elsewhere or nowhere.
    Its board keeps the card, struck through, until someone there acknowledges it; a patient who
    comes back supersedes it. One per notice, hospital and the revision that hospital had."""

    notice = models.ForeignKey(PreArrivalNotice, on_delete=models.CASCADE, related_name="withdrawals")
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=WithdrawalReason.choices)
    redirected_to = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True, help_text="the patient was sent back here")

    class Meta:
        ordering = ["withdrawn_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "hospital", "revision"], name="one_withdrawal_per_notice_revision"
            )
        ]


class ErMessageDirection(models.TextChoices):
    TO_ER = "to_er", _("Crew to ER")
    TO_CREW = "to_crew", _("ER to crew")


class ErMessage(models.Model):
    """One line between a unit's crew and the receiving ER about one notice ("STEMI, please alert
    the cath lab"). Only that crew, that hospital and the control room read it."""

    notice = models.ForeignKey(PreArrivalNotice, on_delete=models.CASCADE, related_name="er_messages")
    # The hospital the line was with: the notice's when it was written.
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=10, choices=ErMessageDirection.choices)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["notice", "sent_at"], name="er_message_notice_sent")]
