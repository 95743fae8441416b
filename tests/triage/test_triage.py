"""Triage protocols: validation refuses broken trees, evaluation walks to the right outcome,
complaint search finds the protocol, and the defaults shipped in the migration are sound."""

import copy
import importlib
import json

import pytest
from django.apps import apps
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import translation

from dispatch.models import CallerInstruction, TriageProtocol
from dispatch.triage.admin import CallerInstructionForm, TriageProtocolForm
from dispatch.triage.protocols import (
    BrokenProtocolError,
    TriageError,
    TriageStep,
    evaluate,
    suggest_protocols,
    validate_protocol,
)

DEFAULTS = importlib.import_module("dispatch.migrations.0005_default_triage_protocols")

TREE = {
    "start": "breathing",
    "questions": {
        "breathing": {
            "text": "呼吸正常吗？",
            "text_en": "Breathing normally?",
            "answers": [
                {
                    "label": "否",
                    "label_en": "No",
                    "outcome": {"priority": 1, "capability": "als", "instruction": "cpr"},
                },
                {"label": "是", "label_en": "Yes", "next": "pain"},
            ],
        },
        "pain": {
            "text": "胸痛吗？",
            "answers": [
                {
                    "label": "是",
                    "outcome": {"priority": 2, "capability": "als", "hospital_capability": "chest_pain"},
                },
                {"label": "否", "outcome": {"priority": 4, "capability": "bls", "instruction": None}},
            ],
        },
    },
}
CODES = {"cpr"}


def tree() -> dict:
    return copy.deepcopy(TREE)


@pytest.fixture(autouse=True)
def english():
    """Problems are written in the admin's language; these tests read the English."""
    with translation.override("en"):
        yield


@pytest.fixture
def defaults(db) -> None:
    """The shipped protocols; loaded again because transactional tests flush migration data."""
    DEFAULTS.load_defaults(apps, None)


def test_a_sound_tree_validates():
    validate_protocol(tree(), CODES)


def outcome(t: dict) -> dict:
    return t["questions"]["breathing"]["answers"][0]["outcome"]


def answer(t: dict) -> dict:
    return t["questions"]["breathing"]["answers"][1]


def cycle(t: dict) -> None:
    t["questions"]["pain"]["answers"][1] = {"label": "否", "next": "breathing"}


def unreached(t: dict) -> None:
    t["questions"]["orphan"] = copy.deepcopy(t["questions"]["pain"])


BROKEN = [
    ("not an object", lambda t: t.clear() or t.update(x=1), "Unknown top-level keys: x"),
    ("unknown start", lambda t: t.update(start="nope"), "start 'nope' is not a question"),
    ("no questions", lambda t: t.update(questions={}), "non-empty object"),
    ("dangling next", lambda t: answer(t).update(next="ghost"), "leads to 'ghost', which is not a question"),
    ("cycle", cycle, "cycle breathing → pain → breathing"),
    ("self loop", lambda t: answer(t).update(next="breathing"), "cycle breathing → breathing"),
    (
        "neither next nor outcome",
        lambda t: answer(t).pop("next"),
        "has neither a next question nor an outcome",
    ),
    (
        "both next and outcome",
        lambda t: answer(t).update(outcome=outcome(t)),
        "has both a next question and an",
    ),
    ("priority 5", lambda t: outcome(t).update(priority=5), "priority must be a whole number 1 to 4, not 5"),
    ("priority as text", lambda t: outcome(t).update(priority="1"), "not '1'"),
    ("priority missing", lambda t: outcome(t).pop("priority"), "answer 1 outcome: choose a priority"),
    ("capability missing", lambda t: outcome(t).pop("capability"), "choose the unit capability"),
    ("same label twice", lambda t: answer(t).update(label="否"), "has two answers labelled '否'"),
    ("bad capability", lambda t: outcome(t).update(capability="helicopter"), "capability 'helicopter'"),
    ("bad hospital", lambda t: outcome(t).update(hospital_capability="zoo"), "hospital_capability 'zoo'"),
    ("bad instruction", lambda t: outcome(t).update(instruction="nope"), "instruction 'nope' does not exist"),
    ("typo key", lambda t: outcome(t).update(priorty=1), "unknown keys priorty"),
    ("empty text", lambda t: t["questions"]["pain"].update(text="  "), "question 'pain' has an empty “text”"),
    ("empty label", lambda t: answer(t).update(label=""), "answer 2 has an empty “label”"),
    ("english not text", lambda t: t["questions"]["pain"].update(text_en=["x"]), "“text_en” must be text"),
    ("no answers", lambda t: t["questions"]["pain"].update(answers=[]), "question 'pain' has no answers"),
    ("ten answers", lambda t: t["questions"]["pain"]["answers"].extend([outcome(t)] * 8), "at most 9"),
    ("unreached question", unreached, "No answer leads to orphan"),
]


