"""Interest-memory latency on real embedded Chroma with 100,000 stored events across 1,000 users; `python -m bench.memory`.

record_*: one `InterestMemory.record` call with one signal as the plugin runs it in embedded mode (shared=False: this
process holds the data dir, no freshness read): the event committed to the outbox (fsynced SQLite), counts for item
events, profile fold; the outbox drains into Chroma behind it, in the same run. record_direct_*: the same call
without the outbox (the event written to Chroma inside record), interleaved with it on other users;
record_direct_sealed_* the same again with the clause text sealed under the user's key (half of those users each).
record, the fill and record_shared seal the text as the plugin does. seal_/open_us_per_record: AES-GCM of one clause
for a user whose key is cached; key_create_ms: a user's first seal (the key row, an fsynced SQLite insert);
shred_ms: deleting a key as forget does (secure_delete, WAL checkpointed and truncated).
chroma_add_*: the floor under record, measured interleaved with it: a bare single-record `collection.add`
(one 384-d vector, one metadata key) into the same events collection; chroma_add_legacy_* is one add with the
old event layout (9 metadata keys + a document) for comparison with the packed layout record now writes.
record_shared_* / profile_shared_*: the same calls with shared=True (as with a Chroma server: each reads the
stored profile head first to notice other writers).
profile_*: `InterestMemory.profile` for a random user (warm, in-process state); profile_cold_*: the first read of
a user by a fresh instance (loads the stored profile records).
Vectors are random 384-d unit vectors (store cost does not depend on their content). The catalog search keys
come from bench.memory_search.bench_search() when it is there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import percentile_ms, write_result
from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.keyring import Keyring
from interest_bot.memory.outbox import embedded_outbox
from interest_bot.memory.signals import InterestSignal

CATEGORIES = ["Action", "Comedy", "Drama", "Horror", "Sci-Fi", "Romance", "Thriller", "Documentary", "Animation", "Western"]


def _signal(rng: np.random.Generator, ts: float) -> InterestSignal:
    """A plausible signal: random unit vector, 1-3 categories, polarity, a catalog item 30% of the time."""
    v = rng.standard_normal(384).astype(np.float32)
    cats = {str(c): float(p) for c, p in zip(rng.choice(CATEGORIES, size=rng.integers(1, 4), replace=False), rng.dirichlet([1, 1, 1]))}
    item = f"movielens-100k:{int(rng.integers(1, 1683))}" if rng.random() < 0.3 else None
    return InterestSignal("a clause of about this length from a chat", v / np.linalg.norm(v), cats, float(rng.uniform(-1, 1)), float(rng.random()), "item" if item else "chat", item, ts)


def bench_memory(n_events: int = 100_000, n_users: int = 1_000, n_samples: int = 300, seed: int = 0) -> dict:
    """Fill n_events across n_users with batched writes, then time single records and profile reads."""
    rng = np.random.default_rng(seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    users = [f"user{i:05d}" for i in range(n_users)]
    try:
        data = tmp / "data"
        client = open_client(data)
        counts = CountStore.open(data / "counts.sqlite")
        ring = Keyring.open(data / "counts.sqlite")
        mem = InterestMemory(client, counts, shared=False, outbox=embedded_outbox(data), keyring=ring)  # as the plugin opens it in embedded mode
        t_start = time.time() - 90 * 86400.0
        step = 90 * 86400.0 / n_events
        t0 = time.perf_counter()
        with tqdm(total=n_events, desc="filling interest events", unit="ev") as bar:
            # One call: record_batch writes 5,000-event pages and upserts the profile records once at the end.
            mem.record_batch([(users[i % n_users], _signal(rng, t_start + i * step)) for i in range(n_events)], progress=bar)
        fill_s = time.perf_counter() - t0

        # Embedded mode assumes one writer per user's data: `mem` (warm from the fill, as a running bot is) writes
        # a third of the users, the direct (no outbox) and the shared=True instances the others (warmed first, so no
        # sample pays a cold load).
        mine, plain, theirs = users[0::3], users[1::3], users[2::3]
        plain, sealed = plain[0::2], plain[1::2]
        direct = InterestMemory(client, counts, shared=False)
        for user in plain:
            direct.profile(user)
        direct_sealed = InterestMemory(client, counts, shared=False, keyring=ring)
        for user in sealed:
            direct_sealed.profile(user)
        shared = InterestMemory(client, counts, shared=True, keyring=ring)
        for user in theirs:
            shared.profile(user)
        events = mem._events  # the floor is measured on the very same collection

        def bare_add(user: str) -> None:
            v = rng.standard_normal(384).astype(np.float32)
            events.add(ids=[f"floor-{uuid.uuid4().hex}"], embeddings=(v / np.linalg.norm(v))[None, :], metadatas=[{"user_id": "floor-probe"}])

        def legacy_add(user: str) -> None:
            v = rng.standard_normal(384).astype(np.float32)
            now = time.time()
            meta = {"user_id": "floor-probe", "source": "chat", "item_id": "", "polarity": 0.5, "preference": 0.5, "top_category": "Drama",
                    "categories": json.dumps({"Drama": 0.7, "Comedy": 0.3}), "ts": now, "rt": now}
            events.add(ids=[f"floor-{uuid.uuid4().hex}"], embeddings=(v / np.linalg.norm(v))[None, :], metadatas=[meta], documents=["a clause of about this length from a chat"])

        timed = {
            "record": lambda user: mem.record(user, [_signal(rng, None)]),  # type: ignore[arg-type]
            "record_direct": lambda user: direct.record(plain[int(rng.integers(len(plain)))], [_signal(rng, None)]),  # type: ignore[arg-type]
            "record_direct_sealed": lambda user: direct_sealed.record(sealed[int(rng.integers(len(sealed)))], [_signal(rng, None)]),  # type: ignore[arg-type]
            "chroma_add": bare_add,
            "chroma_add_legacy": legacy_add,
        }
        samples: dict[str, list[float]] = {k: [] for k in timed}
        order = list(timed)
        for _ in range(n_samples):
            rng.shuffle(order)  # interleaved, so every kind sees the same machine load
            for kind in order:
                user = mine[int(rng.integers(len(mine)))]
                t = time.perf_counter()
                timed[kind](user)
                samples[kind].append(time.perf_counter() - t)
        events.delete(where={"user_id": "floor-probe"})
        t = time.perf_counter()
        assert mem.outbox is not None  # opened with its outbox
        left = mem.outbox.count()
        mem.flush()
        flush_s = time.perf_counter() - t
        direct.close()
        direct_sealed.close()
        # shared=True in its own block: its write-behind is woken by every record, which is part of what it costs.
        samples["record_shared"] = []
        for _ in range(n_samples):
            user = theirs[int(rng.integers(len(theirs)))]
            t = time.perf_counter()
            shared.record(user, [_signal(rng, None)])  # type: ignore[arg-type]
            samples["record_shared"].append(time.perf_counter() - t)
        profile_s, profile_shared_s = [], []
        for _ in range(n_samples):
            user = mine[int(rng.integers(len(mine)))]
            t = time.perf_counter()
            mem.profile(user)
            profile_s.append(time.perf_counter() - t)
            user = theirs[int(rng.integers(len(theirs)))]
            t = time.perf_counter()
            shared.profile(user)
            profile_shared_s.append(time.perf_counter() - t)
        shared.close()
        mem.close()
        crypto = _crypto_costs(ring, mine, rng, n_samples)
        ring.close()

        # A fresh instance (as after a restart): first read of each user loads its stored records.
        fresh = InterestMemory(client, counts, keyring=(ring := Keyring.open(data / "counts.sqlite")))
        cold_s = []
        for user in rng.choice(users, size=min(n_samples, n_users), replace=False):
            t = time.perf_counter()
            p = fresh.profile(str(user))
            cold_s.append(time.perf_counter() - t)
        assert p.n_signals >= n_events // n_users
        fresh.close()
        ring.close()
        load = __import__("os").getloadavg()
        counts.close()
        return {
            "events_stored": n_events + 4 * n_samples,
            "users": n_users,
            "fill_events_per_s": round(n_events / fill_s, 1),
            **{f"{kind}_p{q}_ms": percentile_ms(samples[kind], q) for kind in samples for q in (50, 95)},
            "profile_p50_ms": percentile_ms(profile_s, 50),
            "profile_p95_ms": percentile_ms(profile_s, 95),
            "profile_shared_p50_ms": percentile_ms(profile_shared_s, 50),
            "profile_shared_p95_ms": percentile_ms(profile_shared_s, 95),
            "profile_cold_p50_ms": percentile_ms(cold_s, 50),
            "profile_cold_p95_ms": percentile_ms(cold_s, 95),
            "outbox_left_after_timing": left,
            "flush_after_timing_ms": round(flush_s * 1000, 1),  # outbox drain + profile records of every user written
            **crypto,
            "loadavg_1m_at_end": round(load[0], 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _crypto_costs(ring: Keyring, users: list[str], rng: np.random.Generator, n_samples: int) -> dict:
    """Per-record cost of sealing clause text (warm keys), a user's first key and a shred, timed on the run's keyring."""
    text = "a clause of about this length from a chat"
    seal_s, open_s = [], []
    for _ in range(n_samples):
        user = users[int(rng.integers(len(users)))]
        t = time.perf_counter()
        token = ring.encrypt(user, text)
        seal_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert ring.decrypt(user, token) == text
        open_s.append(time.perf_counter() - t)
    create_s, shred_s = [], []
    for i in range(min(n_samples, 50)):
        t = time.perf_counter()
        ring.encrypt(f"bench-new-{i}", text)
        create_s.append(time.perf_counter() - t)
    for i in range(min(n_samples, 50)):
        t = time.perf_counter()
        ring.shred(f"bench-new-{i}")
        shred_s.append(time.perf_counter() - t)
    return {
        "seal_us_per_record_p50": round(float(np.percentile(seal_s, 50)) * 1e6, 1),
        "open_us_per_record_p50": round(float(np.percentile(open_s, 50)) * 1e6, 1),
        "key_create_ms_p50": percentile_ms(create_s, 50),
        "shred_ms_p50": percentile_ms(shred_s, 50),
        "plain_text_bytes_per_record": len(text.encode()),
        "sealed_text_bytes_per_record": len(token),
    }


def main() -> None:
    """Run the benchmark and write bench/results/memory.json."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=1_000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--no-search", action="store_true", help="skip the catalog search part")
    args = ap.parse_args()
    result = bench_memory(args.events, args.users, args.samples)
    if not args.no_search:
        try:
            from bench.memory_search import bench_search
        except ImportError:
            result["search"] = "bench.memory_search is not there yet"
        else:
            result.update(bench_search())
    write_result("memory", result)


if __name__ == "__main__":
    main()
