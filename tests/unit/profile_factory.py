"""Real `memory.profile.Profile` objects for recommender tests (the recommender reads no other shape)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from interest_bot.memory.profile import CategoryScore, InterestCluster, Profile, RecentItem


def make_cluster(vec: np.ndarray, texts: Iterable[str] = ("I love it",), weight: float = 1.0, polarity: int = 1, categories: Iterable[str] = ()) -> InterestCluster:
    """One interest cluster around `vec`."""
    texts = list(texts)
    return InterestCluster(
        cluster_id="c", polarity=polarity, weight=weight, centroid=np.asarray(vec, np.float32), categories={c: 1.0 for c in categories},
        signal_ids=[f"e{i}" for i in range(len(texts))], texts=texts, n_signals=len(texts), last_ts=0.0,
    )


def make_profile(
    n_signals: int = 0, categories: Mapping[str, float] | None = None, positive: Iterable[InterestCluster] = (), negative: Iterable[InterestCluster] = (),
    recent: Iterable[tuple[str, float]] = (),
) -> Profile:
    """A profile with these category scores, clusters and (item id, polarity) recent items, newest first."""
    return Profile(
        user_id="u", categories={k: CategoryScore(short=v, long=v, score=v) for k, v in (categories or {}).items()},
        positive=list(positive), negative=[make_cluster(c.centroid, c.texts, c.weight, -1) for c in negative],
        recent_items=[RecentItem(item_id=i, polarity=p, ts=0.0, source="feedback", event_id="") for i, p in recent],
        n_signals=n_signals, last_update=None,
    )
