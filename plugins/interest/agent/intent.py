"""Cheap, rule-based reading of what a user asks of the recommender in one message."""

from __future__ import annotations

import re

_OPT_OUT = re.compile(
    r"\b(no|stop|without|don'?t|do not|never)\b[^.!?]{0,30}\b(recommend\w*|suggest\w*|recs?)\b"
    r"|\bstop suggesting\b|\bno more suggestions\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(recommend\w*|suggest\w*|what should i (watch|read|see)|anything (good|new) to (watch|read)|"
    r"any (ideas|tips)|what('?s| is) good)\b",
    re.IGNORECASE,
)


def opts_out(text: str) -> bool:
    """True when the user asks not to get recommendations ("no recommendations please")."""
    return bool(_OPT_OUT.search(text or ""))


def asks_for_recommendations(text: str) -> bool:
    """True when the user asks for suggestions outright ("what should I watch tonight?")."""
    return bool(_REQUEST.search(text or "")) and not opts_out(text)
