"""Reactions to the bot's own suggestions ("seen it", "sounds good", "not that one"): which feedback a message is."""

from __future__ import annotations

import re
from enum import Enum


class Reaction(Enum):
    """What a short reply says about the suggestion it answers; the value is the feedback's `liked`."""

    SEEN = None
    LIKED = True
    DECLINED = False


# Why patterns and not the classifier: these replies name no title and state no taste ("seen it" has no genre, its
# polarity is neutral), so the classifier rightly records nothing; only the suggestion they answer gives them meaning.
_PATTERNS: list[tuple[Reaction, re.Pattern[str]]] = [
    (Reaction.DECLINED, re.compile(r"\b(not (that|this) one|no,? thanks?|not (really )?interested|not for me|(don'?t|do not) (like|want) (that|this|it)|sounds boring|pass on (that|this|it))\b", re.I)),
    (Reaction.SEEN, re.compile(r"\b((already|have|'ve) (seen|watched) (it|that|this|that one|this one)?|seen (it|that|this)( one)?|watched (it|that|this)( one)? already)\b", re.I)),
    (Reaction.LIKED, re.compile(r"\b(sounds? (good|great|interesting|fun|awesome|perfect|cool)|i'?ll (check|watch|try|add) (it|that|this)|(great|good|nice) (suggestion|idea|pick|one)|i('d| would) (watch|try) (that|this|it)|i'?ll give (it|that) a (try|shot|go))\b", re.I)),
]


def read_reaction(text: str) -> Reaction | None:
    """The reaction a message states to the suggestion it answers, or None (declines are checked first: "no thanks, seen it")."""
    for reaction, pattern in _PATTERNS:
        if pattern.search(text):
            return reaction
    return None
