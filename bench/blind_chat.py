"""Scoring on the frozen blind chat sets (bench/data/blind_chat): polarity, category and preference per taste.

Each labelled taste is judged on the signal that carries it: the clause containing the taste's span (else the
clause sharing most words with it). Polarity is two-class; a category is a hit when the catalog item the clause
links to is the named one, or else when the clause's top category is one of the taste's genres (for a title in
the catalog, the item's own genres). Preference AUC separates taste lines from `none` lines (max over clauses).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interest_bot.memory.signals import InterestSignal
from interest_bot.plugins.interest.ranking.titles import TitleIndex
from interest_bot.plugins.interest.understanding.text import clause_holding

BLIND_DIR = Path(__file__).parent / "data" / "blind_chat"
# The hashes the sets were frozen with: a changed file is refused, so a figure always names the data it came from.
FROZEN = {
    "eval.jsonl": "5ccc41ae9437da3c9c73494dbf8afd4abbc36afc0a77e3454e280da5d7660dc9",
    "final.jsonl": "91b285d5a2a5c413ba52f57544367e5f038e0fa6d82804bb5d4964a956e53c9d",
    "final2.jsonl": "b46631632b24a4d26a620d5fa43de7b78de84df9b99f0f162625d9372ce2ae93",
    "final3.jsonl": "f90e6095394c6cca467412a3fd68966b803012e0934d6caf06ff4bb9a81a2ac6",
    "final4.jsonl": "7968495f7586e69bca075a5522ea9c777447e2ae542aa83f80a876cbb0dafa09",
    "final5.jsonl": "19be8ea278c2725e0320bb9e07fc6c20b5e20f764b8ae0ff92a21c3cd7a2396e",
    "final6.jsonl": "4a5689e3bb7aa406b68871673e81c6dd44a6038123b4d4414a72bd2035d027c2",
    "final7.jsonl": "edd5b1bf5ddbe9c00ad6835bf08d4318e9117852ab8df16ffa2df0445c80d871",
    "final8.jsonl": "24c8cee3285095b75fcfbeec233bf7345f0b7f5231540d3ed0405f272a3e7977",
    "final9.jsonl": "f7435d475c351bc326ea9fcec7827584c22a959c01cb3834e5bb02bdff7c35cd",
    "final10.jsonl": "7904a58fe5d24c9ebee333483864dedafa5263d124ef62b900da0a94ac0de96f",
}
KINDS = ("plain", "slang", "negation", "contrast", "idiom", "sarcasm", "comparative", "question", "long")


@dataclass(frozen=True)
class Taste:
    """One labelled taste in a blind line."""

    polarity: int
    target: str
    target_type: str
    genres: frozenset[str]
    span: str


@dataclass(frozen=True)
class BlindLine:
    """One blind chat line with its labels."""

    author: str
    text: str
    kind: str
    tastes: tuple[Taste, ...]


def load_blind(name: str = "eval.jsonl") -> tuple[list[BlindLine], str]:
    """The frozen lines and their sha256; refuses a file whose hash is not the frozen one."""
    raw = (BLIND_DIR / name).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if name in FROZEN and digest != FROZEN[name]:
        raise ValueError(f"{name} changed since it was frozen (sha256 {digest}, frozen {FROZEN[name]})")
    lines = []
    for row in map(json.loads, raw.decode("utf-8").splitlines()):
        tastes = tuple(
            Taste(1 if t["polarity"] == "like" else -1, t["target"], t["target_type"], frozenset(t["genres"]), t["span"]) for t in row["tastes"]
        )
        lines.append(BlindLine(row["author"], row["text"], row["kind"], tastes))
    return lines, digest


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _clause(signal: InterestSignal) -> str:
    """The clause an analyzed signal was read from (analyze always keeps it; only stored signals may go without)."""
    assert signal.text is not None
    return signal.text


def carrier(signals: Sequence[InterestSignal], span: str) -> InterestSignal | None:
    """The signal whose clause holds the span (the plugin's own rule for training lines); None if none shares a word."""
    i = clause_holding([_clause(s) for s in signals], span)
    return None if i is None else signals[i]


@dataclass
class CatalogTitles:
    """Title linking and item genres of the catalog the heads were trained for."""

    index: TitleIndex
    genres: dict[str, frozenset[str]]

    def linked_genres(self, text: str) -> list[frozenset[str]]:
        """Genres of every catalog item the text names."""
        return [self.genres[i] for i in self.index.link(text)]


def score_blind(
    analyze: Callable[[str], list[InterestSignal]],
    lines: Sequence[BlindLine],
    titles: CatalogTitles,
    vader: Callable[[str], int] | None = None,
) -> dict:
    """Polarity, category and preference figures on blind lines, overall and per kind (VADER beside ours)."""
    from sklearn.metrics import roc_auc_score

    pol: dict[str, list[int]] = {}
    vad: dict[str, list[int]] = {}
    cat_hits: list[int] = []
    pref_scores: list[float] = []
    pref_labels: list[int] = []
    misses: list[dict] = []
    for line in lines:
        signals = analyze(line.text)
        pref_scores.append(max((s.preference for s in signals), default=0.0))
        pref_labels.append(1 if line.tastes else 0)
        for taste in line.tastes:
            sig = carrier(signals, taste.span)
            ok = sig is not None and np.sign(sig.polarity) == taste.polarity
            pol.setdefault(line.kind, []).append(int(ok))
            if vader is not None:
                vad.setdefault(line.kind, []).append(int(vader(_clause(sig) if sig is not None else line.text) == taste.polarity))
            linked = titles.linked_genres(_clause(sig)) if sig is not None else []
            if taste.target_type == "title" and sig is not None and linked:  # linked is empty without a signal
                hit = any(g & taste.genres or taste.target.lower() in _clause(sig).lower() for g in linked)
            else:
                hit = sig is not None and sig.top_category in taste.genres
            cat_hits.append(int(hit))
            if not ok or not hit:
                misses.append({"kind": line.kind, "text": line.text, "want": [taste.polarity, sorted(taste.genres)], "got": None if sig is None else [round(sig.polarity, 2), sig.top_category, sig.text]})
    flat = [v for vs in pol.values() for v in vs]
    by_kind = {k: round(float(np.mean(v)), 4) for k, v in sorted(pol.items())}
    out = {
        "polarity_acc": round(float(np.mean(flat)), 4),
        "polarity_min_kind": min(by_kind.values()),
        "polarity_by_kind": by_kind,
        "category_acc": round(float(np.mean(cat_hits)), 4),
        "preference_auc": round(float(roc_auc_score(pref_labels, pref_scores)), 4),
        "lines": len(lines),
        "tastes": len(flat),
        "_misses": misses,
    }
    if vader is not None:
        out["polarity_acc_vader"] = round(float(np.mean([v for vs in vad.values() for v in vs])), 4)
        out["polarity_by_kind_vader"] = {k: round(float(np.mean(v)), 4) for k, v in sorted(vad.items())}
    return out


def ngram_overlap(eval_texts: Sequence[str], train_texts: Sequence[str], n: int = 4) -> dict:
    """Share of the eval lines' word n-grams that also occur in the training text, and lines sharing any."""
    def grams(text: str) -> set[tuple[str, ...]]:
        w = _words(text)
        return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}

    train = set().union(*(grams(t) for t in train_texts)) if train_texts else set()
    per_line = [grams(t) for t in eval_texts]
    total = sum(len(g) for g in per_line)
    shared = sum(len(g & train) for g in per_line)
    return {f"ngram{n}_shared": round(shared / max(total, 1), 4), f"lines_sharing_ngram{n}": sum(bool(g & train) for g in per_line)}
