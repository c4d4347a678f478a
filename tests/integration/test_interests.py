"""InterestMemory against real Chroma, embedded and a real `chroma run` server, with the real CountStore."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from chroma_server import chroma_server  # noqa: F401  (module-scoped real server fixture)

from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.errors import InvalidInputError
from interest_bot.memory.event_layout import EVENTS_COLLECTION, PROFILES_COLLECTION
from interest_bot.memory.interests import InterestMemory, UnknownInterestError
from interest_bot.memory.outbox import OUTBOX_FILE, Outbox
from interest_bot.memory.signals import InterestSignal, Source
from interest_bot.memory.userid import InvalidUserIdError

DIM = 384
T0 = 1_790_000_000.0


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def sig(text: str | None, seed: int, cats: dict, pol: float, item: str | None = None, source: Source = "chat", ts: float | None = None) -> InterestSignal:
    return InterestSignal(text, vec(seed), cats, pol, 0.8, source, item, ts)


@pytest.fixture(params=["embedded", "server"])
def env(request: pytest.FixtureRequest, tmp_path: Path):
    """(client, counts) on embedded Chroma in a fresh data dir, or on the module's real Chroma server."""
    data = tmp_path / "data"
    if request.param == "embedded":
        client = open_client(data)
    else:
        client = open_client(data, request.getfixturevalue("chroma_server").url)
    counts = CountStore.open(tmp_path / "counts.sqlite")
    yield client, counts
    counts.close()


@pytest.fixture
def mem(env, request: pytest.FixtureRequest, tmp_path: Path):
    """As the plugin opens it: embedded mode owns the directory and writes through the outbox; server mode does not."""
    client, counts = env
    embedded = request.node.callspec.params["env"] == "embedded"
    m = InterestMemory(client, counts, shared=not embedded, outbox=Outbox(tmp_path / "data" / OUTBOX_FILE) if embedded else None)
    yield m
    m.close()


def uid(request: pytest.FixtureRequest, name: str) -> str:
    """A user id unique to this test (the server is shared by the module)."""
    return f"{name}-{abs(hash(request.node.nodeid)) % 10**8}"


def all_records(client, name: str) -> dict:
    return client.get_collection(name).get(include=["metadatas", "documents"])


def test_record_then_profile_events_and_ids(mem: InterestMemory, request) -> None:
    alice = uid(request, "alice")
    signals = [
        sig("I love space operas", 1, {"Sci-Fi": 0.9, "Drama": 0.1}, 0.9, ts=T0),
        sig("but I can't stand horror", 2, {"Horror": 0.95}, -0.9, ts=T0 + 1),
        sig(None, 3, {"Sci-Fi": 0.8}, 1.0, "movielens-100k:50", "feedback", ts=T0 + 2),
    ]
    ids = mem.record(alice, signals)
    assert len(ids) == 3 and len(set(ids)) == 3
    assert [s.event_id for s in signals] == ids
    p = mem.profile(alice, now=T0 + 2)
    assert p.n_signals == 3
    assert p.score("Sci-Fi") > 0 > p.score("Horror")
    assert p.positive and p.negative
    assert "I love space operas" in p.positive[0].texts or "I love space operas" in p.positive[-1].texts
    assert p.negative[0].texts == ["but I can't stand horror"]
    assert [r.item_id for r in p.recent_items] == ["movielens-100k:50"]
    evs = mem.events(alice)
    assert [e.event_id for e in evs] == list(reversed(ids))  # newest first
    assert evs[-1].text == "I love space operas" and evs[-1].top_category == "Sci-Fi"
    assert [e.event_id for e in mem.events(alice, limit=1)] == [ids[2]]
    assert {e.event_id for e in mem.events(alice, since=T0 + 1)} == {ids[1], ids[2]}
    assert mem.counts is not None  # the fixture opens memory with counts
    assert mem.counts.user_contribution(alice)["events"] == [{"item_id": "movielens-100k:50", "ts": T0 + 2, "positive": True}]


def test_negative_item_event_enters_counts_as_negative(mem: InterestMemory, request) -> None:
    bob = uid(request, "bob")
    mem.record(bob, [sig(None, 4, {"Horror": 0.9}, -1.0, "movielens-100k:7", "feedback", ts=T0)])
    assert mem.counts is not None  # the fixture opens memory with counts
    assert mem.counts.user_contribution(bob)["events"] == [{"item_id": "movielens-100k:7", "ts": T0, "positive": False}]


