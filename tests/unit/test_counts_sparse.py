"""Sparse counts: equal to a dense reference, exact top-M neighbour lists, exact forget, bounded caches, v1 upgrade."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from interest_bot.memory.counts import CountConfig, CountEvent, CountStore
from interest_bot.memory.impressions import ImpressionStore
from interest_bot.plugins.interest.ranking.scoring import SequentialConfig, sequential_scores, sparse_sequential_scores

FIXTURE = Path(__file__).parent / "data" / "counts_v1.sqlite"  # written by the dense-mirror CountStore (schema 1)


def _events(n_users: int = 8, n_items: int = 25, per_user: int = 30, seed: int = 1) -> list[CountEvent]:
    rng = random.Random(seed)
    return [
        CountEvent(f"u{u}", f"c:{rng.randrange(n_items)}", 1000.0 + 10 * k + u, f"e{u}-{k}", rng.random() > 0.15)
        for u in range(n_users)
        for k in range(per_user)
    ]


def _dense(events: list[CountEvent], cfg: CountConfig) -> dict[tuple[str, str], tuple[float, int]]:
    """The follow matrix computed the obvious way: every user's positive sequence, pairs within the window."""
    seqs: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for k, e in enumerate(sorted(events, key=lambda e: e.ts)):
        if e.positive:
            seqs[e.user_id].append((e.ts, k, e.item_id))
    out: dict[tuple[str, str], list] = defaultdict(lambda: [0.0, 0])
    for seq in seqs.values():
        items = [i for _, _, i in sorted(seq)]
        for j, b in enumerate(items):
            for d in range(1, cfg.window + 1):
                if j - d >= 0 and items[j - d] != b:
                    out[(items[j - d], b)][0] += cfg.weight(d)
                    out[(items[j - d], b)][1] += 1
    return {k: (w, n) for k, (w, n) in out.items()}


def _lists(s: CountStore) -> dict:
    """Every item's neighbour lists as plain tuples (exact integer weights)."""
    _, index, _ = s.popularity_view()
    return {(item, d): (tuple(s._ids[i] for i in nb.idx), tuple(nb.wq.tolist()), tuple(nb.n.tolist()))
            for item in sorted(index) for d in ("out", "in") for nb in [s.neighbours(item, d)]}


def test_counts_equal_a_dense_reference(tmp_path: Path) -> None:
    ev = _events()
    cfg = CountConfig(window=5)
    s = CountStore.open(tmp_path / "c.db", cfg)
    for e in ev[:100]:
        s.add_event(*e)
    s.add_events(ev[100:])
    ref = _dense(ev, cfg)
    snap = s.snapshot()["follow"]
    assert set(snap) == set(ref)
    for key, (w, n) in ref.items():
        assert snap[key][1] == n and s.follow(*key)[1] == n
        assert snap[key][0] == pytest.approx(w, rel=1e-9)


def test_scores_equal_the_dense_formula_when_lists_hold_every_neighbour(tmp_path: Path) -> None:
    ev = _events()
    cfg = CountConfig(window=5, neighbours=1000)
    s = CountStore.open(tmp_path / "c.db", cfg)
    s.add_events(ev)
    pop, index, ids = s.popularity_view()
    F = np.zeros((len(ids), len(ids)))
    for (a, b), (w, _) in s.snapshot()["follow"].items():
        F[index[a], index[b]] = w
    seq = SequentialConfig()
    for user in ("u0", "u3", "u7"):
        recent = s.user_items(user)
        rows = [index[i] for i in recent[: seq.recent]]
        w = np.array([seq.recency_decay**k / (pop[i] + 1.0) ** seq.source_norm for k, i in enumerate(rows)])
        want = (w @ F[rows] + seq.backward * (F[:, rows] @ w)) / (pop + 1.0) ** seq.target_norm
        got, _ = sequential_scores(s, recent, seq)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_the_second_step_equals_its_dense_formula(tmp_path: Path) -> None:
    """The best first-step items vote in turn, scaled by their share of the best first-step score."""
    s = CountStore.open(tmp_path / "c.db", CountConfig(window=5, neighbours=1000))
    s.add_events(_events())
    pop, index, ids = s.popularity_view()
    F = np.zeros((len(ids), len(ids)))
    for (a, b), (w, _) in s.snapshot()["follow"].items():
        F[index[a], index[b]] = w
    seq = SequentialConfig(second_hop=0.5, second_hop_sources=3)
    for user in ("u0", "u3"):
        recent = s.user_items(user)
        rows = [index[i] for i in recent[: seq.recent]]
        w = np.array([seq.recency_decay**k / (pop[i] + 1.0) ** seq.source_norm for k, i in enumerate(rows)])
        first = w @ F[rows] + seq.backward * (F[:, rows] @ w)
        best = np.argsort(-first, kind="stable")[: seq.second_hop_sources]
        v = np.zeros(len(ids))
        v[best] = seq.second_hop * first[best] / first[best[0]] / (pop[best] + 1.0) ** seq.source_norm
        want = (first + v @ F + seq.backward * (F @ v)) / (pop + 1.0) ** seq.target_norm
        got, _ = sequential_scores(s, recent, seq)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)



