"""Scale: what the plugin costs as the catalog and the history grow, in one bot process and in two sharing servers.

    python -m bench.scale                                   # 10k, 100k and 1M items; 1M events over 100k users
    python -m bench.scale --points 10k --history-point 10k  # one point (results merge into scale.json)
    python -m bench.scale --quick                           # smoke: 2k items, 20k events, 2k users (~70 s)
    python -m bench.scale --plot-only                       # redraw docs/scale.png from bench/results/scale.json

Time on 2 shared cores: the 10k point took 9.5 minutes (history into SQLite ~6,100 events/s, into PostgreSQL
~4,200 events/s, Catalog.ingest ~1,500 items/s); the full run is estimated at an hour or more, most of it the
1M catalog's ingest (~11 minutes) and its bot processes loading it.

The workload is seeded and synthetic (bench/scale_workload.py: 64 taste clusters, Zipf popularity, users with 2-4
tastes, sessions with follow-ups). EMBEDDINGS ARE SYNTHETIC unit vectors with cluster structure, not MiniLM
outputs: 1M items through MiniLM would take about 20 minutes here. Chroma, the count store and the plugin do
their real work on them.

Per point (a catalog size):
1. Build (timed, not part of any start-up; bench/scale_build.py): Catalog.ingest of the items into an embedded
   Chroma data dir, classifier heads (trained once per code version, cached in data/bench-cache), and the history
   through CountStore.add_events in batches of 1,000 in time order (`ingest_events_per_s`, SQLite).
2. One bot process (bench/scale_probe.py), fresh: process start until its first successful `recommend` is
   `startup_s`; then for --requests users with history, two 👍 each through `feedback` (each call one durable
   record: `record_p50/p95_ms`), then `recommend(user, k=10)` each (`recommend_p50/p95/p99_ms`); then its RSS.
   `rss_mb_<point>` is that RSS minus the RSS of the same process code on a baseline data dir, measured in the
   same run: a catalog of 16 items and an empty count store (the plugin cannot open a catalog of zero items:
   its warm-up ranks the catalog and fails on an empty one). Both load the same MiniLM encoder and classifier
   heads, so those cancel out.
3. History length (at --history-point): the same process on copies of the count store taken after the first
   --history events, so cost can be read against the history's length at one catalog size.
4. Shared: a `chroma run` server on the point's Chroma files and a throwaway PostgreSQL holding the counts (the
   history ingested again: `shared_ingest_events_per_s`); a baseline process (16-item catalog, empty database)
   measured first, then two bot processes at once, each measuring as in 2 (their users disjoint) and reporting
   its own RSS increase; the Chroma server's and PostgreSQL's RSS (process trees, with PSS beside: PostgreSQL's
   processes share its buffers) read from /proc. Lag: process A records a 👍 for a fresh user, process B polls
   until its profile (what its recommend ranks from) and the counts show it; `shared_lag_p95_ms` is the 95th
   percentile of (seen by B - acknowledged to A) over --lag-writes writes, both shown (0 = visible on return).

What is not exercised: the history lives in the count store only (the interest memory in Chroma holds only what
the probes record), so start-up work that scans stored chat events stays small here.
Prints progress to stderr; the last stdout line is the JSON result (bench/results/scale.json, merged by point
with an earlier run of the same workload, so a full run can be split; --quick never writes it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import finish, percentile_ms, results_dir
from bench.scale_workload import Shape, Workload

ROOT = Path(__file__).resolve().parents[1]
NAME = "scale"
BASE_CATALOG = "scale-base"
BASE_ITEMS = 16
K = 10
SYNTHETIC = ("Embeddings are SYNTHETIC: seeded unit vectors with cluster structure (bench/scale_workload.py), not MiniLM "
             "outputs; Chroma, the count store and the recommender do their real work on them.")
BASELINE = (f"rss_mb_* = bot RSS minus the RSS of the same probe code on a {BASE_ITEMS}-item catalog with an empty count store "
            "(the plugin cannot open a zero-item catalog); both load the MiniLM encoder and classifier heads, which cancel out. "
            "VmRSS after a gc.collect(); trimmed_rss_mb_* is the same after malloc_trim(0) (live memory, without the allocator's "
            "free lists, which vary by tens of MB from run to run); peak_rss_mb_* compares VmHWM.")
# The figures every point reports, flattened as <metric>_<point> at the top level of the result.
FLAT = {
    "rss_mb": ("single", "rss_increase_mb"), "peak_rss_mb": ("single", "peak_rss_increase_mb"),
    "trimmed_rss_mb": ("single", "trimmed_rss_increase_mb"), "startup_s": ("single", "startup_s"),
    "record_p50_ms": ("single", "record_p50_ms"), "record_p95_ms": ("single", "record_p95_ms"),
    "recommend_p50_ms": ("single", "recommend_p50_ms"), "recommend_p95_ms": ("single", "recommend_p95_ms"),
    "recommend_p99_ms": ("single", "recommend_p99_ms"), "ingest_events_per_s": ("build", "ingest_events_per_s"),
    "catalog_items_per_s": ("build", "catalog_items_per_s"),
    "shared_rss_mb_a": ("shared", "a_rss_increase_mb"), "shared_rss_mb_b": ("shared", "b_rss_increase_mb"),
    "shared_startup_s": ("shared", "startup_s"), "shared_record_p50_ms": ("shared", "record_p50_ms"),
    "shared_record_p95_ms": ("shared", "record_p95_ms"), "shared_recommend_p50_ms": ("shared", "recommend_p50_ms"),
    "shared_recommend_p95_ms": ("shared", "recommend_p95_ms"), "shared_recommend_p99_ms": ("shared", "recommend_p99_ms"),
    "chroma_server_rss_mb": ("shared", "chroma_server_rss_mb"), "postgres_rss_mb": ("shared", "postgres_rss_mb"),
    "postgres_pss_mb": ("shared", "postgres_pss_mb"), "shared_lag_p50_ms": ("shared", "lag_p50_ms"),
    "shared_lag_p95_ms": ("shared", "lag_p95_ms"), "shared_ingest_events_per_s": ("shared", "ingest_events_per_s"),
}
ACCEPTANCE = ["rss_mb_10k", "rss_mb_100k", "rss_mb_1m", "startup_s_100k", "record_p50_ms_100k", "recommend_p50_ms_100k",
              "recommend_p99_ms_100k", "recommend_p50_ms_1m"]


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def count(label: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    label = label.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(label[-1:], 1)
    return int(float(label[:-1] if scale > 1 else label) * scale)


# ----- building -----------------------------------------------------------------------------------


def run_build(spec: dict[str, Any]) -> dict[str, Any]:
    """bench.scale_build in a child process (its progress bars pass through to stderr); its report."""
    out = subprocess.run([sys.executable, "-m", "bench.scale_build", json.dumps(spec)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"building {spec.get('catalog', 'heads')} failed ({out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def heads_key() -> str:
    """A digest of the code that shapes trained heads: a change trains them again."""
    digest = hashlib.sha1()
    packages = [ROOT / "plugins/interest" / d for d in ("encoding", "understanding")]
    code = sorted(p.relative_to(ROOT).as_posix() for d in packages for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for rel in [*code, "bench/scale_build.py", "bench/scale_workload.py"]:
        path = ROOT / rel
        if path.is_file():
            digest.update(rel.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def cached_heads() -> tuple[Path, float]:
    """Heads trained once per code version (data/bench-cache/scale-heads-KEY); seconds spent training (0 if cached)."""
    path = ROOT / "data" / "bench-cache" / f"scale-heads-{heads_key()}"
    if (path / "manifest.json").exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"training classifier heads once into {path}")
    return path, run_build({"steps": ["heads"], "heads": str(path)})["heads_s"]


# ----- bot processes -------------------------------------------------------------------------------


@dataclass
class Probe:
    """One bench.scale_probe bot process, driven over its stdin/stdout."""

    name: str
    data_dir: Path
    catalog: str
    first_user: str
    log_path: Path
    chroma_url: str = ""
    sql_url: str = ""
    proc: subprocess.Popen | None = None
    opened: dict[str, Any] = field(default_factory=dict)

    def start(self) -> Probe:
        """Start the process (it opens the plugin at once); the parent's clock reading goes with it."""
        args = ["--data-dir", str(self.data_dir), "--catalog", self.catalog, "--first-user", self.first_user,
                "--chroma-url", self.chroma_url, "--sql-url", self.sql_url]
        err = self.log_path.open("ab")
        env = {**os.environ, "IBOT_SCALE_T0": repr(time.monotonic())}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.scale_probe", *args], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        err.close()
        return self

    def reply(self) -> dict[str, Any]:
        """The next reply line; a dead process or an error reply raises with the log's tail."""
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"probe {self.name} exited ({self.proc.wait()}):\n{self.tail()}")
            if line.startswith("@@"):
                data = json.loads(line[2:])
                if "error" in data:
                    raise RuntimeError(f"probe {self.name} failed:\n{data['error']}")
                return data

    def send(self, cmd: str, **data: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **data}) + "\n")
        self.proc.stdin.flush()

    def ask(self, cmd: str, **data: Any) -> dict[str, Any]:
        self.send(cmd, **data)
        return self.reply()

    def wait_open(self) -> dict[str, Any]:
        self.opened = self.reply()
        return self.opened

    def tail(self, n: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Close the plugin (flushes) and let the process end; kill it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.ask("close")
            self.proc.wait(timeout=120)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def start_figures(opened: dict[str, Any]) -> dict[str, Any]:
    """The start-up part of a probe's report."""
    return {k: round(opened[k], 3) for k in ("startup_s", "import_s", "open_s", "first_recommend_s")} | {"first_recommend_items": opened["first_recommend_items"]}


def latency_figures(prefix: str, samples: list[float], qs: Iterable[int]) -> dict[str, float]:
    return {f"{prefix}_p{q}_ms": percentile_ms(samples, q) for q in qs}


def record_pairs(probes: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Two 👍 per probe user: the item that follows their last one, then one from another of their tastes."""
    return [pair for user, nxt, other in probes for pair in ((user, nxt), (user, other))]


def exercise(probe: Probe, probes: list[tuple[str, str, str]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """record then recommend on one probe, and its memory after: raw replies."""
    rec = probe.ask("record", pairs=record_pairs(probes))
    ranked = probe.ask("recommend", users=[u for u, _, _ in probes], k=K)
    return rec, ranked, probe.ask("rss")


def summarize(opened: dict[str, Any], rec: dict[str, Any], ranked: dict[str, Any], mem: dict[str, Any]) -> dict[str, Any]:
    """A probe's figures: start-up, latencies, memory, and what recommend returned."""
    return {
        **start_figures(opened),
        **latency_figures("record", rec["samples"], (50, 95)),
        **latency_figures("recommend", ranked["samples"], (50, 95, 99)),
        "records": len(rec["samples"]), "recommends": len(ranked["samples"]),
        "recommend_min_items": min(ranked["sizes"]), "recommend_with_collaborative_reason": ranked["with_collaborative_reason"],
        "rss_mb": round(mem["rss_mb"], 1), "peak_rss_mb": round(mem["hwm_mb"], 1), "trimmed_rss_mb": round(mem["trimmed_mb"], 1),
    }


def measure_one(name: str, data_dir: Path, catalog: str, probes: list[tuple[str, str, str]], logs: Path, *, chroma_url: str = "",
                sql_url: str = "") -> dict[str, Any]:
    """One fresh bot process: start-up, record, recommend, RSS."""
    probe = Probe(name, data_dir, catalog, probes[0][0], logs / f"{name}.log", chroma_url=chroma_url, sql_url=sql_url).start()
    try:
        opened = probe.wait_open()
        out = summarize(opened, *exercise(probe, probes))
    finally:
        probe.stop()
    log(f"{name}: start-up {out['startup_s']}s, record p50 {out['record_p50_ms']} ms, recommend p50 {out['recommend_p50_ms']} / "
        f"p99 {out['recommend_p99_ms']} ms, RSS {out['rss_mb']} MB")
    return out


def with_increase(out: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """RSS and peak RSS over the baseline process's."""
    return {**out, **{f"{key}_increase_mb": round(out[f"{key}_mb"] - base[f"{key}_mb"], 1) for key in ("rss", "peak_rss", "trimmed_rss")}}


def base_probes(n: int, prefix: str) -> list[tuple[str, str, str]]:
    """Probe users of the 16-item baseline catalog."""
    return [(f"{prefix}{k:05d}", str(k % BASE_ITEMS), str((k + 5) % BASE_ITEMS)) for k in range(n)]


# ----- memory of server processes ---------------------------------------------------------------


def tree_memory_mb(pid: int) -> dict[str, float]:
    """RSS and PSS summed over a process and its descendants, in MB (PSS splits shared pages between them)."""
    import psutil

    root = psutil.Process(pid)
    rss = pss = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1)}


def postmaster_pid(pg: Any) -> int:
    """The PostgreSQL server's main process (first line of postmaster.pid)."""
    return int((Path(pg.datadir) / "postmaster.pid").read_text().split()[0])


# ----- one point -----------------------------------------------------------------------------------


def build_point(label: str, shape: Shape, work: Path, heads: Path, args: argparse.Namespace, checkpoints: list[int]) -> tuple[Path, dict[str, Any]]:
    """Data dir with the catalog ingested and the history in its SQLite counts; the build report."""
    data_dir = work / label / "data"
    saved = work / label / "build.json"
    if args.reuse and saved.exists():
        log(f"point {label}: reusing the data dir built earlier in {data_dir} (--reuse)")
        return data_dir, {**json.loads(saved.read_text()), "reused": True}
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"point {label}: building {shape.items:,} items, {shape.events:,} events over {shape.users:,} users in {data_dir}")
    started = time.perf_counter()
    spec = {"steps": ["catalog", "events", "rows"], "data_dir": str(data_dir), "catalog": catalog_name(label), "heads": str(heads),
            "shape": shape.__dict__, "checkpoints": checkpoints, "batch": args.batch}
    report = run_build(spec)
    report["build_s"] = round(time.perf_counter() - started, 1)
    log(f"point {label}: built in {report['build_s']}s (catalog {report['catalog_items_per_s']} items/s, counts {report['ingest_events_per_s']} events/s)")
    saved.write_text(json.dumps(report))
    return data_dir, report