def test_another_instance_sees_writes_including_unflushed_profile(env, request) -> None:
    client, counts = env
    carol = uid(request, "carol")
    a = InterestMemory(client, counts, write_behind=False)
    b = InterestMemory(client, counts)
    try:
        a.record(carol, [sig("jazz records", 10, {"Music": 1.0}, 1.0, ts=T0)])
        assert b.profile(carol, now=T0).n_signals == 1
        b.record(carol, [sig("vinyl", 11, {"Music": 1.0}, 1.0, ts=T0 + 1)])
        b.flush()
        # a's cached state is stale: the stored head changed, so a re-reads it.
        assert a.profile(carol, now=T0 + 1).n_signals == 2
        # An instance whose profile head lags its events (write-behind not done) rebuilds from events.
        b.record(carol, [sig("more jazz", 12, {"Music": 1.0}, 1.0, ts=T0 + 2)])
        c = InterestMemory(client, counts, write_behind=False)
        assert c.profile(carol, now=T0 + 2).n_signals == 3
        c.close()
    finally:
        a.close()
        b.close()


def test_isolation_between_users(mem: InterestMemory, request) -> None:
    alice, bob = uid(request, "alice"), uid(request, "bob")
    a_ids = mem.record(alice, [sig("kittens", 20, {"Pets": 1.0}, 1.0, "catalog:1", ts=T0)])
    b_ids = mem.record(bob, [sig("dogs", 21, {"Pets": 1.0}, 1.0, "catalog:2", ts=T0)])
    assert [e.event_id for e in mem.events(alice)] == a_ids
    # Someone else's event id is not one of alice's interests, and bob's event survives.
    with pytest.raises(UnknownInterestError):
        mem.forget_interest(alice, b_ids[0])
    assert [e.event_id for e in mem.events(bob)] == b_ids
    mem.forget(alice)
    assert [e.event_id for e in mem.events(bob)] == b_ids
    assert mem.profile(bob).n_signals == 1
    assert mem.counts is not None  # the fixture opens memory with counts
    assert mem.counts.user_contribution(bob)["events"]
    exported = json.dumps(mem.export(bob))
    assert alice not in exported, exported[exported.find(alice) - 300 : exported.find(alice) + 50]
    assert "kittens" not in exported


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "..", '{"$ne": ""}', "x" * 129, "al ice"])
def test_invalid_user_ids_rejected_everywhere(mem: InterestMemory, bad: str) -> None:
    calls = [
        lambda: mem.record(bad, [sig("x", 1, {}, 1.0)]),
        lambda: mem.profile(bad),
        lambda: mem.events(bad),
        lambda: mem.export(bad),
        lambda: mem.forget(bad),
        lambda: mem.forget_interest(bad, "Horror"),
        lambda: mem.record_batch([(bad, sig("x", 1, {}, 1.0))]),
    ]
    for call in calls:
        with pytest.raises(InvalidUserIdError):
            call()


def test_bad_signal_is_rejected_and_nothing_is_written(mem: InterestMemory, request) -> None:
    dan = uid(request, "dan")
    with pytest.raises(ValueError, match="384"):
        mem.record(dan, [sig("ok", 1, {}, 1.0), InterestSignal("short", np.ones(5), {}, 1.0)])
    assert mem.events(dan) == [] and mem.profile(dan).n_signals == 0


def test_a_signal_time_that_is_not_unix_seconds_is_refused_and_nothing_is_written(mem: InterestMemory, request) -> None:
    """Checked where every signal is validated, so no record path (chat, feedback, a host's own signals) lets a time in
    milliseconds move the profile's clock to the year 58,000."""
    fay = uid(request, "fay")
    for ts in (time.time() * 1000, math.nan, -1.0):
        with pytest.raises(InvalidInputError, match="Unix time in seconds"):
            mem.record(fay, [sig("ok", 1, {}, 1.0, ts=T0), sig("late", 2, {}, 1.0, ts=ts)])
    assert mem.events(fay) == [] and mem.profile(fay).n_signals == 0


def test_export_has_everything_and_is_json(mem: InterestMemory, request) -> None:
    erin = uid(request, "erin")
    ids = mem.record(erin, [sig("I adore westerns", 30, {"Western": 1.0}, 1.0, ts=T0), sig(None, 31, {"Western": 0.7}, 1.0, "movielens-100k:9", "item", ts=T0 + 1)])
    data = json.loads(json.dumps(mem.export(erin)))
    assert data["user_id"] == erin
    assert sorted(e["event_id"] for e in data["events"]) == sorted(ids)
    assert all(len(e["embedding"]) == DIM for e in data["events"])
    assert {e["text"] for e in data["events"]} == {"I adore westerns", None}
    assert data["profile"]["n_signals"] == 2 and "Western" in data["profile"]["categories"]
    assert any(r["metadata"]["kind"] == "head" for r in data["profile_records"])
    assert [e["item_id"] for e in data["counts"]["events"]] == ["movielens-100k:9"]


def test_store_text_false_writes_no_text_anywhere(env, request) -> None:
    client, counts = env
    frank = uid(request, "frank")
    m = InterestMemory(client, counts, store_text=False)
    try:
        m.record(frank, [sig("my secret love of opera", 40, {"Music": 1.0}, 1.0, ts=T0)])
        m.flush()
        assert m.events(frank)[0].text is None
        assert m.profile(frank).positive[0].texts == [""]
        for name in (EVENTS_COLLECTION, PROFILES_COLLECTION):
            assert "secret" not in json.dumps(all_records(client, name))
        assert "secret" not in json.dumps(m.export(frank))
    finally:
        m.close()


