"""The admin's protocol editor: a medical director edits questions and answers as rows, each answer
leading to a question or to an outcome chosen from the known values. The page is posted back as
a browser would send it (tests/support/html_form.py), with only the rows a test changes changed.
Saving runs the same validation as the raw JSON, refuses an invalid protocol listing every
problem and saving nothing, and a saved protocol is what the console's next intake gets."""

import importlib
import json
import re
from html import unescape

import pytest
from django.apps import apps
from django.test import Client

from dispatch.models import CallerInstruction, TriageProtocol
from tests.support.html_form import form_fields

DEFAULTS = importlib.import_module("dispatch.migrations.0005_default_triage_protocols")
FORM = "triageprotocol_form"


@pytest.fixture
def director(db, django_user_model) -> Client:
    """A medical director signed in to the admin, with the shipped protocols."""
    DEFAULTS.load_defaults(apps, None)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(
        django_user_model.objects.create_superuser("director", password="pw-dir-120", role="admin")
    )
    return client


def change_url(code: str) -> str:
    return f"/admin/dispatch/triageprotocol/{TriageProtocol.objects.get(code=code).pk}/change/"


def page(client: Client, url: str) -> tuple[str, dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    return html, form_fields(html, FORM)


def save(client: Client, url: str, data: dict[str, str]):
    return client.post(url, {**data, "_save": "Save"})


def problems(response) -> list[str]:
    """The problems listed above the form."""
    html = response.content.decode()
    block = re.search(r'<ul class="errorlist nonfield">(.*?)</ul>', html, re.S)
    return [unescape(m) for m in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)] if block else []


def row(data: dict[str, str], question_id: str) -> int:
    """The editor row of a question, by its id."""
    return next(
        int(k.split("-")[1]) for k, v in data.items() if re.fullmatch(r"q-\d+-id", k) and v == question_id
    )


def answer(q: int, a: int, field: str) -> str:
    return f"q-{q}-a-{a}-{field}"


# --- What the editor shows ----------------------------------------------------------------------


def test_the_editor_shows_each_question_and_answer_as_rows_of_choices(director):
    html, data = page(director, change_url("chest-pain"))
    shock, cardiac = row(data, "shock"), row(data, "cardiac")
    # In the order the dispatcher asks them (the database keeps the keys in an order of its own).
    assert (row(data, "responsive"), shock, cardiac) == (0, 1, 2)
    assert data[f"q-{shock}-text"].startswith("患者有以下任一情况吗")
    assert data[f"q-{shock}-text_en"].startswith("Does the patient have any of these")
    # "Yes" ends in an outcome; "No" leads on to the cardiac question, by its row.
    assert (data[answer(shock, 0, "label")], data[answer(shock, 0, "leads_to")]) == ("有", "")
    assert (data[answer(shock, 0, "priority")], data[answer(shock, 0, "capability")]) == ("1", "als")
    assert data[answer(shock, 0, "hospital_capability")] == "chest_pain"
    assert data[answer(shock, 0, "instruction")] == "chest-pain-care"
    assert data[answer(shock, 1, "leads_to")] == f"#{cardiac}"
    # Every choice is offered by name, in the page's words: no code to remember.
    assert "I Critical (危重)" in html and "Chest pain centre" in html and "Advanced life support" in html
    assert "胸痛时的处置 (chest-pain-care)" in html
    assert f"→ {cardiac + 1} cardiac: 胸痛是哪种情况？" in html
    # The raw JSON is still there, folded away, and the editor is what is saved.
    assert data["edit_with"] == "editor" and json.loads(data["questions"])["start"] == "responsive"


@pytest.mark.parametrize("code", ["cardiac-arrest", "chest-pain", "pregnancy", "electrocution", "newborn"])
def test_saving_the_rows_unchanged_keeps_the_protocol_exactly(director, code):
    before = TriageProtocol.objects.get(code=code).questions
    _, data = page(director, change_url(code))
    assert save(director, change_url(code), data).status_code == 302
    assert TriageProtocol.objects.get(code=code).questions == before


