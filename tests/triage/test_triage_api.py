"""The triage API: protocols for the console, complaint search, evaluation, and who may use them."""

import importlib
import json

import pytest
from django.apps import apps
from django.test import Client

from dispatch.models import TriageProtocol

DEFAULTS = importlib.import_module("dispatch.migrations.0005_default_triage_protocols")


@pytest.fixture
def dispatcher(client, world) -> Client:
    """Alice at the console, with the shipped protocols (reloaded: transactional tests flush them)."""
    DEFAULTS.load_defaults(apps, None)
    client.force_login(world.alice)
    return client


def evaluate(client, body) -> tuple[int, dict]:
    response = client.post("/api/triage/evaluate", data=json.dumps(body), content_type="application/json")
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, response.json()


def test_protocols_come_whole_for_the_console(dispatcher, django_assert_num_queries):
    with django_assert_num_queries(4):  # session, user, instructions, protocols
        response = dispatcher.get("/api/triage/protocols")
    assert response.status_code == 200
    by_code = {p["code"]: p for p in response.json()}
    assert {"cardiac-arrest", "chest-pain", "stroke", "fever-infectious", "newborn"} <= set(by_code)
    arrest = by_code["cardiac-arrest"]
    assert arrest["questions"][arrest["start"]]["id"] == arrest["start"]
    assert arrest["instructions"]["cpr"]["cpr"] is True
    assert arrest["instructions"]["cpr"]["steps_en"]
    assert list(by_code) == [p.code for p in TriageProtocol.objects.filter(active=True)]  # in order


def test_protocols_carry_their_pinyin_for_the_complaint_filter(dispatcher):
    """The console matches pinyin itself (no server round trip before Enter picks a complaint)."""
    by_code = {p["code"]: p for p in dispatcher.get("/api/triage/protocols").json()}
    assert by_code["chest-pain"]["name_pinyin"] == ["xiongtong", "xt"]
    assert {"xiongkoutong", "xkt", "xinjiaotong"} <= set(by_code["chest-pain"]["pinyin"])
    assert by_code["drowning"]["name_pinyin"] == ["nishui", "ns"]
    assert "ns" in by_code["injury"]["pinyin"] and "ns" not in by_code["injury"]["name_pinyin"]  # 扭伤


def test_inactive_and_broken_protocols_are_left_out(dispatcher):
    TriageProtocol.objects.filter(code="burns").update(active=False)
    TriageProtocol.objects.filter(code="allergy").update(questions={"start": "gone", "questions": {}})
    codes = [p["code"] for p in dispatcher.get("/api/triage/protocols").json()]
    assert "burns" not in codes and "allergy" not in codes and "chest-pain" in codes


@pytest.mark.parametrize("typed", ["胸痛", "xiongtong", "chest"])
def test_suggest_finds_chest_pain(dispatcher, typed):
    response = dispatcher.get("/api/triage/suggest", {"q": typed})
    assert response.status_code == 200
    assert response.json()[0] == {"code": "chest-pain", "name": "胸痛", "name_en": "Chest pain"}


def test_suggest_refuses_an_overlong_query(dispatcher):
    response = dispatcher.get("/api/triage/suggest", {"q": "胸" * 101})
    assert response.status_code == 422 and "q" in response.json()["error"]


def test_evaluate_asks_the_next_question(dispatcher):
    status, body = evaluate(dispatcher, {"protocol": "chest-pain", "answers": [2]})
    assert status == 200
    assert body["done"] is False and body["outcome"] is None
    assert body["question"]["id"] != "responsive" and body["question"]["text"]
    assert body["path"][0]["question"] == "responsive"
    assert body["path"][0]["label_en"] == "Awake, breathing normally"


def test_evaluate_gives_the_outcome_with_the_script(dispatcher):
    status, body = evaluate(dispatcher, {"protocol": "cardiac-arrest", "answers": [0]})
    assert status == 200 and body["done"] is True and body["question"] is None
    outcome = body["outcome"]
    assert (outcome["priority"], outcome["capability"]) == (1, "als")
    assert outcome["instruction"]["cpr"] is True
    assert any("5-6厘米" in step for step in outcome["instruction"]["steps"])


def test_evaluate_outcome_names_the_hospital_centre(dispatcher):
    status, body = evaluate(dispatcher, {"protocol": "chest-pain", "answers": [2, 1, 0]})
    assert status == 200 and body["outcome"]["hospital_capability"] == "chest_pain"


def test_unknown_or_inactive_protocol_is_json_404(dispatcher):
    TriageProtocol.objects.filter(code="burns").update(active=False)
    for code in ("no-such-thing", "burns"):
        status, body = evaluate(dispatcher, {"protocol": code, "answers": []})
        assert status == 404 and body["code"] == "unknown_protocol" and code in body["error"]


@pytest.mark.parametrize(
    "answers, status, words",
    [
        ([6], 422, "has answers 0 to 5"),
        ([0, 0, 0, 0], 422, "answers too many"),
        ([-1], 422, "answers.0"),
        ([9], 422, "answers.0"),
        (["yes"], 422, "answers.0"),
        ("0,1", 422, "answers"),
    ],
)
def test_bad_answers_get_a_message(dispatcher, answers, status, words):
    got, body = evaluate(dispatcher, {"protocol": "cardiac-arrest", "answers": answers})
    assert got == status and words in body["error"]


def test_a_protocol_broken_behind_the_admin_is_a_json_error(dispatcher):
    TriageProtocol.objects.filter(code="burns").update(questions={"start": "gone", "questions": {}})
    status, body = evaluate(dispatcher, {"protocol": "burns", "answers": []})
    assert status == 500 and body["code"] == "broken_protocol" and "admin" in body["error"]


@pytest.mark.parametrize("user", ["carol", "dave"])
def test_crews_and_hospital_staff_may_not_triage(client, world, user):
    client.force_login(getattr(world, user))
    assert client.get("/api/triage/protocols").status_code == 403
    assert client.get("/api/triage/suggest", {"q": "胸痛"}).status_code == 403
    status, body = evaluate(client, {"protocol": "chest-pain", "answers": []})
    assert status == 403 and body["error"]


@pytest.mark.parametrize("user", ["bob", "erin"])
def test_supervisors_and_admins_may_triage(client, world, user):
    client.force_login(getattr(world, user))
    assert client.get("/api/triage/protocols").status_code == 200


def test_signed_out_gets_401(client, world):
    assert client.get("/api/triage/protocols").status_code == 401