@pytest.mark.parametrize("name, breaks, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_validation_names_what_is_broken(name, breaks, message):
    t = tree()
    breaks(t)
    with pytest.raises(ValidationError) as caught:
        validate_protocol(t, CODES)
    assert any(message in m for m in caught.value.messages), caught.value.messages


def test_validation_reports_every_problem_at_once():
    t = tree()
    outcome(t).update(priority=0, capability="car")
    t["questions"]["pain"]["text"] = ""
    with pytest.raises(ValidationError) as caught:
        validate_protocol(t, CODES)
    assert len(caught.value.messages) == 3


def test_validation_survives_junk_where_ids_belong():
    t = tree()
    t["start"] = ["breathing"]
    answer(t)["next"] = {"id": "pain"}
    with pytest.raises(ValidationError, match="not a question"):
        validate_protocol(t, CODES)


# --- Evaluation over the default protocols ------------------------------------------------------


def walk(code: str, *labels_en: str) -> TriageStep:
    """Answer a default protocol by the start of the English labels, checking each step asks what
    we answer (the start must name exactly one of the answers offered)."""
    protocol = TriageProtocol.objects.get(code=code)
    answers: list[int] = []
    for label in labels_en:
        step = evaluate(protocol, answers)
        assert not step.done, f"{code} ended before {label!r}"
        offered = [a.get("label_en", "") for a in step.question["answers"]]
        matching = [i for i, text in enumerate(offered) if text.startswith(label)]
        assert len(matching) == 1, f"{label!r} names {len(matching)} of {offered}"
        answers.append(matching[0])
    return evaluate(protocol, answers)


def test_first_step_is_the_start_question(defaults):
    step = evaluate(TriageProtocol.objects.get(code="cardiac-arrest"), [])
    assert step.question_id == "arrest" and not step.done and step.path == []


def test_cardiac_arrest_is_priority_one_als_with_telephone_cpr(defaults):
    step = walk("cardiac-arrest", "No response, not breathing normally (or not sure)")
    assert step.done
    assert (step.outcome.priority, step.outcome.capability) == (1, "als")
    assert step.outcome.instruction.code == "cpr" and step.outcome.instruction.cpr
    assert "每分钟100-120次" in " ".join(step.outcome.instruction.steps)
    # One question: every second before compressions start counts.
    assert [p.question for p in step.path] == ["arrest"]


def test_an_infant_gets_infant_cpr_and_a_child_child_cpr(defaults):
    child = "No response, not breathing normally: a child or baby"
    step = walk("cardiac-arrest", child, "Under 1 year (a baby, including a newborn)")
    assert step.outcome.priority == 1 and step.outcome.instruction.code == "cpr-infant"
    assert step.outcome.instruction.cpr and step.outcome.hospital_capability == "paediatric"
    step = walk("cardiac-arrest", child, "A child over 1 year")
    assert step.outcome.instruction.code == "cpr-child" and step.outcome.instruction.cpr


def test_chest_pain_goes_to_a_chest_pain_centre(defaults):
    step = walk("chest-pain", "Awake, breathing normally", "No", "Could be the heart")
    assert (step.outcome.priority, step.outcome.capability) == (2, "als")
    assert step.outcome.hospital_capability == "chest_pain"
    assert step.outcome.instruction.code == "chest-pain-care"


def test_stroke_signs_go_to_a_stroke_centre_with_nothing_by_mouth(defaults):
    step = walk(
        "stroke", "Awake or responds", "Any of these", "Unknown (e.g. found on waking, or found alone)"
    )
    assert step.outcome.hospital_capability == "stroke"
    assert any("不要给患者吃" in s for s in step.outcome.instruction.steps)


def test_fever_with_exposure_needs_a_negative_pressure_unit(defaults):
    step = walk("fever-infectious", "Yes, or not sure", "No")
    assert step.outcome.capability == "negative_pressure"
    assert step.outcome.instruction.code == "infection-precautions"


def test_newborn_transfer_needs_a_neonatal_unit_and_centre(defaults):
    step = walk("newborn", "Breathing normally", "Yes, an inter-hospital transfer", "Yes")
    assert (step.outcome.capability, step.outcome.hospital_capability) == ("neonatal", "neonatal")
    assert step.outcome.instruction.code == "transfer-ready"  # the caller is the referring ward


@pytest.mark.parametrize("answers", [[9], [-1], [6]], ids=["too big", "negative", "just past"])
def test_answer_index_out_of_range_is_refused(defaults, answers):
    protocol = TriageProtocol.objects.get(code="cardiac-arrest")
    with pytest.raises(TriageError, match="is not one of them"):
        evaluate(protocol, answers)


def test_answers_past_the_outcome_are_refused(defaults):
    protocol = TriageProtocol.objects.get(code="cardiac-arrest")
    with pytest.raises(TriageError, match="1 answers too many"):
        evaluate(protocol, [0, 0])


def test_a_protocol_broken_behind_the_admin_raises_a_clear_error(db):
    t = tree()
    answer(t)["next"] = "ghost"
    protocol = TriageProtocol.objects.create(code="broken", name="坏", questions=t)
    with pytest.raises(BrokenProtocolError, match="'broken' is broken"):
        evaluate(protocol, [1])


def test_a_missing_instruction_does_not_hold_up_the_priority(db):
    t = tree()
    outcome(t)["instruction"] = "withdrawn"
    protocol = TriageProtocol.objects.create(code="t", name="测试", questions=t)
    step = evaluate(protocol, [0])
    assert step.outcome.priority == 1 and step.outcome.instruction is None


# --- Finding the protocol -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["胸痛", "xiongtong", "chest", "Chest Pain", "病人胸口痛三小时", "胸通", "xt"]
)
def test_suggest_finds_chest_pain(defaults, typed):
    assert suggest_protocols(typed)[0].code == "chest-pain"


