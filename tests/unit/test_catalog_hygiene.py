"""Catalog hygiene: placeholder titles, thin evidence and support, dislikes spread thin, reasons."""

from __future__ import annotations

import re

import numpy as np
from profile_factory import make_profile

from interest_bot.memory.catalog import ArrayCatalog, CatalogArrays
from interest_bot.memory.profile import Profile
from interest_bot.plugins.interest.ranking.recommender import Recommender, count_phrase, is_placeholder_title

CATS = ["Action", "Comedy", "Drama", "Musical"]


class JunkCatalog(ArrayCatalog):
    """ML-100k's failure case in small: an "unknown" item without categories, one-rating items, one well-rated musical."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        rows: list[tuple[str, list[str], float]] = [("unknown", [], 9.0)]  # the data set's placeholder: no title, no genre
        rows += [(f"Obscure {i}", [], 1.0) for i in range(5)]  # one rating each, no category
        rows += [(f"Hit {c} {i}", [c], float(300 - 20 * i)) for c in CATS for i in range(4)]
        # Not `titles`: that would hide ArrayCatalog.titles(), which the recommender calls to link titles.
        self.item_titles = [t for t, _, _ in rows]
        ids = [str(i) for i in range(len(rows))]
        E = rng.normal(size=(len(rows), 8)).astype(np.float32)
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        qids = [f"j:{i}" for i in ids]
        self.arrays = CatalogArrays(
            name="j", texts=[""] * len(ids),
            ids=ids, qids=qids, titles=self.item_titles, categories=[c for _, c, _ in rows], popularity=np.array([p for _, _, p in rows], np.float32),
            embeddings=E, metadata=[{} for _ in ids], row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
        )
        super().__init__(self.arrays)



def dislike_only(categories: dict[str, float]) -> Profile:
    """A profile after one disliking message: a soft classifier spreads a little dislike over every category."""
    return make_profile(n_signals=1, categories=categories)


def test_placeholder_titles_are_recognised() -> None:
    assert is_placeholder_title("unknown") and is_placeholder_title(" Unknown ") and is_placeholder_title("")
    assert not is_placeholder_title("Unknown Soldier") and not is_placeholder_title("It")


def test_dislike_only_profile_gets_supported_items_outside_the_disliked_category() -> None:
    cat = JunkCatalog()
    rec = Recommender(cat, None)
    profile = dislike_only({"Musical": -0.9, "Comedy": -0.05, "Drama": -0.04, "Action": -0.03})
    recs = rec.recommend(profile, k=8)
    titles = [r.title for r in recs]
    assert "unknown" not in titles
    assert not any(t.startswith("Obscure") for t in titles), titles  # one-rating items do not answer thin evidence
    assert all("Musical" not in r.categories for r in recs), titles
    assert all(cat.arrays.popularity[cat.arrays.row[r.item_id]] >= 20 for r in recs)


def test_placeholder_is_never_recommended_even_when_nothing_else_is_left() -> None:
    cat = JunkCatalog()
    recs = Recommender(cat, None).recommend(dislike_only({}), k=len(cat.item_titles))
    assert "unknown" not in [r.title for r in recs]
    assert len(recs) == len(cat.item_titles) - 1


def test_reasons_are_grammatical_and_true() -> None:
    assert count_phrase(1, "rating") == "1 rating" and count_phrase(12, "rating") == "12 ratings" and count_phrase(1200, "rating") == "1,200 ratings"
    cat = JunkCatalog()
    recs = Recommender(cat, None).recommend(dislike_only({}), k=len(cat.item_titles))
    for r in recs:
        text = " ".join(r.reasons)
        assert not re.search(r"\b1 ratings\b", text), text
        n = int(cat.arrays.popularity[cat.arrays.row[r.item_id]])
        assert count_phrase(n, "rating") in text, (r.title, text)
        if n < 20:
            assert "popular" not in text, (r.title, text)
