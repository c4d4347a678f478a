"""Sequential-rules scoring over the count store: items that follow or precede the user's recent items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from interest_bot.memory.counts import CountStore


@dataclass(frozen=True)
class SequentialConfig:
    """Scoring knobs chosen on the ML-100k valid split (see bench/recsys.py)."""

    recent: int = 10  # how many of the user's latest items vote
    recency_decay: float = 0.8  # vote weight of the k-th most recent item: decay**k
    backward: float = 0.6  # weight of "precedes" relative to "follows"
    source_norm: float = 0.8  # divide a source item's votes by (pop+1)**source_norm: rare items say more
    target_norm: float = 0.35  # divide a candidate's score by (pop+1)**target_norm: damp the blockbusters


def sequential_scores(counts: CountStore, recent_items: Sequence[str], cfg: SequentialConfig = SequentialConfig()) -> tuple[np.ndarray, list[str | None]]:
    """Scores over the store's item index (index 0 unused) for a user whose items are `recent_items`, newest first.

    Each recent item votes through its top-M followers and predecessors (the store's neighbour lists); with
    lists no longer than M this is exactly the full follow matrix's w @ F[r] + backward * F[:, r] @ w."""
    pop, index, ids = counts.popularity_view()
    scores = np.zeros(len(pop), np.float64)
    voted = False
    for k, item in enumerate(recent_items[: cfg.recent]):
        i = index.get(item)
        if i is None:
            continue
        w = cfg.recency_decay**k / (pop[i] + 1.0) ** cfg.source_norm
        for nb, f in ((counts.neighbours(item, "out"), w), (counts.neighbours(item, "in"), cfg.backward * w)):
            known = nb.idx < len(scores)  # an item another process created after `pop` was taken: not scorable yet
            scores[nb.idx[known]] += f * nb.w[known]  # indices are unique within a list: plain fancy-index addition is exact
        voted = True
    if voted:
        scores = scores / (pop + 1.0) ** cfg.target_norm
    return scores, ids


def contributions(counts: CountStore, recent_items: Sequence[str], target: str, cfg: SequentialConfig = SequentialConfig()) -> list[tuple[str, int, int]]:
    """For an explanation: (recent item, times target followed it, times it followed target), strongest first."""
    out = []
    recent = list(recent_items[: cfg.recent])
    counted = counts.follow_counts(recent, target)  # one round trip for all of them: exact counts from SQL
    for item in recent:
        fwd, back = counted[item]
        if fwd or back:
            out.append((item, fwd, back))
    out.sort(key=lambda t: (-(t[1] + cfg.backward * t[2]), t[0]))
    return out
