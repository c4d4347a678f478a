"""Collaborative counts at catalog scale: the dense-mirror CountStore (a git revision) against this tree's sparse one.

`python -m bench.counts_rss [--items 10000] [--events 100000] [--dense-rev main]` replays one seeded synthetic
workload into each implementation, each in its own child process, side by side in one run, and writes
bench/results/counts_rss.json (last line printed). Per implementation and phase it reports the child's peak RSS
(VmHWM) and its increase over the same child just before the store was opened (Python, numpy and the events
already loaded), the wall time, and for the sparse store its cache sizes.

Phases: `replay` feeds every event through `add_events` in batches of 100 into a fresh SQLite store, then scores
200 users; `reopen` opens the filled store in a fresh process (what every bot process does on start) and scores
the same 200 users. Scores are the sequential rule (recent items' followers and predecessors), from the dense
follow matrix for the old store and from the top-M neighbour lists for the new one.

The workload (synthetic, no text): items fall into 100 taste clusters; each user has 2 to 4 clusters; within a
cluster item popularity is Zipf (s = 1.1); a user's events come in sessions of 5 to 15 events that stay in one
cluster, so follow pairs have sequential structure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from bench.common import write_result

ROOT = Path(__file__).resolve().parents[1]


def workload(n_items: int, n_events: int, seed: int = 0, per_user: int = 50, clusters: int = 100) -> list[tuple[str, str, float, str]]:
    """(user, item, ts, event id) rows in time order: see the module docstring for the shape."""
    rng = np.random.default_rng(seed)
    members = np.array_split(rng.permutation(n_items), clusters)
    zipf = [1.0 / np.arange(1, len(m) + 1) ** 1.1 for m in members]
    zipf = [z / z.sum() for z in zipf]
    rows = []
    n_users = max(1, n_events // per_user)
    for u in range(n_users):
        tastes = rng.choice(clusters, size=rng.integers(2, 5), replace=False)
        k, t = 0, float(rng.uniform(0, 1e6))
        while k < per_user:
            c = int(rng.choice(tastes))
            for _ in range(int(rng.integers(5, 16))):
                if k >= per_user:
                    break
                rows.append((f"u{u}", f"syn:{members[c][rng.choice(len(zipf[c]), p=zipf[c])]}", t, f"u{u}:{k}"))
                t += float(rng.uniform(1, 100))
                k += 1
    rows.sort(key=lambda r: r[2])
    return rows[:n_events]


CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np

    def hwm_mb():
        status = open("/proc/self/status").read()
        return {k: int(next(l.split()[1] for l in status.splitlines() if l.startswith(k))) / 1024 for k in ("VmHWM", "VmRSS")}

    impl, phase, db, events_path = sys.argv[1:5]
    rows = json.load(open(events_path))
    users = sorted({r[0] for r in rows})[:200]
    if impl == "dense":
        sys.path.insert(0, sys.argv[5])
        from old_counts.counts import CountStore
    else:
        from interest_bot.memory.counts import CountStore
        from interest_bot.plugins.interest.ranking.scoring import sequential_scores
    base = hwm_mb()["VmRSS"]
    t0 = time.perf_counter()
    store = CountStore.open(db)
    opened_s = time.perf_counter() - t0
    if phase == "replay":
        for i in range(0, len(rows), 100):
            store.add_events(rows[i : i + 100])
    fed_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for u in users:
        recent = store.user_items(u, limit=10)
        if impl == "dense":  # the old scorer's arithmetic over the dense matrix
            F, pop, index, _ = store.matrices()
            r = np.array([index[i] for i in recent])
            w = 0.8 ** np.arange(len(r)) / (pop[r] + 1.0) ** 0.8
            s = (w @ F[r] + 0.6 * (F[:, r] @ w)) / (pop + 1.0) ** 0.35
        else:
            s, _ = sequential_scores(store, recent)
    score_ms = (time.perf_counter() - t1) * 1000 / len(users)
    mem = hwm_mb()
    out = {"peak_rss_mb": round(mem["VmHWM"], 1), "rss_increase_mb": round(mem["VmHWM"] - base, 1), "base_rss_mb": round(base, 1),
           "open_s": round(opened_s, 3), "score_ms_per_user": round(score_ms, 3)}
    if phase == "replay":
        out["replay_events_per_s"] = round(len(rows) / fed_s, 1)
    if impl == "sparse":
        out["cache"] = store.cache_sizes()
    print(json.dumps(out))
    """
)


def old_package(rev: str, into: Path) -> Path:
    """The dense CountStore at a git revision, importable as old_counts.counts."""
    pkg = into / "old_counts"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for name in ("counts.py", "sqlite_open.py"):
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:memory/{name}"], check=True, capture_output=True, text=True).stdout
        (pkg / name).write_text(src)
    return into


def run_child(impl: str, phase: str, db: Path, events: Path, old: Path) -> dict:
    """One phase of one implementation in a fresh interpreter; its JSON line."""
    out = subprocess.run([sys.executable, "-c", CHILD, impl, phase, str(db), str(events), str(old)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    """Run both implementations side by side and write bench/results/counts_rss.json."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--dense-rev", default="main", help="git revision holding the dense-mirror memory/counts.py")
    ap.add_argument("--name", default="counts_rss")
    args = ap.parse_args(argv)
    rows = workload(args.items, args.events)
    result: dict = {"items": args.items, "events": len(rows), "users": len({r[0] for r in rows}),
                    "distinct_items_with_events": len({r[1] for r in rows}), "dense_rev": args.dense_rev,
                    "workload": "synthetic: 100 taste clusters, 2-4 per user, Zipf(1.1) within a cluster, sessions of 5-15"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        events = root / "events.json"
        events.write_text(json.dumps(rows))
        old = old_package(args.dense_rev, root / "old")
        for impl in ("dense", "sparse"):
            db = root / f"{impl}.sqlite"
            for phase in ("replay", "reopen"):
                result[f"{impl}_{phase}"] = run_child(impl, phase, db, events, old)
                print(impl, phase, result[f"{impl}_{phase}"], file=sys.stderr, flush=True)
    write_result(args.name, result)
    return result


if __name__ == "__main__":
    main()
