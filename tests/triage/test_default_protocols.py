"""The protocols a 120 centre starts with (dispatch/triage/data/protocols.json, loaded by migration
0005): every one passes the same validation the admin applies, every path of every protocol ends
in an outcome that says what to send and where, the complaint groups of a 120 centre are all
there, and the key questions come first so telephone CPR never waits behind other questions."""

import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from dispatch.models import TriageProtocol
from dispatch.triage.admin import checked_steps
from dispatch.triage.protocols import evaluate, outcome_paths, validate_protocol
from fleet.models import UnitCapability
from hospitals.models import Capability

DATA = json.loads(
    (Path(settings.BASE_DIR) / "dispatch/triage/data/protocols.json").read_text(encoding="utf-8")
)
PROTOCOLS = {p["code"]: p for p in DATA["protocols"]}
INSTRUCTIONS = {i["code"]: i for i in DATA["instructions"]}
CPR = {code for code, i in INSTRUCTIONS.items() if i["cpr"]}
DEFAULTS = importlib.import_module("dispatch.migrations.0005_default_triage_protocols")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_codes_are_unique():
    assert len(PROTOCOLS) == len(DATA["protocols"]) >= 24
    assert len(INSTRUCTIONS) == len(DATA["instructions"])


@pytest.mark.parametrize("code", PROTOCOLS)
def test_every_protocol_in_the_file_validates(code):
    validate_protocol(PROTOCOLS[code]["questions"], set(INSTRUCTIONS))


@pytest.mark.parametrize("code", INSTRUCTIONS)
def test_every_instruction_in_the_file_is_a_script_in_both_languages(code):
    instruction = INSTRUCTIONS[code]
    assert instruction["title"].strip() and instruction["title_en"].strip()
    assert checked_steps(instruction["steps"], required=True) == instruction["steps"]
    assert checked_steps(instruction["steps_en"], required=True) == instruction["steps_en"]
    assert len(instruction["steps"]) == len(instruction["steps_en"]), "one English step per Chinese step"
    assert isinstance(instruction["cpr"], bool)


def walk(code: str, qid: str, answers: list[int], seen: tuple[str, ...]) -> list[tuple[list[int], dict]]:
    """Every path from question `qid`, checked at each step: no dead end, no loop, no stray link."""
    node = PROTOCOLS[code]["questions"]["questions"][qid]
    assert qid not in seen, f"{code}: {' → '.join(seen)} → {qid} loops"
    assert 1 <= len(node["answers"]) <= 9, f"{code} {qid}: keys 1-9 pick the answers"
    assert node["text"].strip() and node["text_en"].strip(), f"{code} {qid}"
    ends = []
    for index, answer in enumerate(node["answers"]):
        path = [*answers, index]
        assert answer["label"].strip() and answer["label_en"].strip(), f"{code} {path}"
        assert ("next" in answer) != ("outcome" in answer), f"{code} {path}: a next question or an outcome"
        if "next" in answer:
            ends += walk(code, answer["next"], path, (*seen, qid))
        else:
            ends.append((path, answer["outcome"]))
    return ends


def every_path(code: str) -> list[tuple[list[int], dict]]:
    return walk(code, PROTOCOLS[code]["questions"]["start"], [], ())


@pytest.mark.parametrize("code", PROTOCOLS)
def test_every_path_ends_in_an_outcome_that_says_what_to_send(code):
    paths = every_path(code)
    nodes = PROTOCOLS[code]["questions"]["questions"]
    reached = {qid for path, _ in paths for qid in questions_on(code, path)}
    assert reached == set(nodes), f"{code}: questions no path asks: {set(nodes) - reached}"
    for path, outcome in paths:
        where = f"{code} {path}"
        assert outcome["priority"] in (1, 2, 3, 4), where
        assert outcome["capability"] in UnitCapability.values, where
        assert outcome.get("hospital_capability", "") in ("", *Capability.values), where
        assert outcome.get("instruction") in INSTRUCTIONS, f"{where}: each tells the caller something"
        if outcome["instruction"] in CPR:
            assert outcome["priority"] == 1 and outcome["capability"] == "als", f"{where}: CPR is I, ALS"
    # The helper the tests and the admin rely on walks the same paths.
    assert [p for p, _ in outcome_paths(PROTOCOLS[code]["questions"])] == [p for p, _ in paths]


