"""The event outbox on real embedded Chroma: record commits there, reads drain it, a reopen replays it, forget empties it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from interest_bot.memory.chroma import ChromaDataError, open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.event_layout import EVENTS_COLLECTION, event_metadata
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.outbox import OUTBOX_FILE, Outbox, OutboxDataError, PendingEvent, embedded_outbox
from interest_bot.memory.signals import InterestSignal

T0 = 1_790_000_000.0


def sig(text: str, seed: int, item: str | None = None) -> InterestSignal:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return InterestSignal(text, v / np.linalg.norm(v), {"Western": 0.9}, 0.8, 0.7, "item" if item else "chat", item, T0 + seed)


@pytest.fixture
def parts(tmp_path: Path):
    data = tmp_path / "data"
    client = open_client(data)
    counts = CountStore.open(data / "counts.sqlite")
    yield data, client, counts
    counts.close()


def chroma_ids(client) -> set[str]:
    return set(client.get_collection(EVENTS_COLLECTION).get(include=[])["ids"])


def test_record_commits_to_the_outbox_and_a_read_drains_it(parts) -> None:
    data, client, counts = parts
    mem = InterestMemory(client, counts, shared=False, outbox=embedded_outbox(data), write_behind=False)
    try:
        assert mem.outbox is not None  # opened with one
        (eid,) = mem.record("ann", [sig("I adore old westerns", 1, "movielens-100k:5")])
        assert mem.outbox.count("ann") == 1 and eid not in chroma_ids(client)
        assert counts.user_contribution("ann")["events"][0]["item_id"] == "movielens-100k:5"  # counts in the same call
        assert mem.profile("ann").n_signals == 1
        assert [e.event_id for e in mem.events("ann")] == [eid]  # the read drained first
        assert mem.outbox.count() == 0 and eid in chroma_ids(client)
    finally:
        mem.close()


def test_background_drain_reaches_chroma_without_a_read(parts) -> None:
    data, client, counts = parts
    mem = InterestMemory(client, counts, shared=False, outbox=embedded_outbox(data))
    try:
        assert mem.outbox is not None  # opened with one
        ids = mem.record("ben", [sig(f"clause {i}", i) for i in range(3)])
        deadline = time.monotonic() + 20
        while mem.outbox.count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mem.outbox.count() == 0 and set(ids) <= chroma_ids(client)
    finally:
        mem.close()


def test_reopen_replays_a_partly_drained_outbox_once(parts) -> None:
    data, client, counts = parts
    outbox = embedded_outbox(data)
    assert outbox is not None  # embedded mode has one
    pending = []
    for i in range(3):
        s = sig(f"left behind {i}", 10 + i, f"movielens-100k:{i + 1}")
        assert s.item_id is not None and s.timestamp is not None  # sig() sets both here
        meta = event_metadata("cat", s.source, s.item_id, "Western", s.timestamp, T0, s.polarity, s.preference, s.categories, s.text)
        pending.append(PendingEvent(f"ev{i}", "cat", s.embedding, meta))
    outbox.put(pending)
    # As if a crash came mid-drain: Chroma already holds the first event, the outbox still lists it.
    client.get_or_create_collection(EVENTS_COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None).add(
        ids=["ev0"], embeddings=pending[0].embedding[None, :], metadatas=[pending[0].metadata]
    )
    mem = InterestMemory(client, counts, shared=False, outbox=outbox)
    try:
        assert outbox.count() == 0
        assert sorted(e.event_id for e in mem.events("cat", limit=None)) == ["ev0", "ev1", "ev2"]
        assert mem.profile("cat", now=T0).n_signals == 3
        # The crash may have cut the counts write: the replay gave them every item event, once.
        assert sorted(e["item_id"] for e in counts.user_contribution("cat")["events"]) == [f"movielens-100k:{i}" for i in (1, 2, 3)]
    finally:
        mem.close()


def test_forget_leaves_nothing_in_the_outbox_file(parts) -> None:
    data, client, counts = parts
    mem = InterestMemory(client, counts, shared=False, outbox=embedded_outbox(data), write_behind=False)
    try:
        assert mem.outbox is not None  # opened with one
        mem.record("dan", [sig("a very particular clause about zydeco", 20)])
        mem.record("eve", [sig("keep this one", 21)])
        assert mem.outbox.count("dan") == 1
        mem.forget("dan")
        assert mem.outbox.count() == 0  # forget drained everyone, then deleted dan
        assert [e.text for e in mem.events("eve")] == ["keep this one"]
    finally:
        mem.close()
    raw = b"".join(p.read_bytes() for p in data.glob(OUTBOX_FILE + "*"))
    assert b"zydeco" not in raw  # secure_delete and the WAL checkpoint leave no readable copy


def test_an_outbox_refuses_shared_mode(parts) -> None:
    data, client, counts = parts
    with pytest.raises(ValueError, match="sole ownership"):
        InterestMemory(client, counts, shared=True, outbox=embedded_outbox(data))


def test_server_mode_has_no_outbox(tmp_path: Path) -> None:
    assert embedded_outbox(tmp_path, "http://127.0.0.1:8000") is None
    assert not (tmp_path / OUTBOX_FILE).exists()


def test_corrupt_outbox_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / OUTBOX_FILE
    path.write_bytes(b"not a database at all " * 500)
    with pytest.raises(OutboxDataError) as info:
        Outbox(path)
    assert str(path) in str(info.value) and "Move it aside" in str(info.value)
    assert isinstance(info.value, ChromaDataError)  # the CLI and server report it like any unreadable data dir
