"""The output guard: a reply's own words may name only titles the user was shown or typed, never loop, never end
mid-sentence, and stay short.

The guard works a sentence at a time, so streamed text is held back only until its sentence is complete and checked:

    guard = ReplyGuard(allowed_text=[card titles, the user's lines], allowed_ids=card ids, link=plugin.items_named)
    stream = GuardedStream(guard, max_sentences=2)
    for token in model_tokens:
        for sentence in stream.feed(token): send(sentence)
        if stream.done: break
    for sentence in stream.finish(): send(sentence)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# A sentence ends at . ! ? or … (plus closing quotes/brackets) before whitespace, or at a line break.
# A list number ("1. Twelve Monkeys") ends no sentence: the item stays on its line, where the list check sees it.
_BOUNDARY = re.compile(r"(?<=[.!?…])(?<!\s\d\.)(?<!\s\d\d\.)(?<!^\d\.)(?<!^\d\d\.)[\"'”’)\]]*(?=\s)|\n+", re.M)
# "… Uncharted 2." : the number of the next item of a list written on one line.
_INLINE_ITEM = re.compile(r"(?:^|\s)\d{1,2}[.)]$")
# Where a clause ends inside a sentence: a comma, dash, ellipsis, semicolon or colon.
_CLAUSE_END = re.compile(r"\s*(?:,|;|:|\s[-–—]\s|[–—]|\.\.\.|…)")
# Quote marks and brackets in a clause: a cut there may split a title and hide it from the quote check.
_OPEN_SPAN = re.compile(r"[\"“”«»(\[]|(?:^|\s)['‘]")
# First words of a sentence whose leading clause says the opposite, or nothing, without the rest.
_NEEDS_ITS_REST = {
    "if", "since", "unless", "unlike", "although", "though", "while", "when", "because", "instead", "rather", "forget",
    "skip", "avoid", "not", "no", "never", "but", "except", "without",
}
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_LIST_LINE = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)]|#+)\s*")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{2,80})[\"“”]|\*\*?([^*]{2,80})\*\*?|(?<![A-Za-z])['‘]([A-Z][^'‘’]{1,80})['’](?![A-Za-z])")
_DATED = re.compile(r"([^.!?;:()\n]{1,120}?)\s*\((?:19|20)\d{2}\)")
_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")
_CONNECTORS = {"of", "the", "and", "a", "in", "on", "to", "&"}
_NOT_NAMES = {"i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "tv", "dvd"}
_WORD = re.compile(r"[^\W_]+")

Link = Callable[[str], Sequence[str]]


def fold(text: str) -> str:
    """Lowercase words without accents, separated by single spaces (for comparing titles and phrases). Letters of
    every script stay: a name in Cyrillic must match what was typed, not vanish and match anything."""
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).casefold()
    return " ".join(_WORD.findall(text))


def split_sentences(text: str) -> tuple[list[str], str]:
    """Complete sentences in `text`, and the unfinished rest."""
    out, start = [], 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start : match.end()].strip()
        if piece:
            out.append(piece)
        start = match.end()
    return out, text[start:]


def name_runs(sentence: str) -> list[list[str]]:
    """Runs of two or more capitalised words not opening a sentence ("James Cameron", "The Last Night"), or opening
    it after an article ("The Fire")."""
    tokens = _TOKEN.findall(sentence)
    runs: list[list[str]] = []
    run: list[str] = []

    def flush() -> None:
        while run and run[-1].lower() in _CONNECTORS:
            run.pop()
        if sum(1 for w in run if w[:1].isupper()) >= 2:
            runs.append(list(run))
        run.clear()

    for i, token in enumerate(tokens):
        # A colon or an opening quote starts no sentence: "Here is one: Silent Harbor" names a title.
        opens = i == 0 or tokens[i - 1] in {".", "!", "?"}
        # "The Fire - a classic western": an opening article before a capitalised word starts a title-like run.
        titled = opens and token in {"The", "A", "An"} and i + 1 < len(tokens) and tokens[i + 1][:1].isupper()
        if titled or (token[:1].isupper() and not opens and token.lower() not in _NOT_NAMES):
            run.append(token)
        elif run and token.lower() in _CONNECTORS:
            run.append(token)
        else:
            flush()
    flush()
    return runs


def title_before(text: str) -> str:
    """The title-like tail of the text before a "(1995)": its last run of capitalised words and small connectors."""
    words = text.split()
    tail: list[str] = []
    for word in reversed(words):
        if word[:1].isupper() or word[:1].isdigit() or word.lower().strip(",") in _CONNECTORS:
            tail.insert(0, word)
        else:
            break
    while tail and tail[0].lower() in _CONNECTORS:
        tail.pop(0)
    return " ".join(tail) or text


def four_grams(text: str) -> list[tuple[str, ...]]:
    """Word 4-grams of a text (folded), the unit loops are measured in."""
    words = fold(text).split()
    return [tuple(words[i : i + 4]) for i in range(len(words) - 3)]


@dataclass
class ReplyGuard:
    """Decides whether one sentence of a reply may reach the user."""

    # Text whose titles and names may be repeated: the cards shown in this conversation and the user's own lines.
    allowed_text: Sequence[str] = ()
    # Catalog item ids the reply may name (cards shown so far, titles the user typed), and a linker that finds
    # catalog titles in a sentence (in any case: TitleIndex.mentions); without one only quoted, dated, listed and
    # name-like spans are checked.
    allowed_ids: Iterable[str] = ()
    link: Link | None = None
    # Capitalised words that are not names: the catalog's categories, the user's tastes as read.
    vocabulary: Iterable[str] = ()
    _allowed: str = field(init=False, default="")
    _ids: set[str] = field(init=False, default_factory=set)
    _vocab: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self._allowed = " | ".join(fold(t) for t in self.allowed_text)
        self._ids = set(self.allowed_ids)
        self._vocab = {fold(v) for v in self.vocabulary} | {w for v in self.vocabulary for w in fold(v).split()}

    def _was_shown(self, span: str) -> bool:
        """The span is part of a card title shown or of the user's own lines."""
        folded = fold(span)
        return not folded or re.search(rf"(?:^|\s){re.escape(folded)}(?:\s|$)", self._allowed) is not None

    def _known(self, span: str) -> bool:
        return fold(span) in self._vocab or self._was_shown(span)

    def _is_allowed(self, span: str) -> bool:
        if self._known(span):
            return True
        # "Bruce Lee and Jackie Chan": names the user typed apart, joined in the reply, are each still theirs.
        parts = [p for p in re.split(r"\s+(?:and|&)\s+|,\s*", span) if p.strip()]
        return len(parts) > 1 and all(self._known(p) for p in parts)

    def problem(self, sentence: str) -> str | None:
        """Why this sentence must not be shown ("list", "invented title", "name"), or None when it may."""
        if _LIST_LINE.match(sentence) or _INLINE_ITEM.search(sentence) or sentence.count(";") >= 2 or sentence.rstrip().endswith(":"):
            return "list"  # a line ending in a colon introduces the list that follows it
        for match in _QUOTED.finditer(sentence):
            # Quotes mark a title: a quoted genre ("Fantasy") reads as one too, so it must have been shown or typed.
            if not self._was_shown(next(g for g in match.groups() if g)):
                return "invented title"
        for match in _DATED.finditer(sentence):
            if not self._is_allowed(title_before(match.group(1))):
                return "invented title"
        if self.link is not None and set(self.link(sentence)) - self._ids:
            return "invented title"
        for run in name_runs(sentence):
            # The whole run must have been shown or typed; single words pass only as vocabulary ("Sci-Fi", "Western"):
            # "The Last Night" is not allowed because "Last" and "Night" each appear in some card title.
            # A run opened by an article ("The War Film") reads as a title even when its words are genre words.
            capitalised = [w for w in run if w[:1].isupper() and w.lower() not in _CONNECTORS]
            titled = run[0] in {"The", "A", "An"}
            if not self._is_allowed(" ".join(run)) and (titled or not all(fold(w) in self._vocab for w in capitalised)):
                return "name"
        return None