@pytest.mark.parametrize(
    "typed, code",
    [
        ("车祸", "traffic-trauma"),
        ("chehuo", "traffic-trauma"),
        ("发烧", "fever-infectious"),
        ("抽风", "seizure"),
    ],
)
def test_suggest_finds_other_complaints(defaults, typed, code):
    assert suggest_protocols(typed)[0].code == code


def test_suggest_leaves_out_inactive_protocols_and_empty_queries(defaults):
    TriageProtocol.objects.filter(code="chest-pain").update(active=False)
    assert "chest-pain" not in [p.code for p in suggest_protocols("胸痛")]
    assert suggest_protocols("  ") == []


# --- The shipped defaults -----------------------------------------------------------------------


def test_every_default_protocol_validates_once_loaded(defaults):
    codes = set(CallerInstruction.objects.values_list("code", flat=True))
    protocols = list(TriageProtocol.objects.all())
    assert len(protocols) >= 24
    for protocol in protocols:
        validate_protocol(protocol.questions, codes)
        assert protocol.name_en, protocol.code


def test_default_texts_are_in_chinese_and_english(defaults):
    for protocol in TriageProtocol.objects.all():
        for node in protocol.questions["questions"].values():
            assert node["text_en"] and all(a["label_en"] for a in node["answers"]), protocol.code
    for instruction in CallerInstruction.objects.all():
        assert instruction.title_en and len(instruction.steps) == len(instruction.steps_en) > 0


