"""Hospitals, what they can treat, and their emergency department's live status.

Each number has one source of truth: diversion lives on Hospital.diverting, beds in one
BedAvailability row per (hospital, category). Changes go through hospitals.actions-style named
actions in dispatch (which write the audit event); nothing else saves them.
"""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

from hospitals.endpoints import https_only


class Capability(models.TextChoices):
    CHEST_PAIN = "chest_pain", _("Chest pain centre")
    STROKE = "stroke", _("Stroke centre")
    TRAUMA = "trauma", _("Trauma centre")
    MATERNAL = "maternal", _("Maternal critical care centre")
    NEONATAL = "neonatal", _("Neonatal critical care centre")
    PCI = "pci", _("PCI (cath lab)")
    CT = "ct", _("CT")
    BURNS = "burns", _("Burns")
    PAEDIATRIC = "paediatric", _("Paediatrics")


class DiversionCategory(models.TextChoices):
    ALL = "all", _("All patients")
    STROKE = "stroke", _("Stroke")
    CHEST_PAIN = "chest_pain", _("Chest pain")
    TRAUMA = "trauma", _("Trauma")
    MATERNAL = "maternal", _("Maternal")
    NEONATAL = "neonatal", _("Neonatal")
    PAEDIATRIC = "paediatric", _("Paediatric")


class BedCategory(models.TextChoices):
    RESUS = "resus", _("Resuscitation")
    ER = "er", _("Emergency")
    ICU = "icu", _("ICU")
    NEGATIVE_PRESSURE = "negative_pressure", _("Negative-pressure isolation")


class HospitalQuerySet(models.QuerySet):
    def with_capability(self, capability: str) -> "HospitalQuerySet":
        """Hospitals that list this capability."""
        return self.filter(capabilities__contains=[capability])

    def accepting(self, category: str | None = None) -> "HospitalQuerySet":
        """Hospitals not diverting everything, nor this category when one is given."""
        qs = self.exclude(diverting__contains=[DiversionCategory.ALL])
        if category:
            qs = qs.exclude(diverting__contains=[category])
        return qs


class Hospital(models.Model):
    # The stable key a centre's files use (dispatch.registry's import): the name can change.
    code = models.CharField(_("code"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    level = models.CharField(_("grade"), max_length=20, blank=True, help_text="e.g. 三级甲等")
    location = models.PointField(_("location"), geography=True, srid=4326)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("ER phone (E.164)"), max_length=20, blank=True)
    capabilities = ArrayField(
        models.CharField(max_length=20, choices=Capability.choices),
        default=list,
        blank=True,
        verbose_name=_("capabilities"),
    )
    diverting = ArrayField(
        models.CharField(max_length=20, choices=DiversionCategory.choices),
        default=list,
        blank=True,
        verbose_name=_("diverting"),
        help_text=_("Empty means open. 'all' diverts every patient."),
    )
    diversion_reason = models.CharField(_("diversion reason"), max_length=200, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    fhir_endpoint = models.URLField(_("FHIR endpoint"), blank=True, validators=[https_only])
    # OAuth 2.0 client credentials for the endpoint (hospitals.fhir_auth); blank: no sign-in.
    fhir_token_url = models.URLField(_("FHIR token URL (OAuth 2.0)"), blank=True, validators=[https_only])
    fhir_client_id = models.CharField(_("FHIR client id"), max_length=200, blank=True)
    # Sealed (hospitals.secrets): never stored, shown or logged in clear.
    fhir_client_secret = models.CharField(_("FHIR client secret"), max_length=500, blank=True)
    fhir_scope = models.CharField(
        _("FHIR scope"), max_length=300, blank=True, help_text=_("e.g. system/*.write")
    )
    has_board = models.BooleanField(_("uses the ER board"), default=True)
    sms_number = models.CharField(_("SMS number (E.164)"), max_length=20, blank=True)

    objects = HospitalQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("hospital")
        verbose_name_plural = _("hospitals")

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return not self.diverting

    def is_diverting_for(self, category: str) -> bool:
        return DiversionCategory.ALL in self.diverting or category in self.diverting


class BedAvailability(models.Model):
    hospital = models.ForeignKey(Hospital, on_delete=models.CASCADE, related_name="beds")
    category = models.CharField(_("category"), max_length=20, choices=BedCategory.choices)
    available = models.PositiveIntegerField(_("available"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bed availability")
        verbose_name_plural = _("bed availability")
        constraints = [
            models.UniqueConstraint(fields=["hospital", "category"], name="one_bed_count_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.hospital}: {self.category} {self.available}"