def test_every_shipped_protocol_goes_through_the_editor_unchanged(director):
    for protocol in TriageProtocol.objects.all():
        url = change_url(protocol.code)
        _, data = page(director, url)
        response = save(director, url, data)
        assert response.status_code == 302, (protocol.code, problems(response))
        assert TriageProtocol.objects.get(pk=protocol.pk).questions == protocol.questions, protocol.code


# --- Refusing what would strand a dispatcher ---------------------------------------------------


def test_an_invalid_protocol_is_refused_with_every_problem_and_nothing_saved(director):
    url = change_url("chest-pain")
    before = TriageProtocol.objects.get(code="chest-pain").questions
    _, data = page(director, url)
    shock, cardiac = row(data, "shock"), row(data, "cardiac")
    data[answer(shock, 0, "priority")] = ""  # an outcome without a priority
    data[answer(cardiac, 1, "capability")] = ""  # ... or a unit
    data[f"q-{cardiac}-DELETE"] = "on"  # a question others lead to, deleted
    data[answer(shock, 0, "label")] = "没有"  # the same words as the other answer
    response = save(director, url, data)
    assert response.status_code == 200
    listed = problems(response)
    assert "question 'shock' answer 1 outcome: choose a priority, I to IV (1 to 4)." in listed
    assert "question 'shock' answer 2 leads to 'cardiac', which is not a question." in listed
    assert "question 'shock' has two answers labelled '没有'." in listed
    assert len(listed) == 3, listed  # the deleted question's own problems went with it
    assert TriageProtocol.objects.get(code="chest-pain").questions == before


def test_an_answer_cannot_both_lead_on_and_end(director):
    """Without the page's script (which greys the outcome out), both can be sent: refused."""
    url = change_url("chest-pain")
    _, data = page(director, url)
    shock, cardiac = row(data, "shock"), row(data, "cardiac")
    data[answer(shock, 0, "leads_to")] = f"#{cardiac}"
    assert "has both a next question and an outcome" in " ".join(problems(save(director, url, data)))


def test_a_loop_and_a_bad_question_id_are_refused(director):
    url = change_url("chest-pain")
    _, data = page(director, url)
    responsive, cardiac = row(data, "responsive"), row(data, "cardiac")
    data[answer(cardiac, 0, "leads_to")] = f"#{responsive}"
    for key in ("priority", "capability", "hospital_capability", "instruction"):
        data.pop(answer(cardiac, 0, key))  # as the page's script sends it: greyed out, not sent
    data[f"q-{cardiac}-id"] = "cardiac pain"
    listed = problems(save(director, url, data))
    assert f"Question row {cardiac + 1}, Question id: Use letters, digits, - and _ only." in listed
    assert any("cycle responsive → shock → cardiac pain → responsive" in p for p in listed), listed


def test_two_questions_with_one_id_are_refused(director):
    url = change_url("stroke")
    _, data = page(director, url)
    data[f"q-{row(data, 'headache')}-id"] = "onset"
    assert "Two questions have the id 'onset'; give each its own." in problems(save(director, url, data))


def test_the_problems_are_in_chinese_for_a_chinese_admin(director):
    director.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    url = change_url("chest-pain")
    _, data = page(director, url)
    data[answer(row(data, "shock"), 0, "capability")] = ""
    listed = problems(save(director, url, data))
    assert listed == ["问题 'shock'的第1个答案的结果：请选择所需的车辆能力。"]


def test_tampered_choices_are_refused_not_saved(director):
    url = change_url("chest-pain")
    before = TriageProtocol.objects.get(code="chest-pain").questions
    _, data = page(director, url)
    shock = row(data, "shock")
    data[answer(shock, 0, "capability")] = "helicopter"
    data[answer(shock, 1, "leads_to")] = "#99"
    data[answer(shock, 0, "instruction")] = "<script>"
    listed = " ".join(problems(save(director, url, data)))
    assert listed.count("Select a valid choice") == 3
    assert TriageProtocol.objects.get(code="chest-pain").questions == before