def catalog_name(label: str) -> str:
    return f"scale-{label}"


def measure_history(label: str, data_dir: Path, workload: Workload, checkpoints: dict[str, str], base: dict[str, Any], logs: Path,
                    requests: int) -> dict[str, Any]:
    """The single-process measurement on the count store as it stood after each checkpoint's number of events."""
    out = {}
    counts = data_dir / "counts.sqlite"
    for events, path in sorted(checkpoints.items(), key=lambda kv: int(kv[0])):
        aside = [(p, p.with_name("full-" + p.name)) for p in (counts, counts.with_name("counts.sqlite-wal"), counts.with_name("counts.sqlite-shm")) if p.exists()]
        for p, q in aside:
            p.rename(q)
        try:
            for suffix in ("", "-wal", "-shm"):
                if Path(path + suffix).exists():
                    shutil.copyfile(path + suffix, str(counts) + suffix)
            probes = workload.probes(requests, f"history-{events}")
            out[events] = with_increase(measure_one(f"{label}-history-{events}", data_dir, catalog_name(label), probes, logs), base)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(counts) + suffix).unlink(missing_ok=True)
            for p, q in aside:
                q.rename(p)
    return out


def measure_shared(label: str, data_dir: Path, shape: Shape, workload: Workload, heads: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Two bot processes on one `chroma run` server (the point's Chroma files) and one PostgreSQL (the counts)."""
    from bench.load import ChromaServer
    from bench.pg import PgCluster

    logs = work / "logs"
    pg = PgCluster().start()
    chroma: ChromaServer | None = None
    probes: list[Probe] = []
    try:
        pg.psql("CREATE DATABASE base")
        chroma = ChromaServer(data_dir / "chroma", logs / f"chroma-{label}.log").start()
        log(f"point {label}: shared mode, chroma {chroma.url}, postgres {pg.url}; ingesting the history into PostgreSQL")
        build = run_build({"steps": ["events"], "data_dir": str(data_dir), "catalog": catalog_name(label), "shape": shape.__dict__,
                           "sql_url": pg.url, "batch": args.batch})
        build |= run_build({"steps": ["rows"], "data_dir": str(data_dir), "catalog": catalog_name(label), "chroma_url": chroma.url, "sql_url": pg.url})
        run_build({"steps": ["catalog"], "data_dir": str(data_dir), "catalog": BASE_CATALOG, "heads": str(heads), "chroma_url": chroma.url,
                   "shape": Shape(BASE_ITEMS, 4, 4).__dict__})
        base = measure_one(f"{label}-shared-base", data_dir, BASE_CATALOG, base_probes(args.requests, "sbase"), logs,
                           chroma_url=chroma.url, sql_url=pg.admin_url("base"))
        sets = {n: workload.probes(args.requests, f"shared-{n}") for n in ("a", "b")}
        sets["b"] = [p for p in sets["b"] if p[0] not in {u for u, _, _ in sets["a"]}]  # disjoint users: no two writers per user
        probes = [Probe(f"{label}-shared-{n}", data_dir, catalog_name(label), sets[n][0][0], logs / f"{label}-shared-{n}.log",
                        chroma_url=chroma.url, sql_url=pg.url).start() for n in ("a", "b")]
        opened = [p.wait_open() for p in probes]
        # Both processes work at once: each command goes to both before either reply is read.
        for p, n in zip(probes, ("a", "b")):
            p.send("record", pairs=record_pairs(sets[n]))
        recs = [p.reply() for p in probes]
        for p, n in zip(probes, ("a", "b")):
            p.send("recommend", users=[u for u, _, _ in sets[n]], k=K)
        ranked = [p.reply() for p in probes]
        mems = [p.ask("rss") for p in probes]
        servers = {"chroma": tree_memory_mb(chroma.proc.pid), "postgres": tree_memory_mb(postmaster_pid(pg))}  # type: ignore[union-attr]
        lag = measure_lag(probes[0], probes[1], workload, label, args.lag_writes)
        each = [with_increase(summarize(o, r, k, m), base) for o, r, k, m in zip(opened, recs, ranked, mems)]
    finally:
        for p in probes:
            p.stop()
        if chroma is not None:
            chroma.stop()
        pg.stop()
    both = {key: [s for r in (recs if key == "record" else ranked) for s in r["samples"]] for key in ("record", "recommend")}
    out = {
        "ingest_events_per_s": build["ingest_events_per_s"], "events_ingest_s": build["events_ingest_s"],
        "startup_s": max(e["startup_s"] for e in each),
        **latency_figures("record", both["record"], (50, 95)), **latency_figures("recommend", both["recommend"], (50, 95, 99)),
        "a": each[0], "b": each[1], "baseline": base,
        "a_rss_increase_mb": each[0]["rss_increase_mb"], "b_rss_increase_mb": each[1]["rss_increase_mb"],
        "chroma_server_rss_mb": servers["chroma"]["rss_mb"], "chroma_server_pss_mb": servers["chroma"]["pss_mb"],
        "postgres_rss_mb": servers["postgres"]["rss_mb"], "postgres_pss_mb": servers["postgres"]["pss_mb"],
        **lag,
    }
    log(f"point {label} shared: A +{out['a_rss_increase_mb']} MB, B +{out['b_rss_increase_mb']} MB, chroma {out['chroma_server_rss_mb']} MB, "
        f"postgres {out['postgres_rss_mb']} MB (PSS {out['postgres_pss_mb']}), lag p95 {out.get('lag_p95_ms')} ms")
    return out


def measure_lag(a: Probe, b: Probe, workload: Workload, label: str, writes: int) -> dict[str, Any]:
    """A records a 👍 for a fresh user while B polls; how long after A's acknowledgement B sees it (profile and counts)."""
    items = [nxt for _, nxt, _ in workload.probes(writes, f"lag-{label}")]
    lags: dict[str, list[float]] = {"profile": [], "counts": [], "both": []}
    missed = 0
    for k, item in enumerate(items):
        user = f"lag-{label}-{k:04d}"
        b.send("watch", user=user, timeout=30.0)
        b.reply()  # ready: B has read the user's state before the write
        ack = a.ask("feedback", user=user, item=item)["acked"]
        seen = b.reply()["seen"]
        if len(seen) < 2:
            missed += 1
            continue
        for key in ("profile", "counts"):
            lags[key].append(max(0.0, seen[key] - ack))
        lags["both"].append(max(lags["profile"][-1], lags["counts"][-1]))
    out: dict[str, Any] = {"lag_writes": len(items), "lag_seen": len(lags["both"]), "lag_missed": missed}
    if lags["both"]:
        out |= {"lag_p50_ms": percentile_ms(lags["both"], 50), "lag_p95_ms": percentile_ms(lags["both"], 95), "lag_max_ms": percentile_ms(lags["both"], 100),
                "lag_profile_p50_ms": percentile_ms(lags["profile"], 50), "lag_profile_p95_ms": percentile_ms(lags["profile"], 95),
                "lag_counts_p50_ms": percentile_ms(lags["counts"], 50), "lag_counts_p95_ms": percentile_ms(lags["counts"], 95)}
    return out


def run_point(label: str, args: argparse.Namespace, work: Path, heads: Path, base: dict[str, Any]) -> dict[str, Any]:
    """Build one point, measure it alone, along its history, and shared."""
    shape = Shape(items=count(label), users=args.users, events=args.events, seed=args.seed)
    workload = Workload(shape)
    history_here = label == args.history_point
    checkpoints = [count(h) for h in args.history.split(",") if h] if history_here else []
    data_dir, build = build_point(label, shape, work, heads, args, checkpoints)
    logs = work / "logs"
    point: dict[str, Any] = {"items": shape.items, "events": shape.events, "users": shape.users, "seed": shape.seed, "build": build}
    point["single"] = with_increase(measure_one(f"{label}-single", data_dir, catalog_name(label), workload.probes(args.requests, "single"), logs), base)
    if history_here:
        point["history"] = measure_history(label, data_dir, workload, build.get("checkpoints", {}), base, logs, args.requests)
        point["history"][str(shape.events)] = point["single"]
    if not args.no_shared:
        point["shared"] = measure_shared(label, data_dir, shape, workload, heads, work, args)
    point["baseline"] = {k: base[k] for k in ("rss_mb", "peak_rss_mb", "trimmed_rss_mb")}  # each point keeps the baseline its increase is over
    point["measured"] = time.strftime("%Y-%m-%d %H:%M")
    point["code_rev"] = git_rev()  # points of a split run may come from different commits: each says which
    if not args.keep:
        shutil.rmtree(work / label, ignore_errors=True)  # a 1M point holds gigabytes
    return point


# ----- results ------------------------------------------------------------------------------------


def git_rev() -> str:
    """The commit the measured code is at (with '+dirty' when the tree has changes)."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def merged_points(points: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """These points over those of an earlier run of the same workload in scale.json (a full run may be split)."""
    path = results_dir() / f"{NAME}.json"
    if args.quick or not path.exists():
        return points
    old = json.loads(path.read_text())
    same = (old.get("events"), old.get("users"), old.get("seed")) == (args.events, args.users, args.seed)
    if not same:
        log(f"{path} holds another workload (events, users or seed differ): its points are replaced")
        return points
    for label, point in points.items():
        earlier = old.get("points", {}).get(label, {})
        if "shared" not in point and "shared" in earlier:  # --no-shared re-measured the point alone: keep its shared figures
            point["shared"] = {**earlier["shared"], "measured": earlier["shared"].get("measured", earlier.get("measured")),
                               "code_rev": earlier["shared"].get("code_rev", earlier.get("code_rev"))}
    return {**old.get("points", {}), **points}


def reference(points: dict[str, Any]) -> str | None:
    """The point whole-run figures come from: 100k if measured, else the largest."""
    if "100k" in points:
        return "100k"
    return max(points, key=lambda p: points[p]["items"]) if points else None


def assemble(points: dict[str, Any], base: dict[str, Any], args: argparse.Namespace, heads_s: float, started: float) -> dict[str, Any]:
    """The result: acceptance keys, flat per-point keys, the points in full, and what the figures mean."""
    flat: dict[str, Any] = {}
    for label, point in points.items():
        for metric, (part, key) in FLAT.items():
            flat[f"{metric}_{label}"] = point.get(part, {}).get(key)
    ref = reference(points)
    result: dict[str, Any] = {key: flat.get(key) for key in ACCEPTANCE}
    result |= flat
    result |= {
        "ingest_events_per_s": points[ref]["build"]["ingest_events_per_s"] if ref else None,
        "shared_lag_p95_ms": points[ref].get("shared", {}).get("lag_p95_ms") if ref else None,
        "reference_point": ref,
        "events": args.events, "users": args.users, "seed": args.seed, "requests_per_process": args.requests, "k": K,
        "points": points, "baseline": base,
        "embeddings": SYNTHETIC, "rss_baseline": BASELINE,
        "history_note": "history events are in the count store only; the interest memory holds what the probes record",
        "heads_note": "classifier heads trained once on 400 synthetic items (18 ML-100k genres, no reviews or authored lines): the bench never reads chat",
        "code_rev": git_rev(), "heads_train_s": heads_s, "wall_s": round(time.perf_counter() - started, 1),
    }
    return result


# ----- picture ------------------------------------------------------------------------------------


def plot(result: dict[str, Any], path: Path) -> Path:
    """docs/scale.png: latency and memory against catalog size (log x), and latency against history length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    points = sorted(result["points"].values(), key=lambda p: p["items"])
    fig, axes = plt.subplots(1, 3, figsize=(16, 6))
    x = [p["items"] for p in points]

    def series(ax: Any, part: str, key: str, label: str, style: str) -> None:
        xs = [xi for xi, p in zip(x, points) if p.get(part, {}).get(key) is not None]
        ys = [p[part][key] for p in points if p.get(part, {}).get(key) is not None]
        if ys:
            ax.plot(xs, ys, style, label=label)

    ax = axes[0]
    series(ax, "single", "recommend_p50_ms", "recommend p50", "o-")
    series(ax, "single", "recommend_p99_ms", "recommend p99", "s-")
    series(ax, "single", "record_p50_ms", "record p50", "^-")
    series(ax, "shared", "recommend_p50_ms", "recommend p50, shared", "o--")
    series(ax, "shared", "recommend_p99_ms", "recommend p99, shared", "s--")
    ax.set(xscale="log", yscale="log", xlabel="catalog items", ylabel="ms", title="latency vs catalog size")
    ax = axes[1]
    series(ax, "single", "rss_increase_mb", "bot process (alone)", "o-")
    series(ax, "single", "trimmed_rss_increase_mb", "bot process (alone), live: after malloc_trim", "d-")
    series(ax, "single", "peak_rss_increase_mb", "bot process (alone), peak", "v-")
    series(ax, "shared", "a_rss_increase_mb", "bot process A (shared)", "o--")
    series(ax, "shared", "b_rss_increase_mb", "bot process B (shared)", "x--")
    series(ax, "shared", "chroma_server_rss_mb", "Chroma server (RSS)", "s:")
    series(ax, "shared", "postgres_pss_mb", "PostgreSQL (PSS)", "^:")
    ax.set(xscale="log", xlabel="catalog items", ylabel="MB", title="memory vs catalog size (bot: increase over baseline)")
    ax = axes[2]
    hist = next(((p["items"], p["history"]) for p in points if p.get("history")), None)
    if hist:
        items, runs = hist
        ev = sorted(runs, key=int)
        for key, label, style in (("recommend_p50_ms", "recommend p50", "o-"), ("recommend_p99_ms", "recommend p99", "s-"), ("record_p50_ms", "record p50", "^-")):
            ax.plot([int(e) for e in ev], [runs[e][key] for e in ev], style, label=label)
        ax.set(xscale="log", yscale="log", xlabel="events in the count store", ylabel="ms", title=f"latency vs history length ({items:,} items)")
    else:
        ax.text(0.5, 0.5, "history length not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 20, not 2x10^1
    for ax in axes:
        if ax.get_yscale() == "log":  # ticks at 1, 2, 5 per decade: a narrow range still gets labels
            ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if ax.get_legend_handles_labels()[0]:  # below the axes: never over a point
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        ax.grid(True, which="both", alpha=0.3)
    revs = ", ".join(f"{label} at {p.get('code_rev', '?')}" for label, p in sorted(result["points"].items(), key=lambda kv: kv[1]["items"]))
    fig.suptitle(f"bench.scale: {result['events']:,} events over {result['users']:,} users; synthetic embeddings; measured {revs}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----- main ---------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default="10k,100k,1m", help="catalog sizes, comma-separated (k = thousand, m = million)")
    ap.add_argument("--events", type=count, default=1_000_000)
    ap.add_argument("--users", type=count, default=100_000)
    ap.add_argument("--requests", type=int, default=300, help="users per bot process: two records and one recommend each")
    ap.add_argument("--lag-writes", type=int, default=50)
    ap.add_argument("--history", default="100k,300k", help="history checkpoints (events) measured at --history-point")
    ap.add_argument("--history-point", default="100k")
    ap.add_argument("--batch", type=int, default=1000, help="events per add_events call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-shared", action="store_true", help="skip the two-process mode (chroma run + PostgreSQL)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2k items, 20k events, 2k users, 30 requests; never writes scale.json")
    ap.add_argument("--plot", type=Path, default=None, help="where to draw the picture (default docs/scale.png; --quick: none)")
    ap.add_argument("--plot-only", action="store_true", help="redraw the picture from bench/results/scale.json and exit")
    ap.add_argument("--work", type=Path, default=None, help="where data dirs are built (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (data dirs, logs)")
    ap.add_argument("--reuse", action="store_true", help="measure a point's data dir kept in --work by an earlier --keep run instead of building it "
                    "again (its counts then also hold the earlier run's probe writes)")
    args = ap.parse_args(argv)
    if args.quick:
        args.points, args.events, args.users, args.requests, args.lag_writes = "2k", 20_000, 2_000, 30, 10
        args.history, args.history_point = "5k", "2k"
    return args


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Build and measure every asked point, side by side with the baseline; write and print the result."""
    args = parse(argv)
    if args.plot_only:
        print(plot(json.loads((results_dir() / f"{NAME}.json").read_text()), args.plot or ROOT / "docs" / "scale.png"))
        return None
    started = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="ibot-scale-"))
    (work / "logs").mkdir(parents=True, exist_ok=True)
    log(f"work dir {work}; {SYNTHETIC}")
    try:
        heads, heads_s = cached_heads()
        base_dir = work / "base" / "data"
        run_build({"steps": ["catalog"], "data_dir": str(base_dir), "catalog": BASE_CATALOG, "heads": str(heads), "shape": Shape(BASE_ITEMS, 4, 4).__dict__})
        base = measure_one("baseline", base_dir, BASE_CATALOG, base_probes(args.requests, "base"), work / "logs")
        points = {label: run_point(label, args, work, heads, base) for label in args.points.lower().split(",") if label}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    result = assemble(merged_points(points, args), base, args, heads_s, started)
    picture = args.plot or (None if args.quick else ROOT / "docs" / "scale.png")
    if picture is not None:
        drawn = plot(result, picture).resolve()
        result["picture"] = str(drawn.relative_to(ROOT) if drawn.is_relative_to(ROOT) else drawn)
    print(SYNTHETIC)
    print(BASELINE)
    finish(NAME, result, smoke=args.quick)
    return result


if __name__ == "__main__":
    main()
