"""Series stems from titles, and the recommender's series blend on a small catalog (no model)."""

from __future__ import annotations

import numpy as np
import pytest
from profile_factory import make_profile

from interest_bot.memory.catalog import ArrayCatalog, CatalogArrays
from interest_bot.plugins.interest.ranking.config import CandidateConfig
from interest_bot.plugins.interest.ranking.recommender import Recommender, RecommenderConfig
from interest_bot.plugins.interest.ranking.series import SeriesIndex, series_key


@pytest.mark.parametrize(
    "a, b",
    [
        ("Police Academy", "Police Academy 2: Their First Assignment"),
        ("The Hobbit: An Unexpected Journey", "The Hobbit: The Desolation of Smaug"),
        ("Kill Bill: Volume 1", "Kill Bill: Volume 2"),
        ("Scary Movie", "Scary Movie 4"),
        ("Rocky", "Rocky III"),
        ("Toy Story (1995)", "Toy Story 3"),
        ("Harry Potter and the Chamber of Secrets", "Harry Potter and the Goblet of Fire"),
    ],
)
def test_siblings_share_a_stem(a: str, b: str) -> None:
    assert series_key(a) is not None and series_key(a) == series_key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("The Man Who Knew Too Much", "The Man Who Wasn't There"),
        ("Night of the Living Dead", "Night of the Creeps"),
        ("Alien", "Aliens in the Attic"),
        ("Heat", "Heathers"),
    ],
)
def test_unrelated_titles_do_not(a: str, b: str) -> None:
    assert series_key(a) != series_key(b)


def test_accents_fold_and_any_script_has_words() -> None:
    assert series_key("Amélie") == series_key("Amelie") == "amelie"
    assert series_key("Léon: The Professional") == "leon"
    assert series_key("千と千尋の神隠し") is not None


def test_a_title_of_filler_words_has_no_stem() -> None:
    assert series_key("It") is None
    assert series_key("") is None


def test_index_marks_the_rows_of_the_given_titles_series() -> None:
    index = SeriesIndex(["Scary Movie", "Scary Movie 4", "Heat", "It", "Rocky II"])
    assert index.same_series(["Scary Movie 3"]).tolist() == [True, True, False, False, False]
    assert index.same_series(["Rocky", "Heat"]).tolist() == [False, False, True, False, True]
    assert not index.same_series(["It", "Unknown Film"]).any()  # no stem, or a stem no row has


TITLES = ["Police Academy", "Police Academy 2: Their First Assignment", "Heat", "Alien", "Fargo", "Casablanca", "Vertigo", "Jaws"]


class SmallCatalog(ArrayCatalog):
    """Eight films with unrelated embeddings; the sequel is the least popular."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        E = rng.normal(size=(len(TITLES), 16)).astype(np.float32)
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        ids = [str(i) for i in range(len(TITLES))]
        qids = [f"s:{i}" for i in ids]
        pop = np.asarray([50.0, 1.0, 90, 80, 70, 60, 40, 30], np.float32)
        super().__init__(
            CatalogArrays(
                name="s", texts=[""] * len(ids), ids=ids, qids=qids, titles=list(TITLES), categories=[["Comedy"]] * len(ids), popularity=pop, embeddings=E,
                metadata=[{} for _ in ids], row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
            )
        )


@pytest.mark.parametrize("weight, sequel_first", [(0.0, False), (0.5, True)])
def test_a_liked_films_sequel_rises_with_its_reason(weight: float, sequel_first: bool) -> None:
    rec = Recommender(SmallCatalog(), None, RecommenderConfig(series=weight, popularity=0.6, mmr_lambda=1.0))
    out = rec.recommend(make_profile(n_signals=1, recent=[("s:0", 1.0)]), k=3)
    assert "s:0" not in [r.item_id for r in out]  # the liked film itself is never suggested back
    assert (out[0].item_id == "s:1") is sequel_first, [r.title for r in out]
    if sequel_first:
        assert "from the same series as Police Academy" in out[0].reasons


def test_a_large_catalogs_candidates_include_the_series() -> None:
    # Ranked through candidates (whole_catalog below the catalog's size) with only the two most popular items as
    # candidates: the least popular sequel is ranked only because the series adds it.
    candidates = CandidateConfig(whole_catalog=3, popular=2, per_category=0, collaborative=0, per_cluster=0, uptake=0)
    on = Recommender(SmallCatalog(), None, RecommenderConfig(series=0.5, popularity=0.6, mmr_lambda=1.0, candidates=candidates))
    off = Recommender(SmallCatalog(), None, RecommenderConfig(series=0.0, popularity=0.6, mmr_lambda=1.0, candidates=candidates))
    liked = make_profile(n_signals=1, recent=[("s:0", 1.0)])
    assert [r.item_id for r in on.recommend(liked, k=3)][0] == "s:1"
    assert "s:1" not in [r.item_id for r in off.recommend(liked, k=3)]
