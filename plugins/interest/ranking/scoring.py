"""Sequential-rules scoring over the count store: items that follow or precede the user's recent items."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interest_bot.memory.counts import CountStore

from .config import SequentialConfig as SequentialConfig  # re-exported beside the scorer that reads it


def sparse_sequential_scores(
    counts: CountStore, recent_items: Sequence[str], cfg: SequentialConfig = SequentialConfig(), weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, scores) in the store's item index, indices ascending, for a user whose items are `recent_items`
    (newest first): only items some recent item's neighbour lists name, so the cost is bounded by recent x M.
    `weights` (one per recent item, default 1) scale each item's vote.

    Each recent item votes through its top-M followers and predecessors (the store's neighbour lists); with
    lists no longer than M this is exactly the full follow matrix's w @ F[r] + backward * F[:, r] @ w; with
    `second_hop`, the best-scored items then vote the same way, each weighted by its share of the best score."""
    pop, index, ids = counts.popularity_view()
    votes: list[tuple[np.ndarray, np.ndarray]] = []

    def vote(item: str, w: float) -> None:
        for nb, f in ((counts.neighbours(item, "out"), w), (counts.neighbours(item, "in"), cfg.backward * w)):
            known = nb.idx < len(pop)  # an item another process created after `pop` was taken: not scorable yet
            votes.append((nb.idx[known], f * nb.w[known]))

    for k, item in enumerate(recent_items[: cfg.recent]):
        i = index.get(item)
        if i is not None:
            vote(item, cfg.recency_decay**k / (pop[i] + 1.0) ** cfg.source_norm * (1.0 if weights is None else weights[k]))
    if not votes:
        return np.zeros(0, np.int64), np.zeros(0)
    if cfg.second_hop:
        # Sparse counts name few direct neighbours: the best of them vote too, scaled by their own first-step score.
        idx, first = _sum_votes(votes)
        best = np.argsort(-first, kind="stable")[: cfg.second_hop_sources]
        top = float(first[best[0]]) if len(best) else 0.0
        for b in best:
            source = ids[int(idx[b])]
            if source is not None and top > 0:
                vote(source, cfg.second_hop * float(first[b]) / top / (pop[idx[b]] + 1.0) ** cfg.source_norm)
    idx, scores = _sum_votes(votes)
    return idx, scores / (pop[idx] + 1.0) ** cfg.target_norm


def _sum_votes(votes: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(item indices ascending, summed votes) over neighbour lists whose indices are unique within each list."""
    idx, where = np.unique(np.concatenate([v[0] for v in votes]), return_inverse=True)
    scores = np.zeros(len(idx), np.float64)
    start = 0
    for rows, values in votes:  # list by list, in order: each item's sum adds up exactly as a dense vector's would
        scores[where[start : start + len(rows)]] += values  # indices are unique within a list
        start += len(rows)
    return idx, scores


def sequential_scores(counts: CountStore, recent_items: Sequence[str], cfg: SequentialConfig = SequentialConfig()) -> tuple[np.ndarray, list[str | None]]:
    """The same scores as a dense vector over the store's item index (index 0 unused), with the index's item ids."""
    pop, _, ids = counts.popularity_view()
    idx, values = sparse_sequential_scores(counts, recent_items, cfg)
    scores = np.zeros(len(pop), np.float64)
    scores[idx] = values
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
