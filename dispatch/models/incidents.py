"""Incidents and the units assigned to them, with every clock a 120 report needs."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models.calls import Call
from dispatch.models.people import User
from dispatch.models.places import Place
from fleet.models import CrewShift, Unit
from hospitals.models import Hospital


class Priority(models.IntegerChoices):
    I = 1, _("I Critical (危重)")  # noqa: E741
    II = 2, _("II Emergency (急重)")
    III = 3, _("III Urgent (紧急)")
    IV = 4, _("IV Non-urgent (非紧急)")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class LocationSource(models.TextChoices):
    PIN = "pin", _("Map pin")
    GAZETTEER = "gazetteer", _("Gazetteer")
    SMS_LINK = "sms_link", _("Caller's phone (SMS link)")
    AML = "aml", _("Advanced Mobile Location")
    GEOCODER = "geocoder", _("Geocoder")
    CELL = "cell", _("Carrier cell location")


class IncidentQuerySet(models.QuerySet):
    def open(self) -> "IncidentQuerySet":
        """Incidents still being handled."""
        return self.filter(status=IncidentStatus.OPEN)

    def bound_for(self, hospital: Hospital) -> "IncidentQuerySet":
        """Incidents with a live assignment whose destination is this hospital."""
        return self.filter(assignments__hospital=hospital, assignments__cancelled_at__isnull=True).distinct()


class Incident(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents")
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=60, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326, null=True, blank=True)
    location_source = models.CharField(max_length=12, choices=LocationSource.choices, blank=True)
    location_accuracy_m = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Where inside the address: what the crew needs at the door.
    address_building = models.CharField(_("building"), max_length=30, blank=True)
    address_unit = models.CharField(_("entrance"), max_length=30, blank=True)
    address_floor = models.CharField(_("floor"), max_length=30, blank=True)
    address_room = models.CharField(_("room"), max_length=30, blank=True)
    access_notes = models.CharField(_("access notes"), max_length=500, blank=True)
    hazards = models.CharField(_("hazards"), max_length=500, blank=True)
    place = models.ForeignKey(Place, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    chief_complaint = models.CharField(_("chief complaint"), max_length=200, blank=True)
    capability_needed = models.CharField(max_length=20, blank=True)
    triage_answers = models.JSONField(default=dict, blank=True)
    patient_name = models.CharField(_("patient name"), max_length=60, blank=True)
    patient_sex = models.CharField(
        _("sex"), max_length=1, blank=True, choices=[("M", _("Male")), ("F", _("Female"))]
    )
    patient_age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    patient_count = models.PositiveSmallIntegerField(_("patients"), default=1)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    linked_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The timeline (docs/architecture.md). The first unit's times are copied here for the reports.
    call_received_at = models.DateTimeField(null=True, blank=True)
    call_answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    location_confirmed_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    patient_contact_at = models.DateTimeField(null=True, blank=True)
    transport_started_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    unit_available_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="incident_status_created"),
            models.Index(fields=["caller_number", "-created_at"], name="incident_caller_created"),
        ]

    def __str__(self) -> str:
        return self.number


class AssignmentQuerySet(models.QuerySet):
    def live(self) -> "AssignmentQuerySet":
        """Assignments not cancelled and not finished."""
        return self.filter(cancelled_at__isnull=True, cleared_at__isnull=True)

    def for_crew(self, user: User) -> "AssignmentQuerySet":
        """What a crew member on shift may see and document: their unit's live assignment and
        the ones that unit finished during this shift (a record is often completed after
        clearing, and a tablet's offline queue may arrive later still), never another crew's."""
        on_shift = CrewShift.objects.current().filter(user=user, unit=OuterRef("unit"))
        finished_in_shift = on_shift.filter(
            Q(started_at__lte=OuterRef("cleared_at")) | Q(started_at__lte=OuterRef("cancelled_at"))
        )
        live = Q(cancelled_at__isnull=True, cleared_at__isnull=True)
        return self.filter((live & Exists(on_shift)) | Exists(finished_in_shift))


class Assignment(models.Model):
    """One unit sent to one incident, with its own clocks."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the dispatcher was shown, kept for quality review.
    recommended_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    eta_at_dispatch_s = models.FloatField(null=True, blank=True)
    # The first recommended unit's ETA when this one was sent (the server's own ranking at that
    # moment: dispatch.incidents.actions.override_etas), so an override's cost can be reported.
    top_pick_eta_s = models.FloatField(null=True, blank=True)
    hospital_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=200, blank=True)
    dispatched_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    patient_contact_at = models.DateTimeField(null=True, blank=True)
    transport_started_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True, help_text="unit available again")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Why the crew ended the job before transport (dispatch.crew.actions.END_REASONS), and the
    # words for "other".
    end_reason = models.CharField(max_length=20, blank=True)
    end_note = models.CharField(max_length=200, blank=True)
    # The tablet's own clock for each time above that a crew tapped, as it sent it: the server
    # time is the record, the client's shows what a tablet that was offline saw.
    client_times = models.JSONField(default=dict, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["dispatched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cancelled_at__isnull=True, cleared_at__isnull=True),
                name="one_live_assignment_per_unit",
            )
        ]
