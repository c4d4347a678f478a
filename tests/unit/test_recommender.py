"""Recommender behaviours on a small synthetic catalog with real counts (no model)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from profile_factory import make_cluster, make_profile

from interest_bot.memory.catalog import ArrayCatalog, CatalogArrays
from interest_bot.memory.counts import CountStore
from interest_bot.plugins.interest.ranking.recommender import Recommender, RecommenderConfig

CATS = ["Action", "Comedy", "Drama", "Horror", "Sci-Fi"]


class FakeCatalog(ArrayCatalog):
    """Row-aligned arrays like memory.catalog.CatalogArrays: 10 items per category, embeddings clustered by category."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        centers = rng.normal(size=(len(CATS), 16))
        ids, titles, cats, vecs, pop = [], [], [], [], []
        for c, cat in enumerate(CATS):
            for j in range(10):
                ids.append(str(c * 10 + j))
                titles.append(f"{cat} Movie {j}")
                cats.append([cat])
                vecs.append(centers[c] + 0.3 * rng.normal(size=16))
                pop.append(float(100 - 10 * c - j))  # Action is the most popular category
        E = np.asarray(vecs, np.float32)
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        qids = [f"t:{i}" for i in ids]
        self.arrays = CatalogArrays(
            name="t", texts=[""] * len(ids),
            ids=ids, qids=qids, titles=titles, categories=cats, popularity=np.asarray(pop, np.float32), embeddings=E,
            metadata=[{} for _ in ids], row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
        )
        super().__init__(self.arrays)



def profile(n_signals=0, categories=None, positive=(), negative=(), recent=()):
    return make_profile(n_signals, categories, positive, negative, recent)


def cluster(vec, texts=("I love it",), weight=1.0):
    return make_cluster(vec, texts, weight)


@pytest.fixture
def cat() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def counts(tmp_path: Path) -> CountStore:
    s = CountStore.open(tmp_path / "c.db")
    # Many users watch Drama 0 then Drama 5; some watch Comedy 1 then Sci-Fi 3.
    ev = []
    for u in range(20):
        ev += [(f"s{u}", "t:20", 1, f"{u}a"), (f"s{u}", "t:25", 2, f"{u}b")]
    for u in range(5):
        ev += [(f"c{u}", "t:11", 1, f"c{u}a"), (f"c{u}", "t:43", 2, f"c{u}b")]
    s.add_events(ev)
    return s


def test_cold_start_gives_k_popular_diverse_items(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    out = rec.recommend(profile(), k=10)
    assert len(out) == 10
    assert len({c for r in out for c in r.categories}) >= 3
    assert any("popular" in reason for reason in out[0].reasons)
    assert Recommender.needs_interests(profile())
    assert rec.popularity_weight(0) > rec.popularity_weight(3) > rec.popularity_weight(10)


def test_mmr_raises_category_coverage(cat: FakeCatalog, counts: CountStore) -> None:
    plain = Recommender(cat, counts, RecommenderConfig(mmr_lambda=1.0, cold_mmr_lambda=1.0)).recommend(profile(), k=10)
    mmr = Recommender(cat, counts).recommend(profile(), k=10)
    cov = lambda rs: len({c for r in rs for c in r.categories})  # noqa: E731
    assert cov(mmr) > cov(plain)


def test_one_signal_changes_the_next_recommendations(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    before = [r.item_id for r in rec.recommend(profile(), k=5)]
    after = rec.recommend(profile(n_signals=1, recent=[("t:20", 1.0)]), k=5)
    assert [r.item_id for r in after] != before
    assert after[0].item_id == "t:25"  # what follows Drama 0 for 20 people
    assert any("went on to this (20 times)" in x for x in after[0].reasons)


def test_reasons_point_at_real_counts_and_signals(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    horror = cat.arrays.embeddings[30]
    out = rec.recommend(profile(n_signals=2, recent=[("t:11", 1.0)], positive=[cluster(horror, texts=["I adore creepy films"])]), k=10)
    for r in out:
        for reason in r.reasons:
            if "went on to this" in reason:
                n = int(reason.split("(")[1].split(" ")[0])
                assert counts.follow("t:11", r.item_id)[1] == n
            if reason.startswith("because you said"):
                assert "'I adore creepy films'" in reason
    assert any(r.reasons and r.reasons[0].startswith("because you said") for r in out)


def test_disliked_category_is_absent_while_alternatives_exist(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    out = rec.recommend(profile(n_signals=3, categories={"Action": -0.9, "Comedy": 0.5}), k=10)
    assert all("Action" not in r.categories for r in out)
    assert any("Comedy" in r.categories for r in out)


def test_items_near_a_disliked_item_sink(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    neg = cluster(cat.arrays.embeddings[0])
    out = rec.recommend(profile(n_signals=1, negative=[neg]), k=10)
    assert all("Action" not in r.categories for r in out)


def test_seen_and_excluded_items_never_appear(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    seen = [("t:0", 1.0), ("t:1", 0.0), ("t:2", -1.0)]  # liked, watched (neutral), disliked
    out = rec.recommend(profile(n_signals=3, recent=seen), k=50, exclude=["t:3", "4"])
    ids = {r.item_id for r in out}
    assert not ids & {"t:0", "t:1", "t:2", "t:3", "t:4"}
    assert len(out) == 45


def test_equal_input_gives_equal_output(cat: FakeCatalog, counts: CountStore) -> None:
    p = profile(n_signals=2, categories={"Drama": 0.4}, recent=[("t:20", 1.0)], positive=[cluster(cat.arrays.embeddings[40])])
    a = Recommender(cat, counts).recommend(p, k=10)
    b = Recommender(cat, counts).recommend(p, k=10)
    assert a == b


def test_link_titles(cat: FakeCatalog, counts: CountStore) -> None:
    rec = Recommender(cat, counts)
    assert rec.link_titles("I just watched Horror Movie 3 and loved it") == ["33"]


def test_mention_vote_weighs_items_named_in_chat_against_feedback(cat: FakeCatalog, counts: CountStore) -> None:
    p = profile(n_signals=2, recent=[("t:20", 0.0), ("t:11", 1.0)])
    p.recent_items[0].source = "item"  # Drama 0 was named in chat; Comedy 1 was given feedback
    base = RecommenderConfig(content=0.0, category=0.0, popularity=0.0, mmr_lambda=1.0)

    def order(mention_vote: float) -> list[str]:
        out = Recommender(cat, counts, replace(base, mention_vote=mention_vote)).recommend(p, k=5)
        return [r.item_id for r in out if r.item_id in ("t:25", "t:43")]

    assert order(1.0) == ["t:25", "t:43"]  # Drama 5 follows Drama 0 for 20 users, Sci-Fi 3 follows Comedy 1 for 5
    assert order(0.01) == ["t:43", "t:25"]
