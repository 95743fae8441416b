"""Admin for triage protocols and caller instructions: reference data a medical director edits.

A protocol is edited as rows of questions and answers (dispatch.triage.editor), or as raw JSON;
either way the form refuses a protocol that would strand a dispatcher mid-call
(dispatch.triage.protocols) and lists every problem. An instruction that protocols still read out
cannot be renamed or deleted.
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
from dispatch.triage.editor import ProtocolEditor
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
EDITOR, JSON = "editor", "json"


class TriageProtocolForm(forms.ModelForm):
    """The protocol's fields, its question tree from the editor's rows (or, if chosen, from the
    raw JSON), and one validation for both: every problem is listed and nothing is saved."""

    edit_with = forms.ChoiceField(
        label=_("Save the questions from"),
        choices=[(EDITOR, _("the question editor above")), (JSON, _("the JSON below"))],
        initial=EDITOR,
        widget=forms.RadioSelect,
    )
    questions = PrettyJSONField(label=_("questions"), rows=40, help_text=QUESTIONS_HELP, required=False)

    class Meta:
        model = TriageProtocol
        fields = ["code", "name", "name_en", "keywords", "order", "active", "questions"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instructions = list(CallerInstruction.objects.order_by("code"))
        self.instruction_codes = {i.code for i in instructions}
        tree = self.instance.questions if self.instance.pk else None
        self.editor = ProtocolEditor(self.data if self.is_bound else None, tree, instructions)

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data, typed optional as an override may not
        cleaned = self.cleaned_data
        if cleaned.get("edit_with") == JSON:
            self.check_json(cleaned)
        else:
            self.check_editor(cleaned)
        return cleaned

    def check_json(self, cleaned: dict[str, Any]) -> None:
        if "questions" not in cleaned:  # not even JSON: the field says so
            return
        if cleaned["questions"] in (None, ""):
            self.add_error("questions", _("Give the questions as JSON, or save them from the editor."))
            return
        try:
            validate_protocol(cleaned["questions"], self.instruction_codes)
        except forms.ValidationError as exc:
            self.add_error("questions", exc)

    def check_editor(self, cleaned: dict[str, Any]) -> None:
        """The rows' tree replaces whatever the JSON box held (it may be stale or half edited)."""
        self.errors.pop("questions", None)
        valid_rows = self.editor.is_valid()
        tree = self.editor.tree()
        problems = [] if valid_rows else self.editor.problems()
        try:
            validate_protocol(tree, self.instruction_codes)
        except forms.ValidationError as exc:
            problems += exc.messages
        if problems:
            self.add_error(None, problems)
            self.editor.place(problems)
        cleaned["questions"] = tree


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
    change_form_template = "admin/dispatch/triageprotocol/change_form.html"
    list_display = ["name", "name_en", "code", "order", "active", "question_count"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_en", "keywords"]
    readonly_fields = ["outline"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "keywords", "order", "active"]}),
        (_("Outline"), {"classes": ["collapse"], "fields": ["outline"]}),
        (
            _("Raw JSON (advanced)"),
            {
                "classes": ["collapse"],
                "fields": ["edit_with", "questions"],
                "description": _(
                    "The editor above is what is saved, unless “the JSON below” is chosen here. "
                    "Either way the same checks run before anything is saved."
                ),
            },
        ),
    ]

    @admin.display(description=_("questions"))
    def question_count(self, obj: TriageProtocol) -> int:
        nodes = obj.questions.get("questions") if isinstance(obj.questions, dict) else None
        return len(nodes) if isinstance(nodes, dict) else 0

    @admin.display(description=_("outline"))
    def outline(self, obj: TriageProtocol) -> SafeString | str:
        """The question tree as nested lists, for reading it whole."""
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
