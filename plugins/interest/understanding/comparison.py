"""Comparisons in one clause ("comedies beat dramas", "I'd take a western over sci-fi"): two tastes, opposite signs.

A clause-level polarity head gives one sign per clause, but a comparison states two tastes. This splits the clause
into the preferred side and the other side. The direction comes from the connector where it says it ("better",
"over", ">", "worse"); for other comparatives ("scarier than", "more boring than") the caller uses the whole
clause's polarity. "Anything is better than X" and "nothing beats X" have no taste on the left: only the right
side is kept, with the sign the pattern implies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Words that are comparative-looking but are not comparisons of taste.
_NOT_COMPARATIVE = {"other", "rather", "sooner", "later", "never", "ever", "over", "after", "under", "either", "whether", "together", "water", "longer"}
_POSITIVE_ADJ = r"better|superior|preferable|nicer|cooler|funnier|smarter|cleverer|greater|stronger|sweeter|more\s+(?:fun|interesting|enjoyable|gripping|exciting|entertaining|my\s+(?:speed|style|thing|taste)|grown[- ]up|watchable|bearable)"
_NEGATIVE_ADJ = r"worse|inferior|duller|lamer|dumber|more\s+(?:boring|tedious|annoying|painful|dull)"
_INTENSIFIER = r"(?:(?:way|much|so|far|a\s+lot|a\s+good\s+deal|miles|loads|ten\s+times|twice\s+as|\d+x|even|still|somehow|frankly|generally|just|actually|honestly|definitely|always|simply)\s+)*"
_THAN = r"\s+(?:than|then)\s+"

# "even worse than X" / "even better than X": X shares the sign ("not even worse" does not say so).
_EVEN = re.compile(r"(?<!not\s)(?<!n't\s)\beven\s+", re.I)
_SYMBOL = re.compile(r"\s*(>{1,3}|<{1,3})\s*")
# "a far better picture than": the noun between the comparative and "than" is the thing compared.
_NOUN = r"(?:\s+(?:picture|film|movie|flick|one|show|choice|watch|story|comedy|thriller|western)s?)?"
_FIXED_ADJ = re.compile(r"\b" + _INTENSIFIER + r"(?P<adj>" + _POSITIVE_ADJ + "|" + _NEGATIVE_ADJ + r")(?:" + _NOUN + _THAN + r"|\s+to\s+)", re.I)
_OTHER_ADJ = re.compile(r"\b" + _INTENSIFIER + r"(?P<adj>more\s+\w+|less\s+\w+|\w{3,}er|\w{3,}ier)" + _THAN, re.I)
_VERB = re.compile(r"\s+(?:(?:still|easily|always|totally|simply|just|really|clearly)\s+)?(?P<verb>beats?|trumps?|tops|outshines?|outclasses?|is\s+worth\s+(?:\w+\s+)?|runs?\s+(?:circles|rings)\s+(?:a)?round|wipes?\s+the\s+floor\s+with|knocks?\s+spots\s+off)\s+", re.I)
_PREFER = re.compile(
    r"^(?P<left>.*?\b(?:prefer|take|pick|choose|give\s+me|rather|sooner|go\s+for|sit\s+through)\b.*?)\s+(?P<conn>over|above|to|than|then|before|instead\s+of|rather\s+than)\s+(?P<right>.+)$",
    re.I,
)
# "Westerns over sci-fi": only a short left side without a subject ("I watched it over the weekend" is no comparison).
_BARE_OVER = re.compile(r"^(?P<left>(?:\S+\s+){0,3}\S+)\s+over\s+(?!(?:the\s+)?(?:weekend|years?|holidays?|summer|winter|break|night|and\b|again\b|time\b))(?P<right>.+)$", re.I)
_SUBJECT = re.compile(r"\b(?:i|i'm|im|i've|it|we|you|he|she|they|watched|saw|seen)\b", re.I)
_ANYTHING_BUT = re.compile(r"^(?P<left>.*?\b(?:anything|everything|whatever)(?:'s)?)\s+(?:but|except|other\s+than|apart\s+from)\s+(?P<right>.+)$", re.I)
_EMPTY_LEFT = re.compile(
    r"^(?:(?:literally|honestly|almost|just|i'd\s+watch|i'll\s+watch|just\s+about)\s+)*(?P<word>anything|nothing|everything|nothin)"
    r"(?:\s+(?:else|on\s+earth|in\s+the\s+world|at\s+all|ever))?(?:'s|\s+is)?$",
    re.I,
)
# "I'd rewatch Heat a hundred times before I'd sit through Ronin": watching one before sitting through the other.
_WATCH_BEFORE = re.compile(r"\s+before\s+(?=(?:i'd|id|i\s+would)\s)", re.I)
_WOULD_WATCH = re.compile(r"\b(?:i'd|id|i\s+would)\s+(?:happily\s+|gladly\s+)?(?:re)?watch\b", re.I)
# "I liked Babe more than the kids' movies": the speaker's taste verb, its object, then "more than" prefers the left
# side. The connector is found first and the left side read apart, so no pattern backtracks over the whole clause.
_MORE = re.compile(r"\s+(?P<even>(?:(?:way|much|far|a\s+lot|so\s+much|even)\s+){0,3})more\s+(?:than|then)\s+", re.I)
_SPEAKER_VERB = re.compile(
    r"\b(?:i|we)(?:'ve|'d|\s+have|\s+would|\s+do|\s+did)?\s+(?:\w+ly\s+|really\s+|always\s+|still\s+|just\s+)?"
    r"(?:like|liked|love|loved|enjoy|enjoyed|adore|adored|dig|rate|rated)\s+\S",
    re.I,
)
# A right side that is no taste: "more than I expected", "more than my wife does", "more than one", "more than the first time".
_NO_SIDE = re.compile(
    r"(?:i|i'm|im|i've|ive|you|we|he|she|they|it|my|his|her|their|our|your|most|anyone|everyone|anything|people|ever|expected|"
    r"once|twice|one|two|three|a\s+few|just|only|half|the\s+first|the\s+last|\d+)\b",
    re.I,
)


@dataclass(frozen=True)
class Comparison:
    """The two sides of a comparison; `direction` +1: left preferred, -1: right preferred, 0: ask the clause's polarity."""

    left: str | None  # None when the left side names no taste ("anything", "nothing")
    right: str
    direction: int
    # "nothing beats X": the right side takes the comparison's sign instead of its opposite.
    right_same_sign: bool = False


