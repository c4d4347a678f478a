"""The causal replay never lets a held-out interaction into any state before it is scored."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.ml100k import load_items, load_ratings, split
from bench.recsys import run_causal


class SpyBackend:
    """Remembers what it was fed; checks at scoring time that the held-out item is not among it."""

    def __init__(self, held: dict) -> None:
        self.fed: set[tuple[str, int]] = set()
        self.held = held
        self.scored = 0
        self.leaks = 0
        self.next_row: dict[str, int] = {}  # set by the test: the held-out row each user is scored on next

    def feed(self, events) -> None:
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

    spy.scores = scores  # type: ignore[method-assign]  # the fake's scoring, wrapped with the test's own check
    universe = sorted(load_items(), key=int)
    mv, mt, _ = run_causal(spy, sp, ratings, universe, set(sp.train))
    assert spy.scored == 2 * 943 and mv.n == mt.n == 943
    assert spy.leaks == 0
    assert len(spy.fed) == len(ratings)  # and everything is learned afterwards


def test_chat_replay_sentences_are_natural_and_seeded() -> None:
    import random

    from bench.plugin_replay import chat_users, natural_title, sentence

    assert natural_title("Godfather, The (1972)") == "The Godfather"
    assert natural_title("Toy Story (1995)") == "Toy Story"
    a = [sentence("Toy Story (1995)", ["Animation", "Children's"], random.Random(f"0:1:{i}")) for i in range(20)]
    b = [sentence("Toy Story (1995)", ["Animation", "Children's"], random.Random(f"0:1:{i}")) for i in range(20)]
    assert a == b and all("Toy Story" in s and "(1995)" not in s for s in a) and len(set(a)) >= 4
    users = [str(u) for u in range(1, 944)]
    assert chat_users(users, 30) == chat_users(users, 30) and len(chat_users(users, 30)) == 30


def test_plugin_causal_replay_scores_before_feeding() -> None:
    """The plugin replay's batching: every event before a held-out point is fed, the held-out one only after it."""
    from bench.plugin_replay import run_causal as plugin_causal

    ratings = load_ratings()
    sp = split(ratings)
    keep = set(sorted(sp.train, key=int)[:30])
    events = [r for r in ratings if r.user in keep]
    fed: list[tuple[str, int]] = []
    by_key = {(qid_user, r.row): r for r in events for qid_user in [r.user]}

    class Spy:
        def feedback_many(self, batch) -> None:
            fed.extend((u, next(r.row for r in events if r.user == u and f"movielens-100k:{r.item}" == i)) for u, i, _, _ in batch)

        def recommend(self, user: str, k: int = 10) -> list:
            return []

    test_rows = {(r.user, r.row) for r in sp.test.values()}
    seen_at_score: list[int] = []

    def before(r) -> None:
        done = set(fed)
        assert (r.user, r.row) not in done
        earlier = [x for x in events if (x.ts, x.row) < (r.ts, r.row) and (x.user, x.row) not in test_rows]
        assert all((x.user, x.row) in done for x in earlier)
        assert not any((x.ts, x.row) > (r.ts, r.row) for x in (by_key[k] for k in done))
        seen_at_score.append(len(done))

    mv, mt, _, _ = plugin_causal(Spy(), sp, events, keep, before_score=before, skip_feed=test_rows)
    assert mv.n == mt.n == 30 and len(seen_at_score) == 60
    assert set(fed) == {(r.user, r.row) for r in events} - test_rows
