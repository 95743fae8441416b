"""The console's ? help lists every key the console answers: each key the page's scripts test for
(static/js/console*.js, calls.js, triage.js) is shown in the help dialog, with the triage keys
(1-9, Backspace, the complaint filter's Tab and Enter, M for the CPR beat) among them."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPTS = Path(settings.BASE_DIR) / "static" / "js"
SHOWN_AS = {"Escape": "Esc", "ArrowDown": "↓", "ArrowUp": "↑"}


def keys_the_scripts_answer() -> set[str]:
    """Every key compared in a key handler of the console's scripts, as the help shows it."""
    found: set[str] = set()
    for script in [*SCRIPTS.glob("console*.js"), SCRIPTS / "calls.js", SCRIPTS / "triage.js"]:
        code = script.read_text(encoding="utf-8")
        found |= set(re.findall(r'\bkey\s*[!=]==\s*"([^"]+)"', code))
        if "/^[1-9]$/" in code:
            found |= {"1", "9"}
        if "altKey && /^[1-9]$/" in code:
            found.add("Alt")
        if "Digit[1-5]" in code:
            found |= {"Shift", "5"}
        table = re.search(r"const DETAIL_KEYS = \{(.*?)\n\};", code, re.S)
        if table:
            found |= set(re.findall(r"^\s*(\w):", table.group(1), re.M))
    return {SHOWN_AS.get(k, k.upper() if len(k) == 1 else k) for k in found}


def test_the_help_lists_every_key_the_console_answers(browser, live_url, world):  # noqa: F811
    answered = keys_the_scripts_answer()
    assert {"N", "J", "K", "F2", "?", "Esc", "Enter", "Backspace", "M", "T", "Alt", "Shift"} <= answered
    page = open_console(browser, live_url, world.alice)
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts[open]")
    shown = {
        k.strip().upper() if len(k.strip()) == 1 else k.strip()
        for k in page.locator("#shortcuts kbd").all_inner_texts()
    }
    assert answered - shown == set(), "keys the console answers that its help does not list"
    assert {"Tab", "1", "9", "5"} <= shown  # the complaint filter; answers 1-9; hospitals Shift+1-5
    text = page.inner_text("#shortcuts")
    assert "拼音" in text and "改选其他医院" in text and "接听等待最久的来电" in text
    page.keyboard.press("Escape")
    page.wait_for_selector("#shortcuts", state="hidden")
