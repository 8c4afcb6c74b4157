"""Chinese names in the order Chinese lists are read: by pinyin, syllable by syllable.

Character codes put 企 (U+4F01) before 公 (U+516C) and 外 (U+5916) before 食 (U+98DF); a reader looks for
公共场所卫生许可 under g and 外商投资 under w. ``pypinyin`` reads each name with its phrase dictionary, so a
character with several readings gets the one its word has (重庆 chong, 重量 zhong). Latin text (an English
page's names) passes through and sorts case-insensitively among the syllables.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

__all__ = ["collation_key"]


@lru_cache(maxsize=4096)
def collation_key(name: str) -> tuple[str, ...]:
    """The sort key of ``name``: its syllables (letters of Latin words), lower case; the name itself breaks ties
    between homophones so that the order is stable."""
    return (*(part.casefold() for part in lazy_pinyin(name)), "\x00", name)