def questions_on(code: str, path: list[int]) -> list[str]:
    nodes = PROTOCOLS[code]["questions"]["questions"]
    qid, asked = PROTOCOLS[code]["questions"]["start"], []
    for index in path:
        asked.append(qid)
        qid = nodes[qid]["answers"][index].get("next", qid)
    return asked


def test_every_instruction_is_read_by_some_outcome():
    used = {o.get("instruction") for code in PROTOCOLS for _, o in every_path(code)}
    assert set(INSTRUCTIONS) - used == set()


@pytest.mark.parametrize("code", PROTOCOLS)
def test_the_engine_reaches_the_same_outcome_on_every_path(code, db):
    """What the console and the crew read (dispatch.triage.protocols.evaluate) agrees with the file."""
    DEFAULTS.load_defaults(apps, None)
    protocol = TriageProtocol.objects.get(code=code)
    for path, outcome in every_path(code):
        step = evaluate(protocol, path)
        assert step.done, f"{code} {path}"
        assert (step.outcome.priority, step.outcome.capability) == (
            outcome["priority"],
            outcome["capability"],
        )
        assert step.outcome.hospital_capability == outcome.get("hospital_capability")
        assert (
            step.outcome.instruction is not None and step.outcome.instruction.code == outcome["instruction"]
        )
        assert [p.answer for p in step.path] == path


# --- What a 120 centre's calls need -------------------------------------------------------------

GROUPS = [
    "cardiac-arrest", "chest-pain", "stroke", "breathing", "choking", "unconscious", "seizure",
    "traffic-trauma", "injury", "fall", "bleeding", "pregnancy", "newborn", "burns", "poisoning",
    "drowning", "electrocution", "allergy", "diabetic", "psychiatric", "heat-exposure", "cold-exposure",
    "fever-infectious", "sick-person",
]  # fmt: skip


def test_the_complaint_groups_of_a_120_centre_are_all_there():
    assert set(GROUPS) <= set(PROTOCOLS)
    for code, protocol in PROTOCOLS.items():
        assert protocol["name"] and protocol["name_en"] and protocol["keywords"], code
        assert 2 <= len(protocol["questions"]["questions"]) <= 8, code


def cpr_paths(code: str) -> list[list[int]]:
    return [path for path, outcome in every_path(code) if outcome.get("instruction") in CPR]


@pytest.mark.parametrize("code", [c for c in PROTOCOLS if cpr_paths(c)])
def test_telephone_cpr_is_never_more_than_two_answers_away(code):
    """Key questions first: a patient not breathing is found before any other question."""
    assert min(len(path) for path in cpr_paths(code)) <= 2, code


def test_a_cardiac_arrest_gets_compressions_after_one_answer():
    assert [0] in cpr_paths("cardiac-arrest") and [0] in cpr_paths("chest-pain")


def outcome_of(code: str, *labels_en: str) -> dict:
    """The outcome a path reaches, each answer named by the start of its English label (which must
    name exactly one of the answers offered at that step)."""
    nodes, qid = PROTOCOLS[code]["questions"]["questions"], PROTOCOLS[code]["questions"]["start"]
    for n, label in enumerate(labels_en):
        offered = nodes[qid]["answers"]
        matching = [a for a in offered if a["label_en"].startswith(label)]
        assert len(matching) == 1, f"{code} {qid}: {label!r} names {len(matching)} of {offered}"
        if "outcome" in matching[0]:
            assert n == len(labels_en) - 1, f"{code} ended before {labels_en[n + 1]!r}"
            return matching[0]["outcome"]
        qid = matching[0]["next"]
    raise AssertionError(f"{code}: {labels_en} asks {qid} next")


