"""Every complaint is reachable by keyboard in the console's picker: typed in Chinese, in pinyin
(full or initials) or in English, it is first in the list at once, and Enter picks it. The
pinyin comes with the protocols (GET /api/triage/protocols, `pinyin` and `name_pinyin`), so
Enter never waits on a server answer and never picks a complaint a late answer would have moved
down; a complaint's own name outranks another's search word with the same initials (ns: 溺水,
not 扭伤)."""

import pytest

from dispatch.locate.gazetteer import search_keys
from dispatch.models import TriageProtocol
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PICKER = "#triage .triage-picker"


def queries(protocol: TriageProtocol) -> list[str]:
    """What a dispatcher would type for it: its Chinese name, the pinyin and the initials of the
    name's first words, its English name, and its first Chinese search word."""
    first = protocol.name.replace("（", "/").split("/")[0]
    full, initials = search_keys(first)
    return [protocol.name, full, initials, protocol.name_en.lower(), protocol.keywords.split()[0]]


def test_every_complaint_is_found_first_and_picked_with_enter(browser, live_url, world, triage_defaults):  # noqa: F811
    page = open_console(browser, live_url, world.alice)
    page.keyboard.press("n")
    page.wait_for_selector(PICKER)
    missed = []
    for protocol in TriageProtocol.objects.filter(active=True):
        for typed in queries(protocol):
            page.fill("#triage .triage-filter", typed)
            first = page.inner_text("#triage .triage-answers button:first-child .triage-label")
            page.keyboard.press("Enter")
            page.wait_for_selector("#triage .triage-question")
            chosen = page.inner_text("#triage .triage-header h2")
            if (first, chosen) != (protocol.name, protocol.name):
                missed.append(f"{typed!r} → listed {first!r}, picked {chosen!r}, not {protocol.name!r}")
            page.keyboard.press("Backspace")  # back to the complaint list, the filter focused
            page.wait_for_selector(f"{PICKER} .triage-filter:focus")
    assert missed == []


def test_a_sentence_and_a_half_typed_word_find_the_complaint(browser, live_url, world, triage_defaults):  # noqa: F811
    page = open_console(browser, live_url, world.alice)
    page.keyboard.press("n")
    page.wait_for_selector(PICKER)
    for typed, name in [
        ("老人在家摔倒了起不来", "跌倒/坠落"),
        ("胸", "胸痛"),
        ("xiongt", "胸痛"),
        ("chest pa", "胸痛"),
        ("Hypo", "糖尿病/低血糖"),
        ("ＣＯＬＤ", "低体温/冻伤"),  # full-width letters from a Chinese input method
        ("  溺水  ", "溺水"),
    ]:
        page.fill("#triage .triage-filter", typed)
        assert page.inner_text("#triage .triage-answers button:first-child .triage-label") == name, typed
    page.fill("#triage .triage-filter", "zzzz")
    assert page.locator("#triage .triage-answers button").count() == 0
