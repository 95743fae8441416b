"""The protocol editor in a browser, as a medical director uses it: the page's script greys out
the outcome of an answer that leads to another question, an invalid save lists the problem in
the admin's language and keeps what was typed, a valid one is saved."""

from pathlib import Path

import pytest
from django.conf import settings

from dispatch.models import TriageProtocol
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"


def screenshots(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1920, 1080), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENS / f"{name}_{width}x{height}.png"))


def test_a_director_edits_a_protocol_in_rows(browser, live_url, triage_defaults, django_user_model):  # noqa: F811
    director = django_user_model.objects.create_superuser("director", password="pw-dir-120", role="admin")
    protocol = TriageProtocol.objects.get(code="chest-pain")
    page = signed_in_page(browser, live_url, director, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/admin/dispatch/triageprotocol/{protocol.pk}/change/")
    page.wait_for_selector("#triage-editor")
    yes = "select[name='q-1-a-0-{}']"  # shock (the second question asked): "yes" ends in priority I
    no = "select[name='q-1-a-1-{}']"  # "no" leads on to the cardiac question

    # The script greys out the outcome of an answer that leads on, and brings it back.
    assert page.is_disabled(no.format("priority")) and page.is_enabled(yes.format("priority"))
    page.select_option(yes.format("leads_to"), "#2")
    assert all(page.is_disabled(yes.format(f)) for f in ("priority", "capability", "instruction"))
    page.select_option(yes.format("leads_to"), "")
    assert page.is_enabled(yes.format("priority")) and page.input_value(yes.format("priority")) == "1"
    page.locator("#editor-question-2").evaluate("(e) => e.scrollIntoView()")
    screenshots(page, "triage_editor")

    # An outcome without a priority: refused, said in Chinese, nothing saved, the rows as typed.
    page.select_option(yes.format("priority"), "")
    page.fill("textarea[name='q-1-text_en']", "Any drenching sweat, grey face or confusion?")
    page.click("input[name='_continue']")
    page.wait_for_selector(".errornote")
    listed = page.inner_text("ul.errorlist.nonfield")
    assert "问题 'shock'的第1个答案的结果：请选择优先级（I到IV级，即1到4）。" in listed
    assert page.input_value("textarea[name='q-1-text_en']") == "Any drenching sweat, grey face or confusion?"
    protocol.refresh_from_db()
    assert protocol.questions["questions"]["shock"]["answers"][0]["outcome"]["priority"] == 1
    screenshots(page, "triage_editor_refused")

    # Priority II this time: saved, and the page says so.
    page.select_option(yes.format("priority"), "2")
    page.click("input[name='_continue']")
    page.wait_for_selector(".messagelist .success")
    protocol.refresh_from_db()
    shock = protocol.questions["questions"]["shock"]
    assert shock["answers"][0]["outcome"]["priority"] == 2
    assert shock["text_en"] == "Any drenching sweat, grey face or confusion?"