def test_forget_leaves_nothing_in_chroma_or_counts(mem: InterestMemory, env, request) -> None:
    client, counts = env
    gina, hank = uid(request, "gina"), uid(request, "hank")
    mem.record(gina, [sig(f"thing {i}", 50 + i, {"A": 1.0}, 1.0, f"cat:{i}", "item", ts=T0 + i) for i in range(5)])
    mem.record(hank, [sig("keep me", 60, {"A": 1.0}, 1.0, "cat:1", "item", ts=T0)])
    mem.flush()
    report = mem.forget(gina)
    assert report["events"] == 5 and report["profile_records"] >= 1 and report["count_events"] == 5
    for name in (EVENTS_COLLECTION, PROFILES_COLLECTION):
        recs = all_records(client, name)
        assert not [i for i, m in zip(recs["ids"], recs["metadatas"]) if m.get("user_id") == gina or gina in i]
        assert not [d for d in recs["documents"] if d and "thing" in d]
    assert gina not in counts.users()
    assert counts.user_contribution(gina)["events"] == []
    assert counts.popularity("cat:3") == 0 and counts.popularity("cat:1") == 1
    assert gina not in mem.users() and hank in mem.users()
    # A fresh store instance (as after a restart) also knows nothing.
    fresh = InterestMemory(client, counts)
    assert fresh.profile(gina).n_signals == 0
    fresh.close()


def test_forget_interest_category_zeroes_score_until_new_signals(mem: InterestMemory, request) -> None:
    ivy = uid(request, "ivy")
    mem.record(ivy, [
        sig("I love horror", 70, {"Horror": 0.9, "Thriller": 0.1}, 1.0, ts=T0),
        sig("slashers are great", 71, {"Horror": 0.8}, 1.0, ts=T0 + 1),
        sig("a thriller with some horror", 72, {"Thriller": 0.6, "Horror": 0.4}, 1.0, ts=T0 + 2),
    ])
    assert mem.profile(ivy, now=T0 + 2).score("Horror") > 0
    out = mem.forget_interest(ivy, "horror")  # case-insensitive match to the stored category
    assert out == {"kind": "category", "category": "Horror", "deleted_events": 2}
    p = mem.profile(ivy, now=T0 + 2)
    assert p.score("Horror") == 0.0 and p.score("Thriller") > 0
    assert [e.text for e in mem.events(ivy)] == ["a thriller with some horror"]
    assert all("Horror" not in c.categories for c in p.positive)
    # It survives a restart (the tombstone is stored) ...
    fresh = InterestMemory(mem.client, mem.counts)
    assert fresh.profile(ivy, now=T0 + 2).score("Horror") == 0.0
    fresh.close()
    # ... and comes back only through new signals.
    mem.record(ivy, [sig("ok horror again", 73, {"Horror": 1.0}, 1.0)])
    assert mem.profile(ivy).score("Horror") > 0
    with pytest.raises(UnknownInterestError):
        mem.forget_interest(ivy, "Polka")


def test_forget_interest_event_id_updates_profile_and_counts(mem: InterestMemory, request) -> None:
    jay = uid(request, "jay")
    ids = mem.record(jay, [sig(None, 80, {"A": 1.0}, 1.0, "cat:1", "item", ts=T0), sig(None, 81, {"B": 1.0}, 1.0, "cat:2", "item", ts=T0 + 1)])
    assert mem.forget_interest(jay, ids[0]) == {"kind": "event", "category": None, "deleted_events": 1}
    p = mem.profile(jay, now=T0 + 1)
    assert p.n_signals == 1 and p.score("A") == 0.0 and p.score("B") > 0
    assert [r.item_id for r in p.recent_items] == ["cat:2"]
    assert mem.counts is not None  # the fixture opens memory with counts
    assert [e["item_id"] for e in mem.counts.user_contribution(jay)["events"]] == ["cat:2"]


def test_record_batch_and_users(mem: InterestMemory, request) -> None:
    users = [uid(request, f"u{i}") for i in range(3)]
    pairs = [(users[i % 3], sig(f"s{i}", 90 + i, {"C": 1.0}, 1.0, f"cat:{i}", "item", ts=T0 + i)) for i in range(12)]
    ids = mem.record_batch(pairs)
    assert len(ids) == 12 and [s.event_id for _, s in pairs] == ids
    for u in users:
        assert mem.profile(u).n_signals == 4
        assert mem.counts is not None  # the fixture opens memory with counts
        assert len(mem.counts.user_contribution(u)["events"]) == 4
    assert set(users) <= set(mem.users())
    assert len(list(e for e in mem.item_events() if e[0] in users)) == 12
