"""The causal replay never lets a held-out interaction into any state before it is scored."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.ml100k import load_items, load_ratings, split  # noqa: E402
from bench.recsys import run_causal  # noqa: E402


class SpyBackend:
    """Remembers what it was fed; checks at scoring time that the held-out item is not among it."""

    def __init__(self, held: dict) -> None:
        self.fed: set[tuple[str, int]] = set()
        self.held = held
        self.scored = 0
        self.leaks = 0

    def feed(self, events) -> None:  # noqa: ANN001
        for r in events:
            self.fed.add((r.user, r.row))

    def scores(self, user: str, universe: list[str]) -> np.ndarray:
        for row in self.held[user]:
            if (user, row) in self.fed and row == self.next_row[user]:
                self.leaks += 1
        self.scored += 1
        return np.zeros(len(universe))


def test_causal_replay_scores_before_learning() -> None:
    ratings = load_ratings()
    sp = split(ratings)
    held = {u: [sp.valid[u].row, sp.test[u].row] for u in sp.train}
    spy = SpyBackend(held)
    # The next held-out row each user will be scored on: valid first, then test.
    spy.next_row = {u: sp.valid[u].row for u in sp.train}
    original = spy.scores

    def scores(user: str, universe: list[str]) -> np.ndarray:
        out = original(user, universe)
        assert (user, spy.next_row[user]) not in spy.fed
        spy.next_row[user] = sp.test[user].row
        return out

    spy.scores = scores
    universe = sorted(load_items(), key=int)
    mv, mt, _ = run_causal(spy, sp, ratings, universe, set(sp.train))
    assert spy.scored == 2 * 943 and mv.n == mt.n == 943
    assert spy.leaks == 0
    assert len(spy.fed) == len(ratings)  # and everything is learned afterwards
