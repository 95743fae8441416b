"""The gazetteer's places: addresses, landmarks, compounds, with pinyin for search."""

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    LANDMARK = "landmark", _("Landmark")
    COMPOUND = "compound", _("Residential compound (小区)")
    INTERSECTION = "intersection", _("Intersection")
    ROAD = "road", _("Road")
    HOSPITAL = "hospital", _("Hospital")
    STATION = "station", _("Ambulance station")


class Place(models.Model):
    """A gazetteer entry: what a caller names, and where it is."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    point = models.PointField(geography=True, srid=4326)
    address = models.CharField(_("address"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    # Search keys filled by dispatch.locate.gazetteer from the name: full pinyin and initials.
    pinyin = models.CharField(max_length=400, blank=True)
    initials = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=40, default="admin")
    # A stable key from the file or map it came from (an address point's id, "osm:node/123"):
    # importing it again updates this row. Blank: the place is found by kind, name and district.
    ref = models.CharField(_("reference"), max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ref"], condition=~models.Q(ref=""), name="place_ref_unique")
        ]
        indexes = [
            GinIndex(fields=["name"], name="place_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["pinyin"], name="place_pinyin_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["name_en"], name="place_name_en_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """An administrative district (区/县): its outline, for reports and for naming where a place is."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    polygon = models.MultiPolygonField(_("district outline"), srid=4326)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name