NOT_BREATHING = "Unresponsive, not breathing normally"
KEY_OUTCOMES = [
    # (protocol, answers...) → (priority, unit, hospital, instruction)
    (("cardiac-arrest", "No response, not breathing normally (or"), (1, "als", None, "cpr")),
    (
        ("cardiac-arrest", "No response, not breathing normally: a child", "A child"),
        (1, "als", "paediatric", "cpr-child"),
    ),
    (
        ("cardiac-arrest", "No response, not breathing normally: a child", "Under 1"),
        (1, "als", "paediatric", "cpr-infant"),
    ),
    (
        ("cardiac-arrest", "No response, not breathing normally, after"),
        (1, "als", None, "cpr-rescue-breaths"),
    ),
    (("cardiac-arrest", "Obviously dead"), (3, "bls", None, "obvious-death")),
    (("chest-pain", NOT_BREATHING), (1, "als", "chest_pain", "cpr")),
    (("chest-pain", "Awake", "Yes"), (1, "als", "chest_pain", "chest-pain-care")),
    (("chest-pain", "Awake", "No", "Could be the heart"), (2, "als", "chest_pain", "chest-pain-care")),
    (("chest-pain", "Awake", "No", "Sudden tearing pain"), (1, "als", "chest_pain", "chest-pain-rest")),
    (("stroke", "Awake", "Any of these", "Within 4.5 hours"), (2, "als", "stroke", "stroke-care")),
    (("stroke", "Awake", "None, but a sudden, severe headache", "Yes"), (1, "als", "stroke", "stroke-care")),
    (("breathing", "Awake", "No", "An asthma attack", "No better"), (2, "als", None, "asthma-care")),
    (
        ("choking", "Cannot speak", "Conscious", "A baby under 1 year"),
        (1, "als", "paediatric", "choking-infant"),
    ),
    (("choking", "Cannot speak", "Conscious", "Over 1 year"), (1, "als", None, "choking")),
    (("choking", "Cannot speak", "Has become unresponsive (over"), (1, "als", None, "cpr")),
    (("traffic-trauma", "No", "No", "Someone is trapped"), (2, "als", "trauma", "collision-scene")),
    (("injury", "Awake", "No", "Stabbed", "Head, neck"), (1, "als", "trauma", "trauma-care")),
    (("bleeding", "A wound", "Yes"), (1, "als", "trauma", "bleeding-control")),
    (
        ("fall", "Awake", "From standing", "Hit their head", "Takes blood thinners"),
        (3, "bls", "ct", "fall-care"),
    ),
    (("pregnancy", NOT_BREATHING), (1, "als", "maternal", "cpr")),
    (("pregnancy", "None", "The cord can be seen"), (1, "als", "maternal", "cord-prolapse")),
    (("pregnancy", "None", "The head can be seen"), (2, "als", "maternal", "childbirth")),
    (("pregnancy", "None", "The baby has been born", "Not crying"), (1, "als", "neonatal", "cpr-infant")),
    (
        ("pregnancy", "None", "The baby has been born", "Crying", "Heavy"),
        (1, "als", "maternal", "postpartum-bleeding"),
    ),
    (("seizure", "Still fitting", "Over 5 minutes"), (1, "als", None, "seizure-safety")),
    (
        ("seizure", "It has stopped", "Has woken up", "A child under 6"),
        (3, "bls", "paediatric", "seizure-safety"),
    ),
    (("burns", "Awake", "No", "Flames", "Larger than one arm"), (2, "als", "burns", "burns-cooling")),
    (("burns", "Awake", "No", "Chemicals", "In the eyes"), (2, "als", "burns", "chemical-burn")),
    (("poisoning", "Awake", "Gas", "Headache"), (2, "als", None, "gas-safety")),
    (("poisoning", "Awake", "Medicines", "A child"), (2, "als", "paediatric", "poisoning-care")),
    (("drowning", "Still in the water"), (1, "als", None, "water-rescue")),
    (
        ("drowning", "Out of the water", "Unresponsive, not breathing normally (or"),
        (1, "als", None, "cpr-rescue-breaths"),
    ),
    (("electrocution", "Not off yet"), (1, "als", "burns", "electrical-safety")),
    (("allergy", "Yes"), (1, "als", None, "allergy-care")),
    (("diabetic", "Awake but confused", "Yes"), (2, "als", None, "diabetic-care")),
    (("diabetic", "Awake but confused", "No"), (1, "als", None, "recovery-position")),
    (("psychiatric", "A weapon or violence"), (2, "als", None, "scene-safety")),
    (
        ("psychiatric", "Someone is attempting", "Has hanged themselves"),
        (1, "als", None, "cpr-rescue-breaths"),
    ),
    (("heat-exposure", "Awake", "Yes"), (1, "als", None, "heat-illness")),
    (("cold-exposure", "Awake", "Yes"), (2, "als", None, "cold-exposure")),
    (
        ("newborn", "Breathing normally", "Yes, an inter-hospital", "Yes"),
        (2, "neonatal", "neonatal", "transfer-ready"),
    ),
]


