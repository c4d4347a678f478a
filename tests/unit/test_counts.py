"""CountStore: in-place updates, idempotency, exact removal, rebuild equality, persistence (impressions: test_impressions.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from interest_bot.memory.counts import CountConfig, CountEvent, CountStore


def _events(n_users: int = 6, n_items: int = 15, per_user: int = 12, seed: int = 0) -> list[CountEvent]:
    rng = random.Random(seed)
    out = []
    for u in range(n_users):
        for k in range(per_user):
            out.append(CountEvent(f"u{u}", f"c:{rng.randrange(n_items)}", 1000.0 + 10 * k + u, f"e{u}-{k}", rng.random() > 0.2))
    return sorted(out, key=lambda e: e.ts)


def _close(a: dict, b: dict) -> None:
    assert a["popularity"] == b["popularity"]
    assert set(a["follow"]) == set(b["follow"])
    for key, (w, n) in a["follow"].items():
        assert n == b["follow"][key][1]
        assert w == pytest.approx(b["follow"][key][0], abs=1e-9)


def test_follow_weights_and_popularity_for_one_sequence(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db", CountConfig(window=2, decay=1.0))
    for k, item in enumerate(["a", "b", "c"]):
        s.add_event("u", item, k, f"e{k}")
    assert s.follow("a", "b") == (1.0, 1)
    assert s.follow("a", "c") == (0.5, 1)  # distance 2 weighs 1/2
    assert s.follow("b", "a") == (0.0, 0)  # order kept: backward is read as the transpose
    assert s.popularity("b") == 1
    assert s.user_items("u") == ["c", "b", "a"]
    assert s.user_items("u", limit=1) == ["c"]


def test_window_limits_pairs(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db", CountConfig(window=1, decay=1.0))
    s.add_events([("u", "a", 1, "1"), ("u", "b", 2, "2"), ("u", "c", 3, "3")])
    assert s.follow("a", "c") == (0.0, 0)
    assert s.follow("b", "c") == (1.0, 1)


def test_negative_events_stay_out_of_counts(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db")
    s.add_event("u", "a", 1, "1")
    s.add_event("u", "bad", 2, "2", positive=False)
    s.add_event("u", "b", 3, "3")
    assert s.popularity("bad") == 0
    assert s.follow("a", "bad") == (0.0, 0)
    assert s.follow("a", "b")[1] == 1  # the negative does not sit between them
    assert s.user_items("u") == ["b", "a"]
    assert s.user_items("u", include_negative=True) == ["b", "bad", "a"]


def test_idempotent_per_event_id(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db")
    ev = _events()
    s.add_events(ev)
    before = s.snapshot()
    assert s.add_events(ev) == 0
    s.add_event(*ev[3])
    assert s.snapshot() == before


def test_incremental_equals_bulk_equals_rebuild(tmp_path: Path) -> None:
    ev = _events()
    one = CountStore.open(tmp_path / "one.db")
    for e in ev:
        one.add_event(*e)
    bulk = CountStore.open(tmp_path / "bulk.db")
    bulk.add_events(ev)
    _close(one.snapshot(), bulk.snapshot())
    bulk.add_events([CountEvent("zz", "c:1", 5000, "junk")])
    bulk.rebuild(ev)
    _close(one.snapshot(), bulk.snapshot())
    assert one.snapshot()["events"] == bulk.snapshot()["events"]


def test_late_event_is_inserted_in_time_order(tmp_path: Path) -> None:
    late = CountStore.open(tmp_path / "late.db", CountConfig(window=2))
    late.add_events([("u", "a", 1, "1"), ("u", "c", 3, "3")])
    late.add_event("u", "b", 2, "2")
    ordered = CountStore.open(tmp_path / "ord.db", CountConfig(window=2))
    ordered.add_events([("u", "a", 1, "1"), ("u", "b", 2, "2"), ("u", "c", 3, "3")])
    _close(late.snapshot(), ordered.snapshot())
    assert late.user_items("u") == ["c", "b", "a"]


def test_remove_user_subtracts_exactly_their_contribution(tmp_path: Path) -> None:
    ev = _events()
    s = CountStore.open(tmp_path / "c.db")
    s.add_events(ev)
    contribution = s.user_contribution("u2")
    assert contribution["follow"] and contribution["popularity"]
    s.remove_user("u2")
    without = CountStore.open(tmp_path / "without.db")
    without.add_events([e for e in ev if e.user_id != "u2"])
    _close(s.snapshot(), without.snapshot())
    assert all(r[1] != "u2" for r in s.snapshot()["events"])
    assert s.user_items("u2") == []
    assert s.user_contribution("u2")["follow"] == []
    # The neighbour lists agree with SQL after removal.
    for (a, b), (_, n) in s.snapshot()["follow"].items():
        assert s.follow(a, b)[1] == n


def test_remove_everyone_leaves_nothing(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db")
    ev = _events(n_users=3)
    s.add_events(ev)
    for u in {e.user_id for e in ev}:
        s.remove_user(u)
    snap = s.snapshot()
    assert snap["follow"] == {} and snap["popularity"] == {} and snap["events"] == []
    pop, index, _ = s.popularity_view()
    assert float(pop.sum()) == 0.0
    assert all(len(s.neighbours(item, d).idx) == 0 for item in index for d in ("out", "in"))


def test_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    s = CountStore.open(path)
    s.add_events(_events())
    snap, items, fol = s.snapshot(), s.user_items("u1"), s.follow("c:1", "c:2")
    s.close()
    again = CountStore.open(path)
    assert again.snapshot() == snap
    assert again.user_items("u1") == items
    assert again.follow("c:1", "c:2") == pytest.approx(fol)


def test_config_change_needs_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    CountStore.open(path, CountConfig(window=3)).close()
    with pytest.raises(ValueError, match="rebuild"):
        CountStore.open(path, CountConfig(window=5))


def test_catch_up_sees_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    a, b = CountStore.open(path), CountStore.open(path)
    ev = _events()
    a.add_events(ev[:30])
    b.catch_up()
    assert b.user_items("u1") == a.user_items("u1")
    b.catch_up(ev)  # an event log replay: only the unseen events are added
    a.catch_up()
    _close(a.snapshot(), b.snapshot())
    assert a.follow("c:1", "c:2") == pytest.approx(b.follow("c:1", "c:2"))
    a.remove_user("u0")
    b.catch_up()
    assert b.user_items("u0") == []


def test_seed_from_ratings_prefixes_users_and_items(tmp_path: Path) -> None:
    s = CountStore.open(tmp_path / "c.db")
    assert s.seed_from_ratings([("1", "50", 1.0), ("1", "172", 2.0)], "movielens-100k") == 2
    assert s.user_items("seed:1") == ["movielens-100k:172", "movielens-100k:50"]
    assert s.follow("movielens-100k:50", "movielens-100k:172")[1] == 1
