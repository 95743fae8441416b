"""Triage protocols and caller instructions, as data the admin can edit."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class CallerInstruction(models.Model):
    """Scripted pre-arrival instructions a dispatcher reads to the caller (e.g. telephone CPR)."""

    code = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("English title"), max_length=120, blank=True)
    steps = models.JSONField(_("steps"), default=list, help_text=_("One sentence per step, in Chinese."))
    steps_en = models.JSONField(_("English steps"), default=list, blank=True)
    cpr = models.BooleanField(
        _("telephone CPR"), default=False, help_text=_("Shows the metronome and timer.")
    )

    def __str__(self) -> str:
        return self.title


class TriageProtocol(models.Model):
    """Question-driven triage for one chief complaint, as data an admin edits.

    `questions` is {"start": id, "questions": {id: {"text", "text_en", "hint"?, "hint_en"?,
    "answers": [{"label", "label_en", "next": id} or {"label", "label_en", "outcome": {"priority":
    1-4, "capability": a fleet UnitCapability, "instruction": CallerInstruction code or null,
    "hospital_capability"?: a hospitals Capability}}]}}}. At most 9 answers per question (keys
    1-9); English texts may be left out (screens fall back to Chinese). dispatch.triage.protocols
    validates and evaluates it.
    """

    code = models.SlugField(unique=True)
    name = models.CharField(_("chief complaint"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    keywords = models.CharField(_("search words"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)
    questions = models.JSONField(_("questions"))

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name
