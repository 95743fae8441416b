"""The protocol editor of the admin: a medical director edits a question tree as rows.

Each question is a row with its texts; beneath it, its answers, each leading either to another
question (a choice of this protocol's questions) or to an outcome (priority, unit capability,
hospital capability and caller instruction, each a choice of the known values). Blank rows add
questions and answers; a ticked box deletes one. What the rows say becomes the same tree the
JSON holds, and the same validation (dispatch.triage.protocols.validate_protocol) decides
whether it may be saved. Server-rendered formsets, so it works without script; a small script
(static/js/triage-editor.js) only greys out the outcome of answers that lead to a question.

An answer's "leads to" names a question by its row ("#3"), not by its id, so a question can be
renamed, and a new question linked, in the same save.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.forms.formsets import DELETION_FIELD_NAME, ORDERING_FIELD_NAME
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dispatch.models import CallerInstruction, Priority
from fleet.models import UnitCapability
from hospitals.models import Capability

EXTRA_QUESTIONS = 2  # blank question rows at the end
EXTRA_ANSWERS = 2  # blank answer rows under each question
NEW_QUESTION_ANSWERS = 3  # blank answer rows under a blank question
ID_MAX = 40

question_id = RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use letters, digits, - and _ only."))


def small_text(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "cols": 48})


class QuestionForm(forms.Form):
    id = forms.CharField(
        label=_("Question id"),
        max_length=ID_MAX,
        required=False,
        validators=[question_id],
        widget=forms.TextInput(attrs={"size": 14, "class": "editor-id"}),
        help_text=_("Short and unique, e.g. breathing. Left empty, one is made up."),
    )
    text = forms.CharField(label=_("Question (Chinese)"), required=False, widget=small_text())
    text_en = forms.CharField(label=_("Question (English)"), required=False, widget=small_text())
    hint = forms.CharField(label=_("Hint for the dispatcher (Chinese)"), required=False, widget=small_text(1))
    hint_en = forms.CharField(
        label=_("Hint for the dispatcher (English)"), required=False, widget=small_text(1)
    )


class AnswerForm(forms.Form):
    label = forms.CharField(label=_("Answer (Chinese)"), required=False)
    label_en = forms.CharField(label=_("Answer (English)"), required=False)
    leads_to = forms.ChoiceField(label=_("Leads to"), required=False)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *Priority.choices],
    )
    capability = forms.ChoiceField(
        label=_("Unit capability"), required=False, choices=[("", "—"), *UnitCapability.choices]
    )
    hospital_capability = forms.ChoiceField(
        label=_("Hospital capability"),
        required=False,
        choices=[("", _("Nearest suitable")), *Capability.choices],
    )
    instruction = forms.ChoiceField(label=_("Tell the caller"), required=False)

    def __init__(
        self, *args: Any, leads_to: list[tuple[str, str]], instructions: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "leads_to").choices = [("", gettext("⇒ Outcome (on the right)")), *leads_to]
        choice_field(self, "instruction").choices = [("", gettext("No instruction")), *instructions]
        self.fields["label"].widget.attrs["placeholder"] = gettext("Chinese text")
        self.fields["label_en"].widget.attrs["placeholder"] = gettext("English text")
        for field in self.fields.values():  # the table's header names the column; this names the input
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def leads_to_question(self) -> bool:
        return str(self["leads_to"].value() or "").startswith("#")


QuestionFormSet = forms.formset_factory(QuestionForm, extra=EXTRA_QUESTIONS, can_delete=True)


class AnswerFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields[ORDERING_FIELD_NAME].widget.attrs["aria-label"] = gettext("Order (key on the console)")
        form.fields[DELETION_FIELD_NAME].widget.attrs["aria-label"] = gettext("Delete this answer")


def answer_formset(extra: int) -> type[forms.BaseFormSet]:
    return forms.formset_factory(
        AnswerForm, formset=AnswerFormSet, extra=extra, can_delete=True, can_order=True
    )


class StartForm(forms.Form):
    start = forms.ChoiceField(label=_("First question"), required=False)


class QuestionRow:
    """One question of the editor: its form and the formset of its answers."""

    def __init__(self, index: int, form: QuestionForm, answers: forms.BaseFormSet) -> None:
        self.index = index
        self.form = form
        self.answers = answers
        self.ref = f"#{index}"
        self.problems: list[str] = []  # what saving found wrong in this question

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def deleted(self) -> bool:
        return bool(self.form.is_bound and self.form[DELETION_FIELD_NAME].value())


class ProtocolEditor:
    """The rows of one protocol, unbound (from its tree) or bound (from the posted rows)."""

    def __init__(self, data: Any | None, tree: object, instructions: Iterable[CallerInstruction]) -> None:
        nodes, start = tree_parts(tree)
        refs = {qid: f"#{i}" for i, qid in enumerate(nodes)}
        initial = [question_initial(qid, node) for qid, node in nodes.items()]
        self.questions = QuestionFormSet(data, initial=initial, prefix="q")
        leads_to = [(f"#{i}", option_label(i, form)) for i, form in enumerate(self.questions.forms)]
        scripts = [(i.code, f"{i.title} ({i.code})") for i in instructions]
        kwargs = {"leads_to": leads_to, "instructions": scripts}
        stored = list(nodes.values())
        self.rows: list[QuestionRow] = []
        for i, form in enumerate(self.questions.forms):
            node = stored[i] if i < len(stored) else None
            answers = node.get("answers") if isinstance(node, dict) else None
            formset = answer_formset(EXTRA_ANSWERS if node is not None else NEW_QUESTION_ANSWERS)(
                data,
                initial=[answer_initial(a, refs) for a in answers] if isinstance(answers, list) else [],
                prefix=f"q-{i}-a",
                form_kwargs=kwargs,
            )
            self.rows.append(QuestionRow(i, form, formset))
        self.start = StartForm(data, initial={"start": refs.get(str(start), "")}, prefix="editor")
        choice_field(self.start, "start").choices = [("", gettext("The first question below")), *leads_to]

    # --- Reading the rows -----------------------------------------------------------------------

    def is_valid(self) -> bool:
        """Every field holds a value it may hold (the tree itself is judged by validate_protocol)."""
        forms_ok = [self.questions.is_valid(), self.start.is_valid()]
        forms_ok += [row.answers.is_valid() for row in self.rows]
        return all(forms_ok) and not self.duplicate_ids()

    def problems(self) -> list[str]:
        """What is wrong in the rows themselves, each named by its row, for the list above the form."""
        found = [str(e) for e in self.questions.non_form_errors()]
        for row in self.rows:
            found += [str(e) for e in row.answers.non_form_errors()]
            found += [
                gettext("Question row %(q)s, %(field)s: %(error)s")
                % {"q": row.number, "field": row.form.fields[name].label, "error": error}
                for name, errors in row.form.errors.items()
                for error in errors
            ]
            found += [
                gettext("Question row %(q)s, answer row %(n)s, %(field)s: %(error)s")
                % {"q": row.number, "n": n, "field": form.fields[name].label, "error": error}
                for n, form in enumerate(row.answers.forms, start=1)
                for name, errors in form.errors.items()
                for error in errors
            ]
        found += [
            gettext("Two questions have the id %(id)r; give each its own.") % {"id": qid}
            for qid in self.duplicate_ids()
        ]
        found += [str(e) for e in self.start.errors.get("start", [])]
        return found

    def kept(self) -> list[QuestionRow]:
        """The questions the rows hold: not deleted, and not a blank row left blank."""
        wanted = self.referenced()
        initial = self.questions.initial_form_count()
        return [
            row
            for row in self.rows
            if not row.deleted
            and (
                row.index < initial
                or row.form.has_changed()
                or row.ref in wanted
                or any(form.has_changed() for form in row.answers.forms)
            )
        ]

    def place(self, problems: list[str]) -> None:
        """Show each problem also under the question it names ("question 'shock' answer 2...")."""
        ids = self.ids()
        for row in self.kept():
            where = gettext("question %(id)r") % {"id": ids[row.ref]}
            row.problems = [p for p in problems if p.startswith(where)]

    def referenced(self) -> set[str]:
        return {
            str(f["leads_to"].value())
            for row in self.rows
            for f in row.answers.forms
            if f.leads_to_question()
        }

    def ids(self) -> dict[str, str]:
        """Each question row's id ("#3" → "breathing"), made up where it was left empty."""
        typed = {row.ref: str(row.form["id"].value() or "").strip() for row in self.rows}
        taken = set(typed.values())
        ids = {}
        for row in self.rows:
            qid = typed[row.ref]
            if not qid:
                n = row.number
                while f"q{n}" in taken:
                    n += 1
                qid = f"q{n}"
                taken.add(qid)
            ids[row.ref] = qid
        return ids

    def duplicate_ids(self) -> list[str]:
        ids = self.ids()
        seen = [ids[row.ref] for row in self.kept()]
        return sorted({qid for qid in seen if seen.count(qid) > 1})

    def tree(self) -> dict:
        """The question tree the rows say, as stored in TriageProtocol.questions."""
        ids = self.ids()
        kept = self.kept()
        questions = {}
        for row in kept:
            node: dict[str, Any] = {"text": value(row.form, "text")}
            for key in ("text_en", "hint", "hint_en"):
                if value(row.form, key):
                    node[key] = value(row.form, key)
            node["answers"] = [answer_dict(form, ids) for form in ordered_answers(row.answers)]
            questions[ids[row.ref]] = node
        start = ids.get(value(self.start, "start")) or (ids[kept[0].ref] if kept else "")
        return {"start": start, "questions": questions}


