"""Users and their roles."""

from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hospitals.models import Hospital


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher")
    SUPERVISOR = "supervisor", _("Supervisor")
    CREW = "crew", _("Ambulance crew")
    HOSPITAL = "hospital", _("Hospital staff")
    ADMIN = "admin", _("Administrator")
    # A wall screen in an ambulance station (/station/): rings for its own units' jobs only.
    STATION = "station", _("Station screen")
    # The control room's wallboard (大屏, /wallboard/): the centre's figures, no patient.
    WALLBOARD = "wallboard", _("Wallboard screen")


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
    # The station a crew member or dispatcher belongs to (set by dispatch.registry's save_user).
    station = models.ForeignKey(
        "fleet.Station", on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="hospital") | Q(hospital__isnull=False),
                name="hospital_staff_have_a_hospital",
            ),
            # A station screen (Role.STATION) shows its own station's jobs: it needs the station.
            models.CheckConstraint(
                condition=~Q(role="station") | Q(station__isnull=False),
                name="station_screens_have_a_station",
            ),
        ]
