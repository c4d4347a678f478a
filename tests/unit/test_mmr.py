"""The diversity re-ranking picks exactly what the quadratic reference picks."""

import numpy as np

from interest_bot.plugins.interest.ranking.recommender import best_rows, mmr_order


def _reference(rel: dict[int, float], E: np.ndarray, pool: list[int], k: int, lam: float) -> list[int]:
    """The former implementation: max over the pool with pool.index as the tie-break (O(k * pool^2))."""
    pool = list(pool)
    chosen: list[int] = []
    sim_max = {r: 0.0 for r in pool}
    while pool and len(chosen) < k:
        best = max(pool, key=lambda r: (lam * rel[r] - (1 - lam) * sim_max[r], -pool.index(r)))
        chosen.append(best)
        pool.remove(best)
        if pool:
            for r, v in zip(pool, E[pool] @ E[best]):
                sim_max[r] = max(sim_max[r], float(v))
    return chosen


def test_mmr_matches_the_reference_on_random_pools() -> None:
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(5, 120))
        E = rng.normal(size=(n, 8)).astype(np.float32)
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        pool = rng.permutation(n)[: int(rng.integers(1, n + 1))].tolist()
        score = rng.random(n).round(1)  # rounded: ties happen and must break the same way
        s = score[pool]
        span = max(float(s.max() - s.min()), 1e-9)
        rel = {r: (score[r] - s.min()) / span for r in pool}
        k = int(rng.integers(1, len(pool) + 3))
        lam = float(rng.choice([0.0, 0.5, 0.85]))
        assert mmr_order(score, E, pool, k, lam) == _reference(rel, E, pool, k, lam), trial


def test_best_rows_match_a_full_sort_with_ties() -> None:
    rng = np.random.default_rng(5)
    for trial in range(50):
        n = int(rng.integers(1, 300))
        score = rng.random(n).round(1)  # many ties: the qid rank must break them as a full sort would
        banned = rng.random(n) < 0.2
        qid_rank = rng.permutation(n)
        want_n = int(rng.integers(1, n + 5))
        rows = [r for r in range(n) if not banned[r]]
        reference = sorted(rows, key=lambda r: (-score[r], qid_rank[r]))[:want_n]
        assert best_rows(score, banned, qid_rank, want_n).tolist() == reference, trial


def test_best_rows_put_nan_scores_last_as_a_full_sort_does() -> None:
    score = np.array([np.nan, np.nan, 1.0, 0.5])
    got = best_rows(score, np.zeros(4, bool), np.arange(4), 3)
    assert got[:2].tolist() == [2, 3] and len(got) == 3