@pytest.mark.parametrize("path, expected", KEY_OUTCOMES, ids=[" / ".join(p) for p, _ in KEY_OUTCOMES])
def test_key_outcomes(path, expected):
    outcome = outcome_of(*path)
    hospital = outcome.get("hospital_capability")
    assert (outcome["priority"], outcome["capability"], hospital, outcome["instruction"]) == expected


def steps(code: str) -> str:
    return " ".join(INSTRUCTIONS[code]["steps"])


def test_the_instructions_say_what_the_caller_must_do():
    assert "300毫克阿司匹林" in steps("chest-pain-care") and "不要吃" in steps(
        "chest-pain-care"
    )  # and when not
    assert "阿司匹林" in steps("chest-pain-rest") and "不要吃阿司匹林" in steps("chest-pain-rest")
    assert "记下最后一次看到患者正常的时间" in steps("stroke-care")
    assert "20分钟" in steps("burns-cooling") and "20分钟" in steps("chemical-burn")
    assert "止血带" in steps("bleeding-control")
    assert "拍背5次" in steps("choking") and "向内、向上冲击" in steps("choking")
    assert "拍背5次" in steps("choking-infant") and "不要做腹部冲击" in steps("choking-infant")
    assert "肾上腺素自动注射笔" in steps("allergy-care")
    assert "能正常吞咽" in steps("diabetic-care") and "不要往嘴里喂" in steps("diabetic-care")
    assert "110" in steps("psychiatric-safety") and "110" in steps("scene-safety")
    assert "不要控水" in steps("drowning-care") and "不要贸然下水" in steps("water-rescue")
    assert "不要直接用手碰" in steps("electrical-safety")
    assert "侧躺" in steps("seizure-safety") and "记下抽搐开始的时间" in steps("seizure-safety")
    assert "擦干" in steps("childbirth") and "保暖" in steps("newborn-care")
    assert "吹气5次" in steps("cpr-rescue-breaths") and "每分钟100-120次" in steps("cpr-child")


# --- What the console's own tests press ---------------------------------------------------------

# The complaint picker's first nine (keys 1-9), and the answers tests/console and tests/triage press
# (test_console_shift_browser, test_cpr_coaching_dock_browser, test_console_flow_browser,
# test_triage_keys_browser): each must still end in an outcome there, with a unit the demo city has.
FIRST_NINE = ["cardiac-arrest", "chest-pain", "stroke", "breathing", "choking", "unconscious",
              "traffic-trauma", "fall", "bleeding"]  # fmt: skip
PRESSED = {
    "cardiac-arrest": [[0], [2], [3]],
    "chest-pain": [[0], [2, 1, 0], [2, 1, 1]],
    "stroke": [[2, 0, 0], [2, 1]],
    "breathing": [[2, 1, 1], [2, 0]],
    "choking": [[1]],
    "unconscious": [[2, 1], [2, 0]],
    "traffic-trauma": [[1, 1, 0], [0]],
    "fall": [[1, 1, 2], [1, 0]],
    "bleeding": [[0, 1]],
    "allergy": [[1, 1, 0]],
}
TELEPHONE_CPR = {("cardiac-arrest", 0), ("chest-pain", 0)}


def test_the_console_tests_keys_still_end_where_they_did():
    ordered = sorted(PROTOCOLS.values(), key=lambda p: (p["order"], p["code"]))
    assert [p["code"] for p in ordered[:9]] == FIRST_NINE
    for code, paths in PRESSED.items():
        ends = {tuple(path): outcome for path, outcome in every_path(code)}
        for path in paths:
            assert tuple(path) in ends, f"{code} {path} must end in an outcome"
            assert ends[tuple(path)]["capability"] in ("als", "bls"), f"{code} {path}"
            if len(path) == 1 and (code, path[0]) in TELEPHONE_CPR:
                assert ends[tuple(path)]["instruction"] == "cpr"
    # The shift abandons traffic collision after one answer: a question must still be showing.
    assert (1,) not in {tuple(p) for p, _ in every_path("traffic-trauma")}
