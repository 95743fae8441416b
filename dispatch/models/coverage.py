"""Move-up suggestions (dispatch.coverage.moveup): relocate one free unit to a station or a
standby point so that the part of the city no free unit reaches in time is covered again."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fleet.models import StandbyPoint, Station, Unit


class MoveUpState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")
    SUPERSEDED = "superseded", _("Superseded")
    # The unit reached the site (tapped "arrived" or its position came within reach).
    DONE = "done", _("Done")
    # The relocating unit was sent to a job (or taken out of service) before it arrived.
    CANCELLED = "cancelled", _("Cancelled")


OPEN_MOVE_UP_STATES = (MoveUpState.PROPOSED, MoveUpState.ACCEPTED)


class MoveUpQuerySet(models.QuerySet):
    def proposed(self) -> "MoveUpQuerySet":
        """Suggestions waiting for a dispatcher's decision."""
        return self.filter(state=MoveUpState.PROPOSED)

    def under_way(self) -> "MoveUpQuerySet":
        """Accepted moves whose unit has not arrived yet."""
        return self.filter(state=MoveUpState.ACCEPTED)


class MoveUp(models.Model):
    """One suggestion: `unit` from where it is to a station or a standby point (exactly one),
    with the expected uncovered demand before and after (policy.expected_uncovered), the
    district it restores and the drive's ETA."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="move_ups")
    from_station = models.ForeignKey(
        Station, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_position = models.PointField(geography=True, srid=4326, null=True, blank=True)
    to_station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_standby = models.ForeignKey(
        StandbyPoint, on_delete=models.PROTECT, null=True, blank=True, related_name="move_ups"
    )
    uncovered_before = models.FloatField()
    uncovered_after = models.FloatField()
    district = models.CharField(max_length=60, blank=True)
    eta_s = models.FloatField()
    state = models.CharField(max_length=12, choices=MoveUpState.choices, default=MoveUpState.PROPOSED)
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=120, blank=True)

    objects = MoveUpQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_station__isnull=False, to_standby__isnull=True)
                | Q(to_station__isnull=True, to_standby__isnull=False),
                name="move_up_one_site",
            ),
            # One move at a time (the study's rule): one suggestion open, one unit under way each.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="proposed"), name="one_proposed_move_up"
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(state="accepted"), name="one_move_up_per_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} -> {self.site_name}"

    @property
    def site(self) -> Station | StandbyPoint:
        site = self.to_station or self.to_standby
        assert site is not None
        return site

    @property
    def site_name(self) -> str:
        return self.site.name

    @property
    def gain(self) -> float:
        return self.uncovered_before - self.uncovered_after
