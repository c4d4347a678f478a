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
    """Scores over the store's item index (index 0 unused) for a user whose items are `recent_items`, newest first."""
    F, pop, index, ids = counts.matrices()
    scores = np.zeros(F.shape[0], np.float64)
    rows: list[int] = []
    weights: list[float] = []
    for k, item in enumerate(recent_items[: cfg.recent]):
        i = index.get(item)
        if i is not None:
            rows.append(i)
            weights.append(cfg.recency_decay**k / (pop[i] + 1.0) ** cfg.source_norm)
    if rows:
        w = np.asarray(weights)
        r = np.asarray(rows)
        scores = w @ F[r] + cfg.backward * (F[:, r] @ w)
        scores = scores / (pop + 1.0) ** cfg.target_norm
    return scores, ids


def contributions(counts: CountStore, recent_items: Sequence[str], target: str, cfg: SequentialConfig = SequentialConfig()) -> list[tuple[str, int, int]]:
    """For an explanation: (recent item, times target followed it, times it followed target), strongest first."""
    out = []
    for item in recent_items[: cfg.recent]:
        _, fwd = counts.follow(item, target)
        _, back = counts.follow(target, item)
        if fwd or back:
            out.append((item, fwd, back))
    out.sort(key=lambda t: (-(t[1] + cfg.backward * t[2]), t[0]))
    return out
