"""Scores one reply of the reply benchmark. Written apart from the product's output guard, on purpose: a title is
any catalog title, any quoted span, any listed line and any "Title (Year)"; it is invented when it is neither on a
card shown in the conversation so far nor in the user's own lines."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_BLOCK = re.compile(r"\n\n(?:_I don't have|\*\*Recommended for you\*\*)")
_QUOTE = re.compile(r"[\"“”]([^\"“”\n]{2,60})[\"“”]")
_YEAR = re.compile(r"((?:[A-Z0-9][\w'’:&-]*[ ,]+(?:(?:of|the|a|and|in|on)\s+)*){0,7}[A-Z0-9][\w'’:&!?-]*)\s*\((?:19|20)\d{2}\)")
_LISTED = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s*(.+)$", re.M)
_THE_RUN = re.compile(r"(?<=[a-z,;:] )(The(?: [A-Z][\w'’-]+)+)")
_END = re.compile(r"[.!?…][\"'”’)\]*_]*$")
_ARTICLES = ("the", "a", "an", "la", "le", "il", "el")


def own_words(reply: str) -> str:
    """The model's own text: the reply before the "going by" line and the card block."""
    return _BLOCK.split(reply, maxsplit=1)[0].strip()


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _title_forms(title: str) -> set[str]:
    """A catalog title as people write it: without the year, "Usual Suspects, The" as "The Usual Suspects"."""
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", title.strip())
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", bare) or bare
    forms = {bare}
    m = re.match(rf"^(.*),\s*({'|'.join(_ARTICLES)})$", bare, re.I)
    if m:
        forms |= {f"{m.group(2)} {m.group(1)}", m.group(1)}
    return {f for f in (_fold(x) for x in forms) if f}


def _strip_end(text: str) -> str:
    """Drop trailing emoji and symbols, which end a chat sentence as well as a full stop does."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("S")).rstrip()


@dataclass
class ReplyScorer:
    """Catalog titles (multi-word ones by their words, one-word ones only when written capitalised)."""

    multi: set[str]
    single: set[str]

    @classmethod
    def for_catalog(cls, plugin: Any) -> ReplyScorer:
        """Every title of the plugin's catalog."""
        return cls.from_titles(plugin.catalog.items().titles)

    @classmethod
    def from_titles(cls, titles: Sequence[str]) -> ReplyScorer:
        """From a list of catalog titles."""
        multi, single = set(), set()
        for title in titles:
            for form in _title_forms(title):
                words = [w for w in form.split() if w not in _ARTICLES]
                if len(words) >= 2:
                    multi.add(form)
                elif words and len(words[0]) >= 4 and title.lower() != "unknown":
                    single.add(words[0])
        return cls(multi, single)

    def titles_in(self, reply: str) -> list[str]:
        """Every title-like span the reply names (folded)."""
        folded = f" {_fold(reply)} "
        found = [t for t in self.multi if f" {t} " in folded]
        words = re.findall(r"[\w'’-]+", reply)
        for i, word in enumerate(words):
            if i > 0 and word[:1].isupper() and _fold(word) in self.single:
                found.append(_fold(word))
        found += [_fold(m.group(1)) for m in _QUOTE.finditer(reply)]
        found += [_fold(m.group(1)) for m in _YEAR.finditer(reply)]
        found += [_fold(m.group(1)) for m in _LISTED.finditer(reply) if re.search(r"[A-Z]", m.group(1))]
        # "The Mandalorian", "The Last Night": a capitalised "The" run inside a sentence reads as a title.
        found += [_fold(m.group(1)) for m in _THE_RUN.finditer(reply)]
        return [t for t in found if t]

    def invented(self, reply: str, allowed_titles: Sequence[str], user_lines: Sequence[str]) -> list[str]:
        """Titles named in the reply that are neither on a card shown so far nor in the user's lines."""
        allowed = {form for title in allowed_titles for form in _title_forms(title)}
        said = " ".join(_fold(line) for line in user_lines)
        out = []
        for title in self.titles_in(reply):
            if any(title == a or f" {title} " in f" {a} " or f" {a} " in f" {title} " for a in allowed) or f" {title} " in f" {said} ":
                continue
            out.append(title)
        return out

    @staticmethod
    def loops(reply: str) -> bool:
        """Any 4-word sequence three or more times."""
        words = _fold(reply).split()
        grams = Counter(tuple(words[i : i + 4]) for i in range(len(words) - 3))
        return any(n >= 3 for n in grams.values())

    @staticmethod
    def cut(reply: str) -> bool:
        """Ends mid-sentence or mid-word (an empty reply is counted as empty, not cut)."""
        text = _strip_end(reply.strip())
        return bool(text) and not _END.search(text)

    @staticmethod
    def acknowledges(reply: str, about: Sequence[str]) -> bool:
        """The reply echoes one of the things the user named: a word's stem ("westerns" ~ "western", "animated" ~
        "animation"), or every word of a multi-word phrase."""
        reply_stems = {_stem(w) for w in _fold(reply).split()}
        for phrase in about:
            words = [w for w in _fold(phrase).split() if w not in _ARTICLES]
            if words and all(any(_same(_stem(w), r) for r in reply_stems) for w in words):
                return True
        return False


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ed", "ing", "ion", "ions", "ic", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _same(a: str, b: str) -> bool:
    """Two stems name the same thing: equal, or sharing their first five letters (animat-ed / animat-ion)."""
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5])
