"""The page scripts (static/js) as the tests read them: each file, and its code without comments."""

import re
from pathlib import Path

from django.conf import settings

SCRIPTS = Path(settings.BASE_DIR) / "static" / "js"


def scripts() -> list[Path]:
    return sorted(SCRIPTS.glob("*.js"))


def code_lines(script: Path) -> list[str]:
    """The script's lines without their comments, written as static/js writes them: `//` at the
    start of a line or after a space (`://` in an address is no comment) and `/* ... */`."""
    lines, in_block = [], False
    for line in script.read_text(encoding="utf-8").splitlines():
        if in_block:
            if "*/" not in line:
                continue
            line, in_block = line.split("*/", 1)[1], False
        line = re.sub(r"/\*.*?\*/", "", line)
        if "/*" in line:
            line, in_block = line.split("/*", 1)[0], True
        code = re.split(r"(?:^|\s)//(?:\s|$)", line, maxsplit=1)[0]
        if code.strip():
            lines.append(code)
    return lines
