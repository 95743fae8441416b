"""Stations, ambulances (units), crews on shift, positions, and the road network.

Fleet models never import dispatch (docs/architecture.md, dependency direction); state changes that screens
must see go through dispatch's named actions.
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.postgres.fields import ArrayField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Station(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StandbyPoint(models.Model):
    """A place other than a station where a free ambulance may wait to keep part of the city
    covered (a hospital forecourt, a fire station, a lay-by on a ring road). Move-up
    suggestions send units to stations and to these."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326)
    # How many units may wait there at once (a lay-by takes one, a forecourt two or three).
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=1)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    ALS = "als", _("ALS (监护型)")
    BLS = "bls", _("BLS (普通型)")
    NEGATIVE_PRESSURE = "negative_pressure", _("Negative pressure (负压)")
    NEONATAL = "neonatal", _("Neonatal (新生儿)")


class UnitCapability(models.TextChoices):
    ALS = "als", _("Advanced life support")
    BLS = "bls", _("Basic life support")
    NEGATIVE_PRESSURE = "negative_pressure", _("Negative-pressure cabin")
    NEONATAL = "neonatal", _("Neonatal incubator")
    DEFIBRILLATOR = "defib", _("Defibrillator")
    VENTILATOR = "ventilator", _("Ventilator")
    BARIATRIC = "bariatric", _("Bariatric stretcher")


# What each kind of vehicle can do unless the unit says otherwise. Keyed by the kind's value: a
# plain string (from a form or the database) finds the same entry as the member.
KIND_CAPABILITIES: dict[str, list[str]] = {
    UnitKind.ALS: ["als", "bls", "defib", "ventilator"],
    UnitKind.BLS: ["bls", "defib"],
    UnitKind.NEGATIVE_PRESSURE: ["negative_pressure", "als", "bls", "defib", "ventilator"],
    UnitKind.NEONATAL: ["neonatal", "als", "bls", "ventilator"],
}


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    DISPATCHED = "dispatched", _("Dispatched")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    PATIENT_CONTACT = "patient_contact", _("Patient contact")
    TRANSPORTING = "transporting", _("Transporting")
    AT_HOSPITAL = "at_hospital", _("At hospital")
    RETURNING = "returning", _("Returning")
    # Driving to a station or standby point on an accepted move-up (dispatch.coverage): still
    # free for a new job, which cancels the move.
    RELOCATING = "relocating", _("Relocating")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


BUSY_STATUSES = [
    UnitStatus.DISPATCHED,
    UnitStatus.ACKNOWLEDGED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.PATIENT_CONTACT,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
]

# Free for a new job: the recommendation, coverage and the boards count these as available.
FREE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.RELOCATING)


class UnitQuerySet(models.QuerySet):
    def in_service(self) -> "UnitQuerySet":
        """Units that are not out of service."""
        return self.exclude(status=UnitStatus.OUT_OF_SERVICE)

    def available(self) -> "UnitQuerySet":
        """Units free to take a new job now (at station, returning or relocating)."""
        return self.filter(status__in=FREE_STATUSES)

    def with_capability(self, capability: str) -> "UnitQuerySet":
        """Units that carry this capability."""
        return self.filter(capabilities__contains=[capability])

    def located(self) -> "UnitQuerySet":
        """Units that have reported a position."""
        return self.filter(position__isnull=False)

    def nearest_to(self, point: Point) -> "UnitQuerySet":
        """Ordered by straight-line distance (KNN on the GiST index; slice it)."""
        return self.located().order_by(GeometryDistance("position", point))


def new_tracker_key() -> str:
    """A tracker's secret: 24 random bytes (192 bits), URL-safe, so it can stand as the device
    identifier or as a segment of the server URL."""
    return secrets.token_urlsafe(24)


