"""Major incidents (群体伤 / 突发公共事件): one incident with many patients, many units and many
hospitals. The incident stays the one the console follows; the major incident adds its level, the
situation report (METHANE), the scene's command unit, staging point and access route, and the
casualties, each a record of its own with a START triage tag."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.incidents import Assignment, Incident
from fleet.models import Unit
from hospitals.models import Hospital


class MajorLevel(models.IntegerChoices):
    """China's four levels of a public health emergency (突发公共卫生事件分级), Ⅰ the gravest."""

    I = 1, _("Level I, extremely grave (特别重大)")  # noqa: E741
    II = 2, _("Level II, grave (重大)")
    III = 3, _("Level III, major (较大)")
    IV = 4, _("Level IV, general (一般)")


class MajorStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOOD_DOWN = "stood_down", _("Stood down")


class MajorIncident(models.Model):
    """The major incident declared on an incident, by a dispatcher or by rule."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="major")
    level = models.PositiveSmallIntegerField(_("level"), choices=MajorLevel.choices)
    status = models.CharField(max_length=12, choices=MajorStatus.choices, default=MajorStatus.ACTIVE)
    declared_at = models.DateTimeField(default=timezone.now)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why a rule declared it ("12 patients reported"); blank when declared by hand.
    rule = models.CharField(max_length=200, blank=True)
    # The situation report, METHANE: Major incident, Exact location, Type, Hazards, Access,
    # Number of casualties, Emergency services. Updated as reports come in; every version is an
    # event, so the log holds its history.
    exact_location = models.CharField(_("exact location"), max_length=300, blank=True)
    incident_type = models.CharField(_("type of incident"), max_length=300, blank=True)
    hazards = models.CharField(_("hazards"), max_length=500, blank=True)
    access = models.CharField(_("access"), max_length=500, blank=True)
    casualties_reported = models.PositiveIntegerField(_("casualties reported"), null=True, blank=True)
    casualty_notes = models.CharField(_("casualty notes"), max_length=300, blank=True)
    services = models.CharField(_("emergency services"), max_length=300, blank=True)
    sitrep_at = models.DateTimeField(null=True, blank=True)
    # The scene's organisation: the first unit commands (现场指挥), ambulances wait at the staging
    # point and come in by the access route.
    command_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    staging_point = models.PointField(geography=True, srid=4326, null=True, blank=True)
    access_route = models.LineStringField(geography=True, srid=4326, null=True, blank=True)
    stood_down_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-declared_at"]


class TriageTag(models.TextChoices):
    """START triage (Simple Triage and Rapid Treatment): the tag's colour."""

    RED = "red", _("Red, immediate")
    YELLOW = "yellow", _("Yellow, delayed")
    GREEN = "green", _("Green, minor")
    BLACK = "black", _("Black, dead or expectant")


# The order patients are treated and carried in.
TAG_ORDER = (TriageTag.RED, TriageTag.YELLOW, TriageTag.GREEN, TriageTag.BLACK)


class CasualtyStatus(models.TextChoices):
    AT_SCENE = "at_scene", _("At the scene")
    TRANSPORTING = "transporting", _("In an ambulance")
    AT_HOSPITAL = "at_hospital", _("At hospital")


class Casualty(models.Model):
    """One patient of a major incident: tag first (seconds on the tablet), details later."""

    major = models.ForeignKey(MajorIncident, on_delete=models.PROTECT, related_name="casualties")
    # The number on the physical tag, or the next one when the crew gives none: unique per incident.
    tag_number = models.CharField(_("tag number"), max_length=20)
    # The tablet's own id for the registration, so a retry after a lost answer adds no second one.
    client_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    tag = models.CharField(_("triage tag"), max_length=6, choices=TriageTag.choices)
    sex = models.CharField(_("sex"), max_length=1, blank=True, choices=[("M", _("Male")), ("F", _("Female"))])
    age_estimate = models.PositiveSmallIntegerField(_("age (estimate)"), null=True, blank=True)
    description = models.CharField(_("injuries"), max_length=300, blank=True)
    # Where the patient should go (the accepted distribution plan or a dispatcher's choice) ...
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # ... and the ambulance job carrying them there.
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, null=True, blank=True, related_name="casualties"
    )
    status = models.CharField(max_length=12, choices=CasualtyStatus.choices, default=CasualtyStatus.AT_SCENE)
    registered_at = models.DateTimeField(default=timezone.now)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tagged_at = models.DateTimeField(default=timezone.now)  # the last (re-)triage
    transported_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    # The receiving ER saw the allocation (its board's acknowledgement, per patient).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["registered_at", "pk"]
        verbose_name_plural = "casualties"
        constraints = [
            models.UniqueConstraint(fields=["major", "tag_number"], name="one_tag_number_per_major_incident")
        ]
        indexes = [models.Index(fields=["hospital", "status"], name="casualty_hospital_status")]
