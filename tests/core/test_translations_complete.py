"""Chinese first: every message in the zh-hans catalogues is translated and none is fuzzy, and
every word a script shows comes from the scripts' catalogue (djangojs.po, through /jsi18n/).

(A fuzzy entry is gettext's guess from a similar string; Django ignores it, so the screen would
show English.) Run `manage.py makemessages -l zh_Hans` (and `-d djangojs` for static/js) after
adding strings, then translate.
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.scripts import code_lines, scripts

CATALOGUES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
CATALOGUE = CATALOGUES / "django.po"
SCRIPTS_CATALOGUE = CATALOGUES / "djangojs.po"

# Chinese characters, with the CJK punctuation and full-width forms (：，；) a Chinese text uses.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# Chinese a script may carry because it is not a translation of anything:
NOT_TRANSLATIONS = {
    # The station's map symbol, the same in every language (templates/map.html's legend shows it).
    ("citymap.js", 'const STATION_GLYPH = "站";'),
    # The English hint of the complaint filter shows a Chinese example on purpose: the filter
    # matches the protocols' Chinese names whatever the page's language.
    ("triage.js", 'gettext("Type the complaint (e.g. chest, 胸痛)")'),
}
# A call of the catalogue's functions with its literal arguments (double-quoted, as in static/js).
LITERAL = r'"((?:[^"\\]|\\.)*)"'
CALLS = re.compile(rf"\b(gettext|ngettext|pgettext)\(\s*{LITERAL}(?:\s*,\s*{LITERAL})?")


def entries(catalogue: Path = CATALOGUE) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry of the catalogue, the header left out; a message
    with a context is "context\\x04msgid", as gettext keys it."""
    found = []
    for block in catalogue.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
                current, _, rest = line.partition(" ")
                fields[current] = json.loads(rest)
            elif line.startswith('"') and current:
                fields[current] += json.loads(line)
        msgid = fields.get("msgid", "")
        if "msgctxt" in fields:
            msgid = f"{fields['msgctxt']}\x04{msgid}"
        if msgid:
            found.append((msgid, fields.get("msgstr", fields.get("msgstr[0]", "")), fuzzy))
    return found


@pytest.mark.parametrize("catalogue", [CATALOGUE, SCRIPTS_CATALOGUE], ids=["django", "djangojs"])
def test_every_message_is_translated_and_none_is_fuzzy(catalogue: Path) -> None:
    missing = [msgid for msgid, msgstr, fuzzy in entries(catalogue) if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} untranslated or fuzzy, e.g. {missing[:5]}"


def test_catalogues_have_messages() -> None:
    assert len(entries(CATALOGUE)) > 500
    assert len(entries(SCRIPTS_CATALOGUE)) > 250


def test_every_word_a_script_asks_for_is_in_the_scripts_catalogue() -> None:
    """A word makemessages did not pick up would show in English on a Chinese screen."""
    catalogued = {msgid for msgid, _msgstr, _fuzzy in entries(SCRIPTS_CATALOGUE)}
    asked = set()
    for script in scripts():
        for function, first, second in CALLS.findall("\n".join(code_lines(script))):
            first, second = json.loads(f'"{first}"'), json.loads(f'"{second}"') if second else ""
            asked.add(f"{first}\x04{second}" if function == "pgettext" else first)
    assert len(asked) > 250
    assert sorted(asked - catalogued) == []


def test_the_catalogue_functions_are_called_with_literals() -> None:
    """gettext(someVariable) cannot be extracted: its words would never be translated."""
    called = re.compile(r"\b(?:gettext|ngettext|pgettext)\((?!\s*\")")
    found = []
    for script in scripts():
        found += [f"{script.name}: {line.strip()}" for line in code_lines(script) if called.search(line)]
    assert found == []


def test_no_script_carries_its_own_translations() -> None:
    """No Chinese in a script's code and no T("中文", "English") pair: every word a page shows
    goes through the catalogue, so a third language needs a .po file, not a script change."""
    chinese, pairs = [], []
    for script in scripts():
        for line in code_lines(script):
            allowed = any(script.name == name and text in line for name, text in NOT_TRANSLATIONS)
            if CJK.search(line) and not allowed:
                chinese.append(f"{script.name}: {line.strip()}")
            if re.search(r"(?<![\w$.])T\(\s*[\"'`]", line):
                pairs.append(f"{script.name}: {line.strip()}")
    assert chinese == []
    assert pairs == []