class Unit(models.Model):
    call_sign = models.CharField(_("call sign"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    capabilities = ArrayField(
        models.CharField(max_length=20, choices=UnitCapability.choices), default=list, blank=True
    )
    home_station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="units", null=True, blank=True
    )
    plate = models.CharField(_("licence plate"), max_length=20, blank=True)
    phone = models.CharField(_("vehicle phone (E.164)"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    position = models.PointField(_("position"), geography=True, srid=4326, null=True, blank=True)
    position_at = models.DateTimeField(_("position time"), null=True, blank=True)
    speed_kmh = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    tracker_id = models.CharField(_("tracker device id"), max_length=64, unique=True, null=True, blank=True)
    # What a tracker proves it is this unit's with (dispatch/positions): the IMEI above is printed
    # on the box and guessable, so it is accepted alone only from the trackers' own network.
    tracker_key = models.CharField(
        _("tracker key"), max_length=64, unique=True, default=new_tracker_key, editable=False
    )
    # Why the unit is out of service and when it should be back (set and cleared by dispatch's
    # take_out_of_service and return_to_service; empty while in service).
    out_of_service_reason = models.CharField(_("out of service because"), max_length=120, blank=True)
    expected_back_at = models.DateTimeField(_("expected back in service"), null=True, blank=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["call_sign"]

    def __str__(self) -> str:
        return self.call_sign

    def position_age(self, now=None) -> timedelta | None:
        if self.position_at is None:
            return None
        return (now or timezone.now()) - self.position_at

    def is_position_stale(self, now=None) -> bool:
        age = self.position_age(now)
        return age is None or age.total_seconds() > settings.STALE_POSITION_SECONDS

    @property
    def is_available(self) -> bool:
        return self.status in FREE_STATUSES

    def rotate_tracker_key(self) -> str:
        """Give the unit a new tracker key (the old one stops working at once) and return it."""
        self.tracker_key = new_tracker_key()
        Unit.objects.filter(pk=self.pk).update(tracker_key=self.tracker_key)
        return self.tracker_key


class CrewRole(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    DRIVER = "driver", _("Driver")
    STRETCHER = "stretcher", _("Stretcher bearer")


class CrewShiftQuerySet(models.QuerySet):
    def current(self) -> "CrewShiftQuerySet":
        """Shifts that have started and not ended."""
        return self.filter(ended_at__isnull=True)


class CrewShift(models.Model):
    """A crew member bound to a unit for a shift; the binding ends with the shift."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="shifts")
    role = models.CharField(max_length=20, choices=CrewRole.choices, default=CrewRole.DOCTOR)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = CrewShiftQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(ended_at__isnull=True), name="one_open_shift_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"


class PositionSource(models.TextChoices):
    TABLET = "tablet", _("Crew tablet")
    TRACKER = "tracker", _("Tracker (OsmAnd)")
    SIMULATOR = "simulator", _("Simulator")
    MANUAL = "manual", _("Manual")


class PositionReport(models.Model):
    """Position history, for replay and reports (positions are state, not events)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="positions")
    at = models.DateTimeField(_("fix time"))
    received_at = models.DateTimeField(default=timezone.now)
    # No spatial index: history is read by unit and time (the index below), and a GiST entry per
    # fix would be the costliest part of the busiest insert in the system.
    position = models.PointField(geography=True, srid=4326, spatial_index=False)
    speed_kmh = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=PositionSource.choices)

    class Meta:
        indexes = [models.Index(fields=["unit", "-at"], name="position_unit_time")]
        # One fix per unit per instant: a tracker's resend (or two copies racing through two
        # app nodes) is the same fix, stored once.
        constraints = [models.UniqueConstraint(fields=["unit", "at"], name="one_fix_per_unit_instant")]


# The device of RejectedFix rows counting fixes from no known tracker, followed by the hour.
UNKNOWN_DEVICES = "(unknown)"


class RejectedFixQuerySet(models.QuerySet):
    def count_one(self, device: str, reason: str, message: str, unit_id: int | None = None) -> None:
        """Add one to the (device, reason) counter in a single upsert, so concurrent refusals from
        one tracker never race each other into a unique-constraint error."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO fleet_rejectedfix "
                "(device, reason, unit_id, count, first_at, last_at, last_message) "
                "VALUES (%s, %s, %s, 1, now(), now(), %s) "
                "ON CONFLICT (device, reason) DO UPDATE SET count = fleet_rejectedfix.count + 1, "
                "last_at = EXCLUDED.last_at, last_message = EXCLUDED.last_message, "
                "unit_id = coalesce(EXCLUDED.unit_id, fleet_rejectedfix.unit_id)",
                [device[:64], reason[:40], unit_id, message[:300]],
            )

    def count_unknown(self, reason: str, message: str, at: datetime | None = None) -> None:
        """Count one fix from no known tracker: one row per reason per hour, whatever id it
        claimed, so guessing ids grows a counter, not the table (and keeps no guessed id)."""
        hour = (at or timezone.now()).astimezone(UTC).strftime("%Y-%m-%d %H:00Z")
        self.count_one(f"{UNKNOWN_DEVICES} {hour}", reason, message)


class RejectedFix(models.Model):
    """Refused position fixes, counted per device and reason: one row per (device, reason), not
    one per fix, so a tracker stuck sending 0,0 every five seconds costs a counter, not a table.
    Fixes from no known tracker (an unknown or wrong key) are counted together, one row per reason
    per hour (device "(unknown) <hour>"), never one per claimed id."""

    device = models.CharField(_("device"), max_length=64, help_text=_("tracker id, or <source>:<call sign>"))
    reason = models.CharField(_("reason"), max_length=40)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    count = models.PositiveIntegerField(_("count"), default=0)
    first_at = models.DateTimeField(_("first refused"), default=timezone.now)
    last_at = models.DateTimeField(_("last refused"), default=timezone.now)
    last_message = models.CharField(_("last message"), max_length=300, blank=True)

    objects = RejectedFixQuerySet.as_manager()

    class Meta:
        ordering = ["-last_at"]
        constraints = [
            models.UniqueConstraint(fields=["device", "reason"], name="one_counter_per_device_reason")
        ]

    def __str__(self) -> str:
        return f"{self.device} {self.reason} x{self.count}"


class RoadNetworkQuerySet(models.QuerySet):
    def active(self) -> "RoadNetwork | None":
        """The network routing uses now (at most one)."""
        return self.filter(is_active=True).first()


class RoadNetwork(models.Model):
    """One imported road network; exactly one is active, swapped atomically on import."""

    name = models.CharField(max_length=120)
    source = models.CharField(max_length=300, help_text="file or generator it came from")
    is_demo = models.BooleanField(default=False)
    is_active = models.BooleanField(default=False)
    vertex_count = models.PositiveIntegerField(default=0)
    arc_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(default=timezone.now)

    objects = RoadNetworkQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_network"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.vertex_count} vertices, {self.arc_count} arcs)"


class RoadClass(models.IntegerChoices):
    MOTORWAY = 1, _("Motorway")
    TRUNK = 2, _("Trunk")
    PRIMARY = 3, _("Primary")
    SECONDARY = 4, _("Secondary")
    TERTIARY = 5, _("Tertiary")
    LINK = 6, _("Link")
    UNCLASSIFIED = 7, _("Unclassified")
    RESIDENTIAL = 8, _("Residential")
    SERVICE = 9, _("Service")
    LIVING_STREET = 10, _("Living street")


class RoadVertex(models.Model):
    network = models.ForeignKey(RoadNetwork, on_delete=models.CASCADE, related_name="vertices")
    idx = models.IntegerField()
    point = models.PointField(srid=4326)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "idx"], name="vertex_idx_per_network")]


class RoadArc(models.Model):
    """A directed road segment; a two-way street is two arcs."""

    network = models.ForeignKey(RoadNetwork, on_delete=models.CASCADE, related_name="arcs")
    idx = models.IntegerField()
    source = models.IntegerField(help_text="tail vertex idx")
    target = models.IntegerField(help_text="head vertex idx")
    length_m = models.FloatField()
    time_s = models.FloatField()
    road_class = models.SmallIntegerField(choices=RoadClass.choices)
    name = models.CharField(max_length=120, blank=True)
    oneway = models.BooleanField(default=False)
    geom = models.LineStringField(srid=4326)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "idx"], name="arc_idx_per_network")]


def road_geojson_by_class(
    network_id: int, bbox: tuple[float, float, float, float], max_class: int
) -> list[dict]:
    """Roads in a box as one GeoJSON MultiLineString per road class, for drawing the map
    from our own data. Each two-way street is drawn once (the arc with source < target)."""
    from django.db import connection

    sql = """
        SELECT road_class, ST_AsGeoJSON(ST_Collect(geom), 5)
        FROM fleet_roadarc
        WHERE network_id = %s
          AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
          AND road_class <= %s
          AND (oneway OR source < target)
        GROUP BY road_class
        ORDER BY road_class DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [network_id, *bbox, max_class])
        return [{"road_class": row[0], "geometry": row[1]} for row in cursor.fetchall()]


class RosterSource(models.TextChoices):
    FORM = "form", _("Entered")
    WEEK = "week", _("Week form")
    IMPORT = "import", _("Imported")
    APPROVAL = "approval", _("Supervisor's approval")


class RosterEntryQuerySet(models.QuerySet):
    def startable(self, now: datetime, early: timedelta) -> "RosterEntryQuerySet":
        """Entries a shift may start on at `now`: begun, or beginning within `early`, and not over."""
        return self.filter(planned_start__lte=now + early, planned_end__gt=now)

    def overlapping(self, start: datetime, end: datetime) -> "RosterEntryQuerySet":
        """Entries that share some time with [start, end)."""
        return self.filter(planned_start__lt=end, planned_end__gt=start)


class RosterEntry(models.Model):
    """One planned shift (排班) of one crew member on one unit. Day, night and custom shifts are
    just their times. A crew member starts a shift only on a unit rostered to them now (or with a
    supervisor's approval, which becomes an entry of its own); the shift ends by itself at the
    latest planned end of the member's entries on that unit, plus a grace period."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="roster")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="roster")
    role = models.CharField(_("crew role"), max_length=20, choices=CrewRole.choices, default=CrewRole.DOCTOR)
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    source = models.CharField(max_length=10, choices=RosterSource.choices, default=RosterSource.FORM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RosterEntryQuerySet.as_manager()

    class Meta:
        ordering = ["planned_start", "unit_id", "pk"]
        indexes = [
            models.Index(fields=["user", "unit", "planned_end"], name="roster_user_unit_end"),
            models.Index(fields=["unit", "planned_start"], name="roster_unit_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gt=models.F("planned_start")), name="roster_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit} {self.planned_start:%Y-%m-%d %H:%M}–{self.planned_end:%H:%M}"


class ShiftApproval(models.Model):
    """A supervisor's recorded approval for one crew member to start a shift on one unit without
    a roster entry: valid for a few minutes, used once (its use writes a roster entry)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    approved_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(_("start before"))
    shift_until = models.DateTimeField(_("shift ends"))
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit} approved by {self.approved_by}"