def value(form: forms.Form, name: str) -> str:
    return str(form[name].value() or "").strip()


def ordered_answers(formset: forms.BaseFormSet) -> list[AnswerForm]:
    """The answers kept, in the order their order numbers give (blank ones last)."""
    kept = []
    for index, form in enumerate(formset.forms):
        if form[DELETION_FIELD_NAME].value() or not (
            index < formset.initial_form_count() or form.has_changed()
        ):
            continue
        order = form[ORDERING_FIELD_NAME].value()
        number = int(order) if str(order or "").strip().lstrip("-").isdigit() else None
        kept.append((number is None, number or 0, index, form))
    return [form for *_key, form in sorted(kept, key=lambda k: k[:3])]


def answer_dict(form: AnswerForm, ids: dict[str, str]) -> dict:
    answer: dict[str, Any] = {"label": value(form, "label")}
    if value(form, "label_en"):
        answer["label_en"] = value(form, "label_en")
    outcome: dict[str, Any] = {}
    priority = value(form, "priority")
    if priority or not form.leads_to_question():
        outcome["priority"] = int(priority) if priority.isdigit() else (priority or None)
    if value(form, "capability") or not form.leads_to_question():
        outcome["capability"] = value(form, "capability") or None
    for key in ("hospital_capability", "instruction"):
        if value(form, key):
            outcome[key] = value(form, key)
    if form.leads_to_question():
        answer["next"] = ids.get(value(form, "leads_to"), value(form, "leads_to"))
    if outcome:
        answer["outcome"] = outcome
    return answer