def test_a_post_without_the_editor_rows_saves_nothing(director):
    url = change_url("chest-pain")
    before = TriageProtocol.objects.get(code="chest-pain").questions
    _, data = page(director, url)
    rows_gone = {k: v for k, v in data.items() if not k.startswith(("q-", "editor-"))}
    response = save(director, url, rows_gone)
    assert response.status_code == 200 and problems(response)
    assert TriageProtocol.objects.get(code="chest-pain").questions == before


# --- Changing a protocol ------------------------------------------------------------------------


def test_a_new_question_is_added_linked_and_live_for_the_next_intake(director, world):
    """Chest pain gets a question about cocaine behind "young, no history": added in a blank row
    and linked in the same save; the console's protocol list and evaluation have it at once."""
    url = change_url("chest-pain")
    _, data = page(director, url)
    cardiac = row(data, "cardiac")
    new = int(data["q-TOTAL_FORMS"]) - 2  # the first blank question row
    data.update(
        {
            f"q-{new}-id": "drugs",
            f"q-{new}-text": "患者近期用过可卡因、冰毒等毒品吗？",
            f"q-{new}-text_en": "Has the patient recently taken cocaine, crystal meth or similar drugs?",
            answer(new, 0, "label"): "用过",
            answer(new, 0, "label_en"): "Yes",
            answer(new, 0, "priority"): "2",
            answer(new, 0, "capability"): "als",
            answer(new, 0, "hospital_capability"): "chest_pain",
            answer(new, 0, "instruction"): "chest-pain-care",
            answer(new, 1, "label"): "没有",
            answer(new, 1, "label_en"): "No",
            answer(new, 1, "priority"): "3",
            answer(new, 1, "capability"): "bls",
            answer(new, 1, "instruction"): "wait-for-ambulance",
            answer(cardiac, 1, "leads_to"): f"#{new}",
        }
    )
    for key in ("priority", "capability", "hospital_capability", "instruction"):
        data.pop(answer(cardiac, 1, key))
    response = save(director, url, data)
    assert response.status_code == 302, problems(response)

    tree = TriageProtocol.objects.get(code="chest-pain").questions
    assert tree["questions"]["cardiac"]["answers"][1]["next"] == "drugs"
    assert tree["questions"]["drugs"] == {
        "text": "患者近期用过可卡因、冰毒等毒品吗？",
        "text_en": "Has the patient recently taken cocaine, crystal meth or similar drugs?",
        "answers": [
            {
                "label": "用过",
                "label_en": "Yes",
                "outcome": {
                    "priority": 2,
                    "capability": "als",
                    "hospital_capability": "chest_pain",
                    "instruction": "chest-pain-care",
                },
            },
            {
                "label": "没有",
                "label_en": "No",
                "outcome": {"priority": 3, "capability": "bls", "instruction": "wait-for-ambulance"},
            },
        ],
    }
    console = Client()
    console.force_login(world.alice)
    listed = {p["code"]: p for p in console.get("/api/triage/protocols").json()}
    assert listed["chest-pain"]["questions"]["drugs"]["answers"][0]["outcome"]["priority"] == 2
    step = console.post(
        "/api/triage/evaluate",
        {"protocol": "chest-pain", "answers": [2, 1, 1, 0]},
        content_type="application/json",
    ).json()
    assert step["done"] and step["outcome"]["priority"] == 2 and step["path"][-1]["question"] == "drugs"


def test_renaming_a_question_keeps_the_answers_that_lead_to_it(director):
    url = change_url("stroke")
    _, data = page(director, url)
    data[f"q-{row(data, 'onset')}-id"] = "last_seen_well"
    response = save(director, url, data)
    assert response.status_code == 302, problems(response)
    tree = TriageProtocol.objects.get(code="stroke").questions
    fast = tree["questions"]["fast"]["answers"]
    assert "onset" not in tree["questions"] and [a.get("next") for a in fast][0] == "last_seen_well"
    assert fast[2]["next"] == "last_seen_well"