@dataclass
class GuardedStream:
    """Feeds model text through a ReplyGuard a sentence at a time; stops at a loop or after `max_sentences`."""

    guard: ReplyGuard
    max_sentences: int = 2
    kept: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    done: bool = False
    _buffer: str = ""
    _grams: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def _accept(self, sentence: str) -> str | None:
        if self.done:
            return None
        grams = four_grams(sentence)
        repeats_itself = any(n > 1 for n in Counter(grams).values())  # "great pick, great pick, great pick"
        if repeats_itself or fold(sentence) in {fold(k) for k in self.kept} or any(self._grams[g] for g in grams):
            self.dropped.append((sentence, "loop"))
            self.done = True  # a small model that repeats itself once keeps doing so: stop decoding
            return None
        reason = self.guard.problem(sentence)
        if reason:
            self.dropped.append((sentence, reason))
            if self.kept or len(self.dropped) > 1 or reason == "list":
                return None
            # The reply's first sentence carries its opening (the user's own words): keep the clauses before the
            # name it must not show, so the reply still answers them ("Roman Holiday - starring <invented>").
            sentence = self._leading_clause(sentence) or ""
            if not sentence:
                return None
            grams = four_grams(sentence)
        if not _TERMINAL.search(sentence):
            sentence += "."  # a line the model broke without a full stop ("(laughs)\n") still ends as a sentence
        self._grams.update(grams)
        self.kept.append(sentence)
        self.done = len(self.kept) >= self.max_sentences
        return sentence

    def _leading_clause(self, sentence: str) -> str | None:
        """The longest run of leading clauses of a dropped sentence that passes the guard on its own, as a sentence.
        Never a cut inside quotes or brackets (a title's first words), nor a clause that needs its rest to mean what
        it said ("If you liked romance", "Forget Roman Holiday")."""
        first = fold(sentence).split()[:1]
        if first and first[0] in _NEEDS_ITS_REST:
            return None
        cuts = [m.start() for m in _CLAUSE_END.finditer(sentence)]
        for cut in reversed(cuts):
            clause = sentence[:cut].rstrip(" ,;:-–—.…")
            if _OPEN_SPAN.search(clause):
                continue
            if len(clause.split()) >= 2 and self.guard.problem(clause + ".") is None:
                return clause + "."
        return None

    def _emit(self, sentences: Iterable[str]) -> list[str]:
        out = []
        for sentence in sentences:
            kept = self._accept(sentence)
            if kept is not None:
                out.append(kept if len(self.kept) == 1 else " " + kept)
        return out

    def feed(self, text: str) -> list[str]:
        """Add model text; returns the sentences (with their leading space) now safe to show."""
        if self.done:
            return []
        sentences, self._buffer = split_sentences(self._buffer + text)
        return self._emit(sentences)

    def finish(self, complete: bool = False) -> list[str]:
        """The model stopped: an unfinished last sentence (token limit) is dropped, never shown cut. `complete` says
        the model itself ended there (a backend's finish_reason "stop"): its last words then stand, with a full stop."""
        rest, self._buffer = self._buffer.strip(), ""
        if rest and _TERMINAL.search(rest):
            return self._emit([rest])
        if rest and complete:
            return self._emit([rest + "."])
        if rest and not self.done:
            self.dropped.append((rest, "unfinished"))
        return []

    @property
    def text(self) -> str:
        """Everything kept so far, as one reply."""
        return " ".join(self.kept)


def guard_text(text: str, guard: ReplyGuard, max_sentences: int = 2) -> GuardedStream:
    """Run a whole reply through the guard at once (for non-streaming paths and tests)."""
    stream = GuardedStream(guard, max_sentences=max_sentences)
    stream.feed(text)
    stream.finish()
    return stream
