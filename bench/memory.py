"""Interest-memory latency on real embedded Chroma with 100,000 stored events across 1,000 users; `python -m bench.memory`.

record_*: one `InterestMemory.record` call with one signal (Chroma write + counts for item events + profile fold).
profile_*: `InterestMemory.profile` for a random user (warm: in-process state plus the freshness check against
the stored head); profile_cold_*: the first read of a user by a fresh instance (loads the stored profile records).
Vectors are random 384-d unit vectors (store cost does not depend on their content). The catalog search keys
come from bench.memory_search.bench_search() when it is there.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import percentile_ms, write_result
from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.interests import InterestMemory
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
        mem = InterestMemory(client, counts)
        t_start = time.time() - 90 * 86400.0
        step = 90 * 86400.0 / n_events
        t0 = time.perf_counter()
        with tqdm(total=n_events, desc="filling interest events", unit="ev") as bar:
            chunk = 5_000
            for start in range(0, n_events, chunk):
                pairs = [(users[i % n_users], _signal(rng, t_start + i * step)) for i in range(start, min(n_events, start + chunk))]
                mem.record_batch(pairs, progress=bar)
        fill_s = time.perf_counter() - t0

        record_s, profile_s = [], []
        for i in range(n_samples):
            user = users[int(rng.integers(n_users))]
            s = _signal(rng, None)  # type: ignore[arg-type]
            t = time.perf_counter()
            mem.record(user, [s])
            record_s.append(time.perf_counter() - t)
        mem.flush()
        for i in range(n_samples):
            user = users[int(rng.integers(n_users))]
            t = time.perf_counter()
            mem.profile(user)
            profile_s.append(time.perf_counter() - t)
        mem.close()

        # A fresh instance (as after a restart): first read of each user loads its stored records.
        fresh = InterestMemory(client, counts)
        cold_s = []
        for user in rng.choice(users, size=min(n_samples, n_users), replace=False):
            t = time.perf_counter()
            p = fresh.profile(str(user))
            cold_s.append(time.perf_counter() - t)
        assert p.n_signals >= n_events // n_users
        fresh.close()
        counts.close()
        return {
            "events_stored": n_events + n_samples,
            "users": n_users,
            "fill_events_per_s": round(n_events / fill_s, 1),
            "record_p50_ms": percentile_ms(record_s, 50),
            "record_p95_ms": percentile_ms(record_s, 95),
            "profile_p50_ms": percentile_ms(profile_s, 50),
            "profile_p95_ms": percentile_ms(profile_s, 95),
            "profile_cold_p50_ms": percentile_ms(cold_s, 50),
            "profile_cold_p95_ms": percentile_ms(cold_s, 95),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
