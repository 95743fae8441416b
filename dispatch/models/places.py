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

    class Meta:
        indexes = [
            GinIndex(fields=["name"], name="place_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["pinyin"], name="place_pinyin_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["name_en"], name="place_name_en_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.name
