"""A negation-aware sentiment-lexicon feature for the polarity head (VADER's word list, MIT, and film-talk slang)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

LEXICON_FILE = Path(__file__).parent / "data" / "sentiment_lexicon.tsv"
# Read after VADER's list and taking precedence: "banger", "naff", "pish", and slang VADER reads the other way ("wicked").
INFORMAL_FILE = Path(__file__).parent / "data" / "informal_lexicon.tsv"
N_FEATURES = 4
_TOKEN = re.compile(r"[a-z][a-z'-]*")
NEGATORS = {
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "hardly", "barely", "without", "cannot",
    "dont", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "won't", "wouldn't", "can't",
    "couldn't", "shouldn't", "ain't", "haven't", "hasn't", "nt", "n't",
}
NEGATION_WINDOW = 3  # a negator flips the sentiment of the next few words, as VADER does.
NEGATION_FACTOR = -0.74  # VADER's damped flip: "not great" is less negative than "awful" is.


@lru_cache(maxsize=1)
def lexicon() -> dict[str, float]:
    """Word -> valence in [-4, 4]."""
    out = {}
    for path in (LEXICON_FILE, INFORMAL_FILE):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                word, value = line.split("\t")[:2]
                out[word] = float(value)
    return out


def _valence(word: str, lex: dict[str, float]) -> float:
    """Valence of a word or of its simple stem (fascinates -> fascinate, thrilled -> thrill)."""
    if word in lex:
        return lex[word]
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""), ("ing", "e"), ("ly", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)] + repl
            if stem in lex:
                return lex[stem]
    return 0.0


def features(texts: list[str]) -> np.ndarray:
    """Per text: [positive mass, negative mass, net (tanh), any negator], negation applied."""
    lex = lexicon()
    out = np.zeros((len(texts), N_FEATURES), dtype=np.float32)
    for i, text in enumerate(texts):
        tokens = _TOKEN.findall(text.lower().replace("\u2019", "'"))
        pos = neg = 0.0
        negated_until = -1
        any_neg = 0.0
        for j, tok in enumerate(tokens):
            if tok in NEGATORS or tok.endswith("n't"):
                negated_until = j + NEGATION_WINDOW
                any_neg = 1.0
                continue
            v = _valence(tok, lex)
            if v and j <= negated_until:
                v *= NEGATION_FACTOR
            if v > 0:
                pos += v
            else:
                neg -= v
        out[i] = (pos / 4.0, neg / 4.0, np.tanh((pos - neg) / 2.0), any_neg)
    return out
