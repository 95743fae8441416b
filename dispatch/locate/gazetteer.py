"""The gazetteer: what callers name, found by what dispatchers type.

Dispatchers type place names with a pinyin input method, or just the pinyin or its initials
("bsy" for 碧水苑) when that is faster. So every Place carries two search keys, made by
`search_keys` (it lives in dispatch.core, so the registry below this layer makes the same keys
when it saves a place).
"""

from dispatch.core.search_keys import search_keys

__all__ = ["search_keys"]