def test_the_second_step_reaches_what_followed_the_followers(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db", CountConfig(window=2))
    s.add_events([("x", "a", 1.0, "e1"), ("x", "b", 2.0, "e2"), ("y", "b", 3.0, "e3"), ("y", "c", 4.0, "e4")])
    _, index, _ = s.popularity_view()
    plain, _ = sequential_scores(s, ["a"], SequentialConfig(backward=0.0))
    two, _ = sequential_scores(s, ["a"], SequentialConfig(backward=0.0, second_hop=0.5))
    assert plain[index["c"]] == 0 and 0 < two[index["c"]] < two[index["b"]]


def test_neighbour_lists_are_the_top_m_of_the_pairs_whether_cached_or_read(tmp_path: Path) -> None:
    ev = _events(n_items=15)
    cfg = CountConfig(window=4, neighbours=3)
    hot = CountStore.open(tmp_path / "hot.db", cfg)
    for k in range(0, len(ev), 7):
        hot.add_events(ev[k : k + 7])
        _lists(hot)  # keep every list cached, so later writes merge into them
    hot.add_event("u1", "c:3", 1001.5, "late")  # a late event lowers some pairs: those lists are read again
    cold = CountStore.open(tmp_path / "hot.db", cfg)
    assert _lists(hot) == _lists(cold)
    # And both are the top 3 of the stored pairs by weight, ties to the lower item index.
    _, index, _ = cold.popularity_view()
    snap = cold.snapshot()["follow"]
    for item in index:
        row = sorted(((-w, index[b], b) for (a, b), (w, _) in snap.items() if a == item))[:3]
        assert list(_lists(cold)[(item, "out")][0]) == [b for _, _, b in row]


def test_record_then_forget_gives_back_exactly_the_state_before(tmp_path: Path) -> None:
    ev = _events()
    s = CountStore.open(tmp_path / "c.db", CountConfig(window=6, neighbours=4))
    s.add_events(ev)
    before, lists_before, pop_before = s.snapshot(), _lists(s), s.popularity_view()[0].copy()
    newcomer = [CountEvent("new", f"c:{i}", 2000.0 + k, f"n{k}") for k, i in enumerate([3, 5, 3, 9, 1, 5, 2])]
    s.add_events(newcomer[:4])
    s.add_event(*newcomer[4])
    s.add_events(newcomer[5:])
    s.add_event("new", "c:7", 2000.5, "n-late")  # late: re-derives the newcomer's pairs
    s.add_event("new", "c:4", 2010.0, "n-neg", positive=False)
    assert s.snapshot() != before
    _lists(s)
    s.remove_user("new")
    assert s.snapshot() == before  # integer weights: equal, not approximately equal
    assert _lists(s) == lists_before
    np.testing.assert_array_equal(s.popularity_view()[0][: len(pop_before)], pop_before)
    assert _lists(CountStore.open(tmp_path / "c.db", CountConfig(window=6, neighbours=4))) == lists_before


def test_caches_stay_within_their_bounds(tmp_path: Path) -> None:
    cfg = CountConfig(window=3, list_cache=10, user_cache=4, user_tail=5)
    s = CountStore.open(tmp_path / "c.db", cfg)
    s.add_events(_events(n_users=20, n_items=40))
    for u in range(20):
        sequential_scores(s, s.user_items(f"u{u}"))
    assert s.cache_sizes()["lists"] <= 10 and s.cache_sizes()["users"] <= 4
    again = CountStore.open(tmp_path / "c.db", cfg)
    assert again.cache_sizes() == {"lists": 0, "users": 0}  # opening reads no user and no pair
    assert again.user_items("u3") == s.user_items("u3")  # longer than the cached tail: read from SQL
    assert again.user_items("u3", limit=2) == s.user_items("u3")[:2]


def test_another_writer_is_seen_by_cached_lists_after_catch_up(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    a, b = CountStore.open(path), CountStore.open(path)
    ev = _events()
    a.add_events(ev[:120])
    b.catch_up()
    _lists(b)
    a.add_events(ev[120:])
    b.catch_up()
    assert _lists(b) == _lists(a)
    assert b.popularity("c:3") == a.popularity("c:3")


def _fixture_events(path: Path) -> list[CountEvent]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT user_id, item_id, ts, event_id, positive FROM events ORDER BY seq").fetchall()
    return [CountEvent(u, i, ts, eid, bool(p)) for u, i, ts, eid, p in rows]


def test_a_store_written_by_the_dense_version_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        old = {(a, b): (w, n) for a, b, w, n in conn.execute(
            "SELECT ia.item_id, ib.item_id, w, n FROM follow JOIN items ia ON ia.idx = a JOIN items ib ON ib.idx = b")}
    calls: list[tuple[int, int]] = []
    s = CountStore.open(path, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0  # progress reported up to the last user
    snap = s.snapshot()
    assert {k: n for k, (_, n) in snap["follow"].items()} == {k: n for k, (_, n) in old.items()}
    for key, (w, _) in old.items():
        assert snap["follow"][key][0] == pytest.approx(w, rel=1e-9)
    # Exactly what a fresh store fed the same event log holds.
    fresh = CountStore.open(tmp_path / "fresh.sqlite")
    fresh.add_events(_fixture_events(path))
    assert snap["follow"] == fresh.snapshot()["follow"] and snap["popularity"] == fresh.snapshot()["popularity"]
    impressions = ImpressionStore.open(path)  # the same table, read by its own store
    assert impressions.click_through() == {"A": {"impressions": 2, "clicks": 0, "ctr": 0.0}}  # impressions kept
    impressions.close()
    s.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'follow'").fetchone() is None
    calls.clear()
    CountStore.open(path, progress=lambda done, total: calls.append((done, total))).close()
    assert calls == []  # upgraded once


def test_neighbours_naming_an_item_another_process_created_are_scored_safely(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    a, b = CountStore.open(path), CountStore.open(path)
    a.add_events([("u", "c:1", 1, "1"), ("u", "c:2", 2, "2")])
    b.catch_up()
    a.add_events([("v", "c:1", 3, "3"), ("v", "c:new", 4, "4")])  # b has not caught up: c:new is unknown to it
    s, ids = sequential_scores(b, ["c:1"])
    assert s[b.popularity_view()[1]["c:2"]] > 0
    assert "c:new" in [b._ids[i] for i in b.neighbours("c:1").idx]  # the list read taught b the new item


def test_a_write_that_rolls_back_leaves_no_trace_in_the_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The item index, popularity and user tails change before the commit: a rollback must not leave them changed
    (a retried write would then count a pair against a phantom tail)."""
    store = CountStore.open(tmp_path / "c.sqlite")
    store.add_events([CountEvent("alice", "x", 1.0, "a1"), CountEvent("alice", "y", 2.0, "a2")])
    real = store._apply

    def fail(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_apply", fail)
    with pytest.raises(sqlite3.OperationalError):
        store.add_events([CountEvent("bob", "x", 3.0, "b1"), CountEvent("bob", "y", 4.0, "b2"), CountEvent("bob", "z", 5.0, "b3")])
    monkeypatch.setattr(store, "_apply", real)
    assert store.popularity("x") == 1 and store.popularity("z") == 0 and store.user_items("bob") == []
    assert store.add_events([CountEvent("bob", "x", 3.0, "b1"), CountEvent("bob", "y", 4.0, "b2"), CountEvent("bob", "z", 5.0, "b3")]) == 3
    assert store.popularity("x") == 2 and store.follow("x", "y")[1] == 2 and store.follow("y", "x")[1] == 0
    assert store.user_items("bob") == ["z", "y", "x"]
    store.close()


def test_per_item_weights_scale_each_recent_items_vote(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db")
    s.add_events([("u", "c:1", 1, "1"), ("u", "c:2", 2, "2"), ("v", "c:3", 3, "3"), ("v", "c:4", 4, "4")])
    cfg = SequentialConfig(recency_decay=1.0, source_norm=0.0, target_norm=0.0)
    idx, plain = sparse_sequential_scores(s, ["c:1", "c:3"], cfg)
    got = dict(zip(idx.tolist(), plain.tolist()))
    idx2, weighted = sparse_sequential_scores(s, ["c:1", "c:3"], cfg, weights=[2.0, 0.5])
    index = s.popularity_view()[1]
    two, four = index["c:2"], index["c:4"]
    assert dict(zip(idx2.tolist(), weighted.tolist())) == pytest.approx({two: 2.0 * got[two], four: 0.5 * got[four]})
    s.close()