def tree_parts(tree: object) -> tuple[dict, object]:
    """The questions of a stored tree in the order a dispatcher meets them (the database keeps no
    order of its own), and its start; a tree broken behind the admin's back is shown as it is."""
    if not isinstance(tree, dict):
        return {}, None
    nodes = tree.get("questions")
    nodes = nodes if isinstance(nodes, dict) else {}
    start = tree.get("start")
    order: list[str] = []

    def visit(qid: object) -> None:
        if not isinstance(qid, str) or qid not in nodes or qid in order:
            return
        order.append(qid)
        answers = nodes[qid].get("answers") if isinstance(nodes[qid], dict) else None
        for answer in answers if isinstance(answers, list) else []:
            if isinstance(answer, dict):
                visit(answer.get("next"))

    visit(start)
    order += [qid for qid in nodes if qid not in order]
    return {qid: nodes[qid] for qid in order}, start


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """A form's choice field, typed: its choices are set per protocol when the form is built."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def question_initial(qid: str, node: object) -> dict:
    node = node if isinstance(node, dict) else {}
    return {"id": qid, **{k: node.get(k, "") for k in ("text", "text_en", "hint", "hint_en")}}


def answer_initial(answer: object, refs: dict[str, str]) -> dict:
    answer = answer if isinstance(answer, dict) else {}
    outcome = answer.get("outcome")
    outcome = outcome if isinstance(outcome, dict) else {}
    return {
        "label": answer.get("label", ""),
        "label_en": answer.get("label_en", ""),
        "leads_to": refs.get(str(answer.get("next")), "") if "next" in answer else "",
        "priority": outcome.get("priority"),
        "capability": outcome.get("capability") or "",
        "hospital_capability": outcome.get("hospital_capability") or "",
        "instruction": outcome.get("instruction") or "",
    }


def option_label(index: int, form: QuestionForm) -> str:
    """ "→ 2 breathing: 患者呼吸正常吗？" for a question row; a blank row is a new question."""
    qid = str(form["id"].value() or "").strip()
    text = str(form["text"].value() or "").strip()
    if not qid and not text:
        return gettext("→ %(n)s (new question)") % {"n": index + 1}
    short = text if len(text) <= 24 else f"{text[:23]}…"
    return f"→ {index + 1} {qid}: {short}" if qid else f"→ {index + 1}: {short}"
