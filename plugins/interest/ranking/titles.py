"""Item mentions: link catalog titles named in a message ("I just watched Star Wars") to catalog items."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_ARTICLES = ("the", "a", "an", "la", "le", "les", "il", "el", "das", "der", "die")
# Words so common in chat that a title made only of them needs its exact capitalised form and a cue.
_COMMON = set(
    "it heat up her us go big always clueless crash face fly friends home love life seven speed taxi twister "
    "sleepers jaws ed kids mother father sister brother money time war man woman men women night day girl boy game "
    "air rain fire ice blue red white black dead live free run hope grace sabrina heavy kicking screaming nixon "
    "casino copycat othello persuasion powder vampire wings eye eyes bed boys girls angels heaven hell king queen".split()
)
# Small words inside titles ("to live", "in love"): no evidence of a title on their own.
_SMALL = set("to of in on at for and or with from by is it my me you your i we be".split())
# Words that open sentences all the time ("Yes I have", "Loved it", "It was fun"): capitalised there, they are no title.
_OPENERS = set(
    "yes yeah yep no nope ok okay sure hi hello hey oh well so and but or then also just maybe may might i it they he she we "
    "you a an d this that there here what why how when thanks thank great good nice cool awesome wow love loved like liked "
    "enjoyed watched seen saw super fun definitely absolutely honestly actually".split()
)
_CUES = re.compile(
    r"\b(watch(ed|ing)?|saw|seen|see|movie|film|show|read|lov(e|ed|es|ing)|lik(e|ed|es)|hat(e|ed|es)|enjoy(ed)?|rewatch(ed)?|favou?rite|tired of|"
    r"fan of|stand|classic|masterpiece|overrated|underrated|best|worst|great|boring)\b",
    re.I,
)


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def title_variants(title: str) -> list[str]:
    """Normalized forms of a catalog title: without year, with a trailing ", The" moved to the front or dropped."""
    t = re.sub(r"\s*\(\d{4}\)\s*$", "", title.strip())
    t = re.sub(r"\s*\([^)]*\)\s*$", "", t) or t  # "Shall We Dance? (Shall We Dansu?)": the alternate title is noise
    out = {t}
    m = re.match(rf"^(.*),\s*({'|'.join(_ARTICLES)})$", t, re.I)
    if m:
        out |= {f"{m.group(2)} {m.group(1)}", m.group(1)}
    m = re.match(rf"^({'|'.join(_ARTICLES)})\s+(.*)$", t, re.I)
    if m:
        out.add(m.group(2))
    return sorted({_fold(v) for v in out if _fold(v)})


class TitleIndex:
    """Find catalog titles in free text; short or common-word titles need an exact, cued mention."""

    def __init__(self, ids: Sequence[str], titles: Sequence[str], years: Sequence[int | None] | None = None, popularity: Sequence[float] | None = None) -> None:
        self._by_variant: dict[str, list[int]] = {}
        self._ids, self._titles = list(ids), list(titles)
        self._years = list(years) if years is not None else [None] * len(ids)
        self._pop = list(popularity) if popularity is not None else [0.0] * len(ids)
        for row, title in enumerate(titles):
            for v in title_variants(title):
                self._by_variant.setdefault(v, []).append(row)
        self._max_words = max((len(v.split()) for v in self._by_variant), default=0)
        # The best-known tenth of the catalog: people type these in lowercase ("loved reservoir dogs").
        ranked = sorted((p, r) for r, p in enumerate(self._pop) if p > 0)
        self._popular = {r for _, r in ranked[len(ranked) - len(ranked) // 10 :]} if ranked else set()

    @staticmethod
    def _strength(variant: str) -> int:
        """2 = distinctive anywhere; 1 = must be written capitalised or quoted; 0 = that and a viewing cue nearby."""
        words = variant.split()
        content = [w for w in words if w not in _ARTICLES]
        if len(content) >= 3:
            return 2
        if len(words) > len(content) and content and all(len(w) >= 6 and w not in _COMMON for w in content):
            return 2  # "the godfather": an article plus an unusual word
        if len(content) <= 1 or all(w in _COMMON for w in content):
            return 0
        return 1

    def link(self, text: str) -> list[str]:
        """Item ids whose title the text names, in order of mention; longest match wins where titles overlap."""
        words = _fold(text).split()
        raw = text
        found: list[tuple[int, str]] = []
        used = [False] * len(words)
        for n in range(min(self._max_words, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(used[i : i + n]):
                    continue
                variant = " ".join(words[i : i + n])
                rows = self._by_variant.get(variant)
                if not rows:
                    continue
                strength = self._strength(variant)
                after = words[i + n : i + n + 1]
                dated = [r for r in rows if after and self._years[r] is not None and str(self._years[r]) == after[0]]
                year = after[0] if after and re.fullmatch(r"(19|20)\d\d", after[0]) else None
                # "Black Panther (2018)" is not The Black Panther (1921): same-named items dated otherwise step aside.
                fits = [r for r in rows if year is None or (y := self._years[r]) is None or abs(int(y) - int(year)) <= 1]
                if not fits and variant.split()[0] in _ARTICLES and " ".join(variant.split()[1:]) in self._by_variant:
                    continue  # "the Black Panther (2018)": the span without its article may name the film
                # "Heat (1995)": a title followed by its own year is a mention, however common its words.
                if not dated and strength < 2 and not (strength == 1 and rows[0] in self._popular and self._cued(words, i, n)) and not self._strong_evidence(raw, variant, words, i, n, strength == 0, year is not None):
                    continue
                row = dated[0] if dated else self._pick(fits or rows, after)
                found.append((i, self._ids[row]))
                for j in range(i, i + n):
                    used[j] = True
        out: list[str] = []
        for _, item in sorted(found):
            if item not in out:
                out.append(item)
        return out

    def mentions(self, text: str) -> list[str]:
        """Item ids of every title of two or more words the text contains in any case ("to live") and of one-word
        titles written capitalised, without the evidence `link` asks of a user's line: what a reply must not name
        unless it was shown or typed."""
        words = _fold(text).split()
        out: list[str] = []
        # One-word titles only where written capitalised past the sentence's first word ("Happy Friday!").
        for token in re.findall(r"[\w'’-]+", text)[1:]:
            folded = _fold(token)
            if token[:1].isupper() and len(folded) >= 4 and " " not in folded:
                out += [self._ids[row] for row in self._by_variant.get(folded, ()) if self._ids[row] not in out]
        for n in range(min(self._max_words, len(words)), 1, -1):
            for i in range(len(words) - n + 1):
                variant = " ".join(words[i : i + n])
                if variant.split()[0] in _ARTICLES and n == 2:
                    continue  # "the game": an article and one word is a phrase, not a title, unless written as one
                for row in self._by_variant.get(variant, ()):
                    if self._ids[row] not in out:
                        out.append(self._ids[row])
        return out

    def distinctive(self, text: str) -> list[str]:
        """Item ids of titles of two or more words named in any case, at least two of them unusual ("pulp fiction",
        "dawn of the dead" but not "to live"): a user typing these names the film."""
        words = _fold(text).split()
        out: list[str] = []
        for n in range(min(self._max_words, len(words)), 1, -1):
            for i in range(len(words) - n + 1):
                variant = " ".join(words[i : i + n])
                unusual = [w for w in variant.split() if w not in _ARTICLES and w not in _COMMON and w not in _SMALL]
                if len(unusual) < 2 and not (len(unusual) == 1 and n >= 3):
                    continue
                out += [self._ids[row] for row in self._by_variant.get(variant, ()) if self._ids[row] not in out]
        return out

    @staticmethod
    def _cued(words: list[str], i: int, n: int) -> bool:
        """A viewing or taste word within four words of the mention."""
        return _CUES.search(" ".join(words[max(0, i - 4) : i + n + 4])) is not None

    def _strong_evidence(self, raw: str, variant: str, words: list[str], i: int, n: int, need_cue: bool, year_after: bool = False) -> bool:
        """A weak title counts only when written capitalised (or quoted), and for the weakest next to a viewing cue."""
        pat = rf"[\"'“‘]{re.escape(variant)}[\"'”’]"
        quoted = re.search(pat, raw, re.I) is not None
        # Every sentence starts with a capital: there "Yes", "It" or "Loved" say nothing, unless a year follows.
        lead = r"(?<![.!?]\s)(?<!^)" if variant in _OPENERS | _COMMON and not year_after else ""
        words_pattern = r"\W+".join(w.capitalize() for w in variant.split())
        cap = re.search(rf"{lead}\b{words_pattern}\b", raw.strip()) is not None
        window = " ".join(words[max(0, i - 4) : i + n + 4])
        return (quoted or cap) and (not need_cue or _CUES.search(window) is not None)

    def _pick(self, rows: list[int], after: list[str]) -> int:
        """Among same-named items prefer the year written after the title, else the most popular, else the first."""
        if after and after[0].isdigit():
            for r in rows:
                if self._years[r] is not None and str(self._years[r]) == after[0]:
                    return r
        return sorted(rows, key=lambda r: (-self._pop[r], r))[0]
