"""A major incident's pre-arrival notice per casualty (群体伤分伤员预到院通知): what the crew carrying
the casualty tells the destination ER before arrival. One row per casualty, replaced by each
re-send (its version counts the sends; every send is an event, so the log keeps the history)."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.crew import VITAL_RANGES
from dispatch.models.incidents import Assignment
from dispatch.models.major import Casualty

# The readings a casualty's notice carries (a subset of the single-patient vital signs).
NOTICE_VITALS = ("heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs")


class InjuryChip(models.TextChoices):
    """The one-tap injuries on the tablet; the free text says the rest."""

    HEAD = "head", _("Head injury")
    CHEST = "chest", _("Chest injury")
    ABDOMEN = "abdomen", _("Abdominal injury")
    FRACTURE = "fracture", _("Fracture")
    BURN = "burn", _("Burn")
    BLEEDING = "bleeding", _("Bleeding")


class CasualtyNotice(models.Model):
    casualty = models.OneToOneField(Casualty, on_delete=models.PROTECT, related_name="notice")
    # The ambulance job that sent the latest version (the casualty's own ambulance).
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    first_sent_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    injuries = models.CharField(_("injuries"), max_length=500, blank=True)
    chips = models.JSONField(default=list, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    gcs = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{name}__isnull": True})
                | Q(**{f"{name}__gte": VITAL_RANGES[name][0], f"{name}__lte": VITAL_RANGES[name][1]}),
                name=f"casualty_notice_{name}_in_range",
            )
            for name in NOTICE_VITALS
        ]
