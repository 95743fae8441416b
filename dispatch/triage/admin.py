"""Admin for triage protocols and caller instructions: reference data a medical director edits.

The forms refuse a protocol that would strand a dispatcher mid-call (dispatch.triage.protocols) and an
instruction that protocols still read out.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from dispatch.models import CallerInstruction, TriageProtocol
from dispatch.triage.protocols import protocols_using, validate_protocol


class PrettyJSONField(forms.JSONField):
    """JSON shown indented and with Chinese as characters, so people can read and edit it."""

    def __init__(self, *args: Any, rows: int = 30, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", forms.Textarea(attrs={"rows": rows, "cols": 100, "style": "font-family: monospace"})
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: object) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


QUESTIONS_HELP = _(
    '{"start": question id, "questions": {id: {"text", "text_en", "hint" (optional), "hint_en", '
    '"answers": up to 9 of {"label", "label_en", "next": id} or {"label", "label_en", "outcome": '
    '{"priority": 1-4, "capability": als/bls/negative_pressure/neonatal/..., "instruction": code or null, '
    '"hospital_capability": chest_pain/stroke/trauma/maternal/neonatal/... (optional)}}]}}}. '
    "Every path must end in an outcome; saving checks it."
)


class TriageProtocolForm(forms.ModelForm):
    questions = PrettyJSONField(label=_("questions"), rows=40, help_text=QUESTIONS_HELP)

    class Meta:
        model = TriageProtocol
        fields = ["code", "name", "name_en", "keywords", "order", "active", "questions"]

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data, typed optional as an override may not
        cleaned = self.cleaned_data
        if "questions" in cleaned:  # absent when it was not even JSON
            codes = set(CallerInstruction.objects.values_list("code", flat=True))
            try:
                validate_protocol(cleaned["questions"], codes)
            except forms.ValidationError as exc:
                self.add_error("questions", exc)
        return cleaned


class CallerInstructionForm(forms.ModelForm):
    steps = PrettyJSONField(label=_("steps"), rows=12, help_text=_("A JSON list: one sentence per step."))
    steps_en = PrettyJSONField(label=_("English steps"), rows=12, required=False)

    class Meta:
        model = CallerInstruction
        fields = ["code", "title", "title_en", "cpr", "steps", "steps_en"]

    def clean_steps(self) -> list[str]:
        return checked_steps(self.cleaned_data["steps"], required=True)

    def clean_steps_en(self) -> list[str]:
        return checked_steps(self.cleaned_data.get("steps_en") or [], required=False)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        old = self.instance.code if self.instance.pk else None
        if old and code != old and (users := protocols_using(old)):
            raise forms.ValidationError(
                _("Protocols still use code %(code)s: %(names)s."),
                params={"code": old, "names": ", ".join(p.name for p in users)},
            )
        return code


def checked_steps(steps: object, *, required: bool) -> list[str]:
    if not isinstance(steps, list) or not all(isinstance(s, str) and s.strip() for s in steps):
        raise forms.ValidationError(_("Give a JSON list of non-empty sentences."))
    if required and not steps:
        raise forms.ValidationError(_("Give at least one step."))
    return steps


@admin.register(TriageProtocol)
class TriageProtocolAdmin(admin.ModelAdmin):
    form = TriageProtocolForm
    list_display = ["name", "name_en", "code", "order", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_en", "keywords"]
    readonly_fields = ["outline"]
    fields = ["code", "name", "name_en", "keywords", "order", "active", "outline", "questions"]

    @admin.display(description=_("outline"))
    def outline(self, obj: TriageProtocol) -> SafeString | str:
        """The question tree as nested lists, for reading before editing the JSON."""
        tree = obj.questions if obj and obj.pk else None
        if not isinstance(tree, dict) or tree.get("start") not in tree.get("questions", {}):
            return "-"
        return outline_html(tree["start"], tree["questions"], depth=0)


def outline_html(qid: str, nodes: dict, depth: int) -> SafeString:
    node = nodes[qid]
    if depth > 20:  # a saved cycle cannot hang the page
        return format_html("<p>{}</p>", "…")
    items = format_html_join("", "<li>{}</li>", ((answer_html(a, nodes, depth),) for a in node["answers"]))
    return format_html("<p><b>{}</b></p><ol start='1'>{}</ol>", node["text"], items)


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def answer_html(answer: dict, nodes: dict, depth: int) -> SafeString:
    if "next" in answer and answer["next"] in nodes:
        return format_html("{} → {}", answer["label"], outline_html(answer["next"], nodes, depth + 1))
    o: dict[str, Any] = answer.get("outcome") or {}
    return format_html(
        "{} ⇒ <b>{}</b> {} {} {}",
        answer["label"],
        ROMAN.get(o.get("priority", 0), "?"),  # 0: none given, shown as "?" like any unknown
        o.get("capability", ""),
        o.get("hospital_capability") or "",
        o.get("instruction") or "",
    )


@admin.register(CallerInstruction)
class CallerInstructionAdmin(admin.ModelAdmin):
    form = CallerInstructionForm
    list_display = ["title", "title_en", "code", "cpr"]
    list_filter = ["cpr"]
    search_fields = ["code", "title", "title_en"]

    def has_delete_permission(self, request: HttpRequest, obj: CallerInstruction | None = None) -> bool:
        """An instruction a protocol still reads out cannot be deleted (the outcome would lose it)."""
        if obj is not None and protocols_using(obj.code):
            return False
        return super().has_delete_permission(request, obj)