def _sides(left: str, right: str, direction: int) -> Comparison | None:
    left, right = left.strip(" ,:-"), right.strip(" ,:-")
    if not re.search(r"[^\W_]", right):
        return None
    empty = _EMPTY_LEFT.match(left)
    if empty:
        nothing = empty.group("word").lower().startswith("noth")
        return Comparison(None, right, direction, right_same_sign=nothing)
    if not re.search(r"[^\W_]", left):
        return None
    return Comparison(left, right, direction)


def _more_than(clause: str) -> Comparison | None:
    """ "I liked X more than Y" (Y disliked; "even more than Y": Y liked too) and "I'd rewatch X before I'd sit through Y"."""
    m = _WATCH_BEFORE.search(clause)
    if m and _WOULD_WATCH.search(clause[: m.start()]):
        return _sides(clause[: m.start()], clause[m.end() :], 1)
    m = _MORE.search(clause)
    if m is None or not _SPEAKER_VERB.search(clause[: m.start()]) or _NO_SIDE.match(clause[m.end() :]):
        return None
    found = _sides(clause[: m.start()], clause[m.end() :], 1)
    if found is not None and "even" in m.group("even").lower():
        return replace(found, right_same_sign=True)
    return found


def read_comparison(clause: str) -> Comparison | None:
    """The comparison a clause makes, or None when it makes none."""
    m = _ANYTHING_BUT.match(clause)
    if m:
        return Comparison(None, m.group("right").strip(" ,:-"), 1)
    m = _SYMBOL.search(clause)
    if m and m.start() > 0:
        return _sides(clause[: m.start()], clause[m.end() :], 1 if m.group(1)[0] == ">" else -1)
    m = _PREFER.match(clause)
    if m:
        return _sides(m.group("left"), m.group("right"), 1)
    m = _FIXED_ADJ.search(clause)
    if m and m.start() > 0:
        positive = re.fullmatch(_POSITIVE_ADJ, m.group("adj"), re.I) is not None
        found = _sides(clause[: m.start()], clause[m.end() :], 1 if positive else -1)
        if found is not None and found.left is not None and _EVEN.search(clause[: m.start("adj")]):
            # "musicals are even worse than documentaries": both sides share the sign.
            return replace(found, right_same_sign=True)
        return found
    found = _more_than(clause)
    if found is not None:
        return found
    m = _VERB.search(clause)
    if m and m.start() > 0:
        return _sides(clause[: m.start()], clause[m.end() :], 1)
    m = _OTHER_ADJ.search(clause)
    if m and m.start() > 0 and m.group("adj").lower().split()[-1] not in _NOT_COMPARATIVE:
        return _sides(clause[: m.start()], clause[m.end() :], 0)
    m = _BARE_OVER.match(clause)
    if m and not _SUBJECT.search(m.group("left")):
        return _sides(m.group("left"), m.group("right"), 1)
    return None
