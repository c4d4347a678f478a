"""Candidate generation: a large catalog is ranked from bounded sources, never read whole, and ranks like the whole."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from profile_factory import make_cluster, make_profile

from interest_bot.memory.catalog import ArrayCatalog, CatalogArrays, ItemRows
from interest_bot.memory.counts import CountStore
from interest_bot.memory.profile import CategoryScore, Profile
from interest_bot.plugins.interest.ranking.recommender import CandidateConfig, Recommender, RecommenderConfig

CATS = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"]
N, CLUSTERS, DIM = 3000, 30, 24


class CountingCatalog(ArrayCatalog):
    """An in-process catalog that refuses whole reads and counts the rows asked for."""

    def __init__(self, arrays: CatalogArrays) -> None:
        super().__init__(arrays)
        self.asked: list[int] = []
        self.whole_reads = 0

    def items(self) -> CatalogArrays:
        self.whole_reads += 1
        return super().items()

    def rows(self, item_ids: Sequence[str]) -> ItemRows:
        self.asked.append(len(item_ids))
        return super().rows(item_ids)


def synthetic(seed: int = 0) -> tuple[CatalogArrays, np.ndarray]:
    """Items in clusters (embedding near its cluster centre, categories by cluster), Zipf-like popularity."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, DIM))
    cluster = rng.integers(0, CLUSTERS, N)
    E = (centres[cluster] + 0.6 * rng.normal(size=(N, DIM))).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    ids = [str(i) for i in range(N)]
    qids = [f"big:{i}" for i in ids]
    cats = [[CATS[c % len(CATS)], CATS[(c // len(CATS)) % len(CATS)]] for c in cluster]
    pop = (1000.0 / (1 + rng.permutation(N))).astype(np.float32)
    arrays = CatalogArrays(
        name="big", ids=ids, qids=qids, titles=[f"Film {i}" for i in ids], texts=[""] * N, categories=cats, popularity=pop,
        embeddings=E, metadata=[{"year": 2000} for _ in ids], row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
    )
    return arrays, cluster


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    arrays, cluster = synthetic()
    rng = np.random.default_rng(1)
    store = CountStore.open(Path(tmp_path_factory.mktemp("c")) / "c.db")
    events = []
    for u in range(300):  # sessions inside one cluster, more popular items more often
        members = np.flatnonzero(cluster == rng.integers(0, CLUSTERS))
        p = arrays.popularity[members] / arrays.popularity[members].sum()
        for t, item in enumerate(rng.choice(members, size=12, p=p)):
            events.append((f"u{u}", f"big:{item}", float(t), f"u{u}-{t}"))
    store.add_events(events)
    return arrays, cluster, store


def profiles(arrays: CatalogArrays, cluster: np.ndarray, store: CountStore, n: int = 40) -> list[Profile]:
    """Users with recent items from the store, an interest cluster near them, and liked categories."""
    out = []
    for u in range(n):
        recent = store.user_items(f"u{u}")[:6]
        rows = [arrays.row[q] for q in recent]
        centroid = arrays.embeddings[rows].mean(0)
        cats = {c: 0.5 for r in rows[:2] for c in arrays.categories[r]}
        cl = make_cluster(centroid, ["I like these"], categories=cats)
        out.append(make_profile(len(recent), cats, [cl], [], [(q, 1.0) for q in recent]))
    return out


def test_a_large_catalog_is_ranked_from_bounded_candidates_without_a_whole_read(world) -> None:
    arrays, cluster, store = world
    catalog = CountingCatalog(arrays)
    config = RecommenderConfig(candidates=CandidateConfig(whole_catalog=1000))
    rec = Recommender(catalog, store, config)
    cc = config.candidates
    bound = cc.collaborative + cc.per_cluster + cc.popular + cc.categories * cc.per_category  # one interest cluster
    for p in profiles(arrays, cluster, store, 10):
        out = rec.recommend(p, k=10)
        assert len(out) == 10 and len({r.item_id for r in out}) == 10
        assert not {r.item_id for r in out} & p.seen_items
    assert catalog.whole_reads == 0
    assert max(catalog.asked) <= bound < N


def test_candidates_rank_like_the_whole_catalog(world) -> None:
    arrays, cluster, store = world
    whole = Recommender(ArrayCatalog(arrays), store, RecommenderConfig(candidates=CandidateConfig(whole_catalog=N)))
    cand = Recommender(ArrayCatalog(arrays), store, RecommenderConfig(candidates=CandidateConfig(whole_catalog=0)))
    same = total = 0
    for p in profiles(arrays, cluster, store):
        a = [r.item_id for r in whole.recommend(p, k=10)]
        b = [r.item_id for r in cand.recommend(p, k=10)]
        same += len(set(a) & set(b))
        total += len(a)
    assert same / total >= 0.95


def test_candidate_ranking_keeps_exclusions_and_dislikes(world) -> None:
    arrays, cluster, store = world
    rec = Recommender(ArrayCatalog(arrays), store, RecommenderConfig(candidates=CandidateConfig(whole_catalog=0)))
    p = profiles(arrays, cluster, store, 1)[0]
    first = [r.item_id for r in rec.recommend(p, k=10)]
    again = [r.item_id for r in rec.recommend(p, k=10, exclude=first[:5])]
    assert not set(first[:5]) & set(again)
    hated = arrays.categories[arrays.row[first[0]]][0]
    p.categories = {**p.categories, hated: CategoryScore(-1.0, -1.0, -1.0)}
    assert all(hated not in r.categories for r in rec.recommend(p, k=10))
