"""Items of one series: titles sharing a stem ("Police Academy" and "Police Academy 2: Their First Assignment").

A sequel, a prequel or a remake of a film someone liked is what a person recommending by hand names first; the
catalog's titles say it without any metadata. The stem is the title's first two significant words before a
subtitle or a part number, so "The Hobbit: An Unexpected Journey", "Kill Bill: Volume 2" and "Scary Movie 4" meet
their siblings, while "The Man Who Knew Too Much" and "The Man Who Wasn't There" do not.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
_SUBTITLE = re.compile(r":|\s[-–—]\s|\bpart\b|\bvolume\b|\bvol\.")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_PART_NUMBER = frozenset({"2", "3", "4", "5", "6", "7", "8", "ii", "iii", "iv", "v", "vi", "vii"})
# Words that say nothing about which series a title belongs to.
_FILLER = frozenset({"the", "a", "an", "of", "and", "in", "on", "to", "who", "i", "am", "my", "is", "it", "for", "with", "at", "from", "by"})


@functools.lru_cache(maxsize=65536)
def series_key(title: str) -> str | None:
    """The title's series stem (its first two significant words before a subtitle or part number), or None."""
    # Accents folded ("Amélie" and "Amelie" meet); letters of any script are words.
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", title) if not unicodedata.combining(ch))
    head = _SUBTITLE.split(_YEAR.sub("", folded).lower(), maxsplit=1)[0]
    words = _WORD.findall(head)
    while words and words[-1] in _PART_NUMBER:
        words.pop()
    significant = [w for w in words if w not in _FILLER]
    return " ".join(significant[:2]) or None


class SeriesIndex:
    """Series codes of a set of ranking rows: which rows share a stem with given titles, as one vector operation."""

    def __init__(self, titles: Sequence[str]) -> None:
        self._code: dict[str, int] = {}
        codes = np.full(len(titles), -1, np.int64)
        for r, title in enumerate(titles):
            key = series_key(title)
            if key is not None:
                codes[r] = self._code.setdefault(key, len(self._code))
        self.codes = codes

    def same_series(self, titles: Iterable[str]) -> np.ndarray:
        """Per row: whether it shares a series stem with any of these titles."""
        wanted = [self._code[k] for k in {series_key(t) for t in titles} if k is not None and k in self._code]
        if not wanted:
            return np.zeros(len(self.codes), bool)
        return np.isin(self.codes, wanted)


class SeriesMembers:
    """Every catalog item by series stem: the siblings a large catalog's candidates need (built once per catalog)."""

    def __init__(self, ids: Sequence[str], titles: Sequence[str]) -> None:
        members: dict[str, list[str]] = defaultdict(list)
        for item_id, title in zip(ids, titles):
            key = series_key(title)
            if key is not None:
                members[key].append(item_id)
        self._members = dict(members)

    def siblings(self, titles: Iterable[str], per_title: int) -> list[str]:
        """Ids of the items sharing a stem with each of these titles, at most per_title each."""
        out: list[str] = []
        for key in dict.fromkeys(series_key(t) for t in titles):
            if key is not None:
                out += self._members.get(key, [])[:per_title]
        return out