def test_loading_the_defaults_again_changes_nothing(defaults):
    before = (TriageProtocol.objects.count(), CallerInstruction.objects.count())
    DEFAULTS.load_defaults(apps, None)
    assert (TriageProtocol.objects.count(), CallerInstruction.objects.count()) == before


# --- The admin ----------------------------------------------------------------------------------


def form_data(questions: dict) -> dict:
    """The admin form with the questions given as raw JSON (the structured editor is in
    test_protocol_editor.py)."""
    fields = {"code": "t", "name": "测试", "name_en": "Test", "keywords": "", "order": 5, "active": "on"}
    return {**fields, "edit_with": "json", "questions": json.dumps(questions, ensure_ascii=False)}


@pytest.fixture
def cpr(db) -> CallerInstruction:
    """The one instruction TREE names (present after migrations unless a flush removed it)."""
    return CallerInstruction.objects.get_or_create(
        code="cpr", defaults={"title": "心肺复苏", "steps": ["按压"]}
    )[0]


def test_admin_form_refuses_a_broken_protocol(cpr):
    t = tree()
    answer(t)["next"] = "ghost"
    form = TriageProtocolForm(data=form_data(t))
    assert not form.is_valid()
    assert "which is not a question" in " ".join(form.errors["questions"])
    assert not TriageProtocol.objects.filter(code="t").exists()


def test_admin_form_saves_a_sound_protocol(cpr):
    form = TriageProtocolForm(data=form_data(tree()))
    assert form.is_valid(), form.errors
    assert form.save().questions == TREE


def test_admin_page_refuses_a_broken_protocol(client, cpr, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser("root", password="pw-root-120", role="admin")
    )
    t = tree()
    outcome(t)["priority"] = 7
    response = client.post("/admin/dispatch/triageprotocol/add/", form_data(t), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200  # the form again, with the error
    assert "priority must be a whole number 1 to 4, not 7" in response.content.decode()
    assert not TriageProtocol.objects.filter(code="t").exists()
    # In Chinese by default, as the rest of the admin.
    response = client.post("/admin/dispatch/triageprotocol/add/", form_data(t))
    assert "优先级必须是1到4的整数，不能是 7" in response.content.decode()


def test_admin_keeps_instructions_that_protocols_read_out(defaults, django_user_model):
    request = RequestFactory().get("/")
    request.user = django_user_model.objects.create_superuser("root", password="pw-root-120", role="admin")
    model_admin = site._registry[CallerInstruction]
    assert not model_admin.has_delete_permission(request, CallerInstruction.objects.get(code="cpr"))
    spare = CallerInstruction.objects.create(code="spare", title="备用", steps=["x"])
    assert model_admin.has_delete_permission(request, spare)


def test_admin_change_page_outlines_the_tree(client, defaults, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser("root", password="pw-root-120", role="admin")
    )
    protocol = TriageProtocol.objects.get(code="cardiac-arrest")
    page = client.get(f"/admin/dispatch/triageprotocol/{protocol.pk}/change/").content.decode()
    assert "在正常呼吸吗？" in page and "⇒ <b>I</b> als" in page
    assert "&quot;start&quot;: &quot;arrest&quot;" in page  # pretty JSON, Chinese unescaped
    assert "没有反应" in page


@pytest.mark.parametrize("steps", ['"one sentence"', '["ok", ""]', "[]", "[1, 2]"])
def test_admin_refuses_instruction_steps_that_are_not_sentences(db, steps):
    form = CallerInstructionForm(data={"code": "x", "title": "测试", "steps": steps, "steps_en": "[]"})
    assert not form.is_valid() and "steps" in form.errors


def test_admin_refuses_renaming_an_instruction_protocols_use(defaults):
    cpr = CallerInstruction.objects.get(code="cpr")
    data = {"code": "cpr-adult", "title": cpr.title, "steps": json.dumps(cpr.steps), "steps_en": "[]"}
    for language, words in [("en", "Protocols still use code cpr"), ("zh-hans", "仍有分级规程使用代码 cpr")]:
        with translation.override(language):
            form = CallerInstructionForm(data=data, instance=cpr)
            assert not form.is_valid() and words in form.errors["code"][0]
