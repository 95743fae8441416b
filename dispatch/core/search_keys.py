"""Search keys: what callers name, found by what dispatchers type (the gazetteer in
dispatch.locate, the registry's places, the triage protocols' complaints).

Dispatchers type place names with a pinyin input method, or just the pinyin or its initials
("bsy" for 碧水苑) when that is faster. So every Place carries two search keys made here.
"""

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

# Runs of Chinese characters (CJK unified ideographs, extension A, compatibility ideographs).
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_NOT_KEY = re.compile(r"[^0-9a-z]")


def search_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lowercase, no tones, no spaces: 碧水苑 -> bishuiyuan, bsy.

    Each run of Chinese characters is converted as a whole, so pypinyin's phrase dictionary
    picks the reading in context (重庆 chongqing, 银行 yinhang). Digits and Latin letters are
    kept whole in both keys ("明湾120-01" -> mingwan12001, mw12001): callers say numbers as
    numbers. ü is written "v", as pinyin keyboards type it.
    """
    full: list[str] = []
    initials: list[str] = []
    for i, part in enumerate(_HAN_RUN.split(unicodedata.normalize("NFKC", name))):
        if i % 2:  # odd pieces of the split are the Chinese runs
            syllables = [_key(s) for s in lazy_pinyin(part, style=Style.NORMAL)]
            full += syllables
            initials += [s[:1] for s in syllables]
        else:
            word = _key(part)
            full.append(word)
            initials.append(word)
    return "".join(full), "".join(initials)


def _key(text: str) -> str:
    return _NOT_KEY.sub("", text.lower())