def test_reordering_deleting_and_adding_answers(director):
    """The # column orders the answers (the dispatcher's keys 1-9); Delete drops one; a blank row adds one."""
    url = change_url("heat-exposure")
    _, data = page(director, url)
    symptoms = row(data, "symptoms")
    before = TriageProtocol.objects.get(code="heat-exposure").questions["questions"]["symptoms"]["answers"]
    data[answer(symptoms, 0, "ORDER")] = "3"
    data[answer(symptoms, 1, "ORDER")] = "1"
    data.update(
        {
            answer(symptoms, 2, "label"): "出现抽筋，但意识清楚",
            answer(symptoms, 2, "label_en"): "Cramps, but fully alert",
            answer(symptoms, 2, "ORDER"): "2",
            answer(symptoms, 2, "priority"): "3",
            answer(symptoms, 2, "capability"): "bls",
            answer(symptoms, 2, "instruction"): "heat-illness",
        }
    )
    assert save(director, url, data).status_code == 302
    after = TriageProtocol.objects.get(code="heat-exposure").questions["questions"]["symptoms"]["answers"]
    assert [a["label_en"] for a in after] == [
        before[1]["label_en"],
        "Cramps, but fully alert",
        before[0]["label_en"],
    ]

    _, data = page(director, url)
    data[answer(row(data, "symptoms"), 1, "DELETE")] = "on"
    assert save(director, url, data).status_code == 302
    after = TriageProtocol.objects.get(code="heat-exposure").questions["questions"]["symptoms"]["answers"]
    assert [a["label_en"] for a in after] == [before[1]["label_en"], before[0]["label_en"]]


def test_a_new_protocol_is_written_in_rows_on_the_add_page(director):
    html, data = page(director, "/admin/dispatch/triageprotocol/add/")
    assert "Question 1 (new)" in html
    data.update(
        {
            "code": "dog-bite",
            "name": "动物咬伤",
            "name_en": "Animal bite",
            "keywords": "狗咬 猫抓 咬伤 dog bite",
            "order": "150",
            "q-0-text": "伤口还在大量出血吗？",
            "q-0-text_en": "Is the wound still bleeding heavily?",
            answer(0, 0, "label"): "是",
            answer(0, 0, "priority"): "2",
            answer(0, 0, "capability"): "als",
            answer(0, 0, "hospital_capability"): "trauma",
            answer(0, 0, "instruction"): "bleeding-control",
            answer(0, 1, "label"): "否",
            answer(0, 1, "priority"): "4",
            answer(0, 1, "capability"): "bls",
        }
    )
    response = save(director, "/admin/dispatch/triageprotocol/add/", data)
    assert response.status_code == 302, problems(response)
    created = TriageProtocol.objects.get(code="dog-bite")
    assert created.questions["start"] == "q1"  # the id left empty is made up
    assert [a["outcome"]["priority"] for a in created.questions["questions"]["q1"]["answers"]] == [2, 4]


def test_the_json_can_still_be_saved_instead_and_is_checked_the_same(director):
    url = change_url("chest-pain")
    _, data = page(director, url)
    tree = json.loads(data["questions"])
    tree["questions"]["shock"]["answers"][0]["outcome"]["priority"] = 7
    data.update(edit_with="json", questions=json.dumps(tree, ensure_ascii=False))
    assert "priority must be a whole number 1 to 4, not 7" in save(director, url, data).content.decode()
    tree["questions"]["shock"]["answers"][0]["outcome"]["priority"] = 2
    data["questions"] = json.dumps(tree, ensure_ascii=False)
    assert save(director, url, data).status_code == 302
    assert (
        TriageProtocol.objects.get(code="chest-pain").questions["questions"]["shock"]["answers"][0][
            "outcome"
        ]["priority"]
        == 2
    )


def test_the_editor_offers_only_instructions_that_exist(director):
    CallerInstruction.objects.create(code="spare", title="备用脚本", steps=["x"])
    html, _ = page(director, change_url("chest-pain"))
    assert '<option value="spare">备用脚本 (spare)</option>' in html
