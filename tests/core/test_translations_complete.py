"""Chinese first: every message in the zh-hans catalogue is translated and none is fuzzy.

(A fuzzy entry is gettext's guess from a similar string; Django ignores it, so the screen would
show English.) Run `manage.py makemessages -l zh_Hans` after adding strings, then translate.
"""

import json
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry of the catalogue, the header left out."""
    found = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
                current, _, rest = line.partition(" ")
                fields[current] = json.loads(rest)
            elif line.startswith('"') and current:
                fields[current] += json.loads(line)
        msgid = fields.get("msgid", "")
        if msgid:
            found.append((msgid, fields.get("msgstr", fields.get("msgstr[0]", "")), fuzzy))
    return found


def test_catalogue_has_messages() -> None:
    assert len(entries()) > 500


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    missing = [msgid for msgid, msgstr, fuzzy in entries() if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} untranslated or fuzzy, e.g. {missing[:5]}"
