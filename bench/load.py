"""Load, sharing and crash recovery of real `interest-bot serve` processes, on loopback only.

    python -m bench.load                       # 20 users x 25 messages, 20 chats; ~5-10 min on 2 cores
    python -m bench.load --users 4 --messages 5 --chats 2 --name smoke   # what the smoke test runs

Three scenarios, each bounded in requests and time:

1. single: one server, embedded Chroma. USERS simulated users send MESSAGES messages each through
   POST /v1/observe at the same time (each user waits for its reply before the next message), then
   CHATS concurrent POST /v1/chat requests, which queue on the server's model lock and must not fail.
2. shared: two servers on one `chroma run` server and one throwaway PostgreSQL (counts and
   conversation checkpoints); the same observe load, every user alternating between the servers
   message by message (a load balancer without stickiness); one user's conversation goes A then B.
3. crash: one server, embedded Chroma; SIGKILL in the middle of an observe run, restart on the same
   data dir (the kernel released the lock: no stale-lock error), the users carry on.

Lost signals = event ids acknowledged by the API (in 200 responses) minus event ids found in Chroma,
read back directly from Chroma after the servers stopped. Requests that got no response because the
server was killed are not acknowledged, so they are counted as `crash_unanswered`, not as lost.
Prints progress to stderr; the JSON result is the last line of stdout (bench/results/load.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.common import percentile_ms, results_dir, write_result
from bench.datadir import fresh_data_dir

TASTE = [
    "I just watched Star Wars and loved it",
    "Toy Story is one of my favourite films",
    "I can't stand horror movies, they give me nightmares",
    "Fargo was brilliant, I love dark crime stories",
    "I love science fiction and space operas",
    "romantic comedies bore me to tears",
    "The Godfather is a masterpiece",
    "I really enjoyed Contact, more films like that please",
    "documentaries about nature are great",
    "I hated Scream",
    "Pulp Fiction is so much fun",
    "I adore animated movies for kids",
    "westerns are not my thing at all",
    "Jurassic Park was awesome, I like adventure films",
    "I love a good thriller with a twist",
    "musicals are wonderful, I watched The Sound of Music again",
    "war films like Apocalypse Now move me",
    "I don't like slow dramas",
]


def chitchat(n: int, seed: int) -> list[str]:
    """n real human utterances from the chitchat-dataset package (shuffled, short ones kept)."""
    import importlib.util

    spec = importlib.util.find_spec("chitchat_dataset")
    assert spec is not None and spec.submodule_search_locations is not None, "chitchat-dataset is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    texts = [u["text"] for conv in data.values() for msg in conv["messages"] for u in msg if 3 <= len(u.get("text", "").strip()) <= 600]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.permutation(len(texts))[:n]]


def user_scripts(users: int, messages: int, seed: int, prefix: str) -> dict[str, list[str]]:
    """Per user: messages that mix real chit-chat (2 of 3) with taste sentences naming titles and genres (1 of 3)."""
    rng = random.Random(seed)
    chat = chitchat(users * messages, seed)
    out = {}
    for u in range(users):
        msgs = []
        for m in range(messages):
            msgs.append(rng.choice(TASTE) if m % 3 == 0 else chat[u * messages + m])
        out[f"{prefix}-u{u:02d}"] = msgs
    return out


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----- processes ------------------------------------------------------------------------------------


@dataclass
class Server:
    """One `interest-bot serve` subprocess on loopback."""

    name: str
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    started_s: float = 0.0
    cold_first_request_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> Server:
        cli = Path(sys.executable).with_name("interest-bot")
        env = {**os.environ, "IBOT_DATA_DIR": str(self.data_dir), "IBOT_DEVICE": "cpu", "IBOT_HOST": "127.0.0.1", **self.env}
        out = self.log_path.open("ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(self.port)], env=env,
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server {self.name} did not answer /healthz within {timeout}s:\n{self.tail()}")
            time.sleep(0.3)
        healthy = time.perf_counter()
        # /healthz answers before the plugin is open: the server opens it on the first /v1 request
        # (bot/services.py `Services.plugin`, lazily). Time that cold first request separately, as a
        # load balancer's readiness probe would, so steady-state percentiles are not mixed with it.
        while True:
            try:
                with urllib.request.urlopen(self.url + "/v1/users/load-readiness/profile", timeout=600) as r:
                    if r.status == 200:
                        break
            except OSError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"server {self.name} never served /v1 ({exc}):\n{self.tail()}") from None
                time.sleep(0.5)
        self.cold_first_request_s = time.perf_counter() - healthy
        self.started_s = time.perf_counter() - t0
        log(f"server {self.name} up on :{self.port} in {self.started_s:.1f}s (first /v1 request after /healthz: {self.cold_first_request_s:.1f}s)")
        return self

    def tail(self, n: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL if it lingers."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class ChromaServer:
    """A `chroma run` subprocess."""

    path: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ChromaServer:
        exe = Path(sys.executable).with_name("chroma")
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen([str(exe if exe.exists() else "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v2/heartbeat", timeout=1) as r:
                    if r.status == 200:
                        log(f"chroma server up on :{self.port}")
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("chroma run did not answer")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ----- clients --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    unanswered: int = 0  # connection refused/reset: no response at all (only while a server is down)
    retried_ok: int = 0
    requests: int = 0
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def errors_5xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def summary(self) -> dict[str, Any]:
        ok = self.statuses.get(200, 0)
        lat = self.latencies or [0.0]
        return {
            "requests": self.requests,
            "ok": ok,
            "errors_5xx": self.errors_5xx,
            "errors_4xx": sum(n for s, n in self.statuses.items() if 400 <= s < 500),
            "unanswered": self.unanswered,
            "acknowledged_signals": len(self.acked),
            "throughput_rps": round(ok / self.wall_s, 2) if self.wall_s else 0.0,
            "p50_ms": percentile_ms(lat, 50),
            "p95_ms": percentile_ms(lat, 95),
            "p99_ms": percentile_ms(lat, 99),
            "max_ms": percentile_ms(lat, 100),
            "wall_s": round(self.wall_s, 2),
        }


class Progress:
    def __init__(self, total: int, label: str):
        self.total, self.label, self.done, self.last = total, label, 0, 0.0

    def tick(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last > 5 or self.done == self.total:
            self.last = now
            log(f"{self.label}: {self.done}/{self.total}")


async def observe_load(
    scripts: dict[str, list[str]],
    pick_url: Any,
    tally: Tally,
    deadline: float,
    on_ack: Any = None,
    retry_unanswered: bool = False,
) -> None:
    """Every user sends its messages one after another; all users at once. pick_url(user_index, message_index) -> base URL."""
    progress = Progress(sum(len(m) for m in scripts.values()), "observe")
    limits = httpx.Limits(max_connections=len(scripts) + 4, max_keepalive_connections=len(scripts) + 4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0), limits=limits) as client:

        async def run_user(ui: int, user: str, messages: list[str]) -> None:
            for mi, text in enumerate(messages):
                while True:
                    if time.monotonic() > deadline:
                        tally.errors.append(f"{user}: deadline reached before message {mi}")
                        return
                    url = pick_url(ui, mi)
                    tally.requests += 1
                    t0 = time.perf_counter()
                    try:
                        r = await client.post(f"{url}/v1/observe", json={"user_id": user, "message": text})
                    except httpx.TransportError as exc:
                        tally.unanswered += 1
                        if not retry_unanswered:
                            tally.errors.append(f"{user}: {type(exc).__name__}")
                            break
                        await asyncio.sleep(0.5)  # the server is down: wait for it, resend the same message
                        continue
                    dt = time.perf_counter() - t0
                    tally.count(r.status_code)
                    if r.status_code == 200:
                        tally.latencies.append(dt)
                        ids = r.json().get("event_ids", [])
                        tally.acked.update(ids)
                        if on_ack is not None:
                            on_ack(len(ids))
                    elif len(tally.errors) < 20:
                        tally.errors.append(f"{user}: HTTP {r.status_code} {r.text[:200]}")
                    break
                progress.tick()

        t0 = time.perf_counter()
        await asyncio.gather(*(run_user(i, u, m) for i, (u, m) in enumerate(scripts.items())))
        tally.wall_s = time.perf_counter() - t0


async def chat_burst(url: str, n: int, prefix: str, timeout_s: float) -> dict[str, Any]:
    """n concurrent POST /v1/chat: past the server's chat queue (IBOT_CHAT_QUEUE) a chat gets 429 with Retry-After,
    and the client waits and retries as a well-behaved one does; every one must come back 200 in the end."""
    progress = Progress(n, "chat")
    lat: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    retried = 0
    messages = ["Can you recommend a good science fiction movie?", "I loved Star Wars, what should I watch next?",
                "Something funny for tonight?", "I like crime stories like Fargo"]
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=5.0), limits=httpx.Limits(max_connections=n + 2)) as client:

        async def one(i: int) -> None:
            nonlocal retried
            t0 = time.perf_counter()
            try:
                while True:
                    r = await client.post(f"{url}/v1/chat", json={"user_id": f"{prefix}-chat{i:02d}", "message": messages[i % len(messages)]})
                    if r.status_code != 429 or time.perf_counter() - t0 > timeout_s:
                        break
                    retried += 1
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    lat.append(time.perf_counter() - t0)
                else:
                    errors.append(f"HTTP {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                statuses[0] = statuses.get(0, 0) + 1
                errors.append(f"{type(exc).__name__}: {exc}")
            progress.tick()

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    lat_ = lat or [0.0]
    return {
        "chat_requests": n,
        "chat_ok": statuses.get(200, 0),
        "chat_errors": n - statuses.get(200, 0),
        "chat_errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "chat_retries_429": retried,
        "chat_p50_s": round(float(np.percentile(lat_, 50)), 3),
        "chat_p95_s": round(float(np.percentile(lat_, 95)), 3),
        "chat_max_s": round(float(max(lat_)), 3),
        "chat_wall_s": round(wall, 2),
        "chat_error_samples": errors[:5],
    }


def stage_means(url: str) -> dict[str | None, dict[str, float]]:
    """Per plugin stage and per route: count and mean ms, from the server's own /metrics (its histograms)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
            text = r.read().decode()
    except OSError:
        return {}
    sums: dict[str | None, dict[str, float]] = {}  # every sample has a stage or a route label
    for fam in text_string_to_metric_families(text):
        if fam.name not in ("ibot_stage_seconds", "ibot_request_seconds"):
            continue
        for sample in fam.samples:
            key = sample.labels.get("stage") or sample.labels.get("route")
            if sample.name.endswith("_count"):
                sums.setdefault(key, {})["count"] = sample.value
            elif sample.name.endswith("_sum"):
                sums.setdefault(key, {})["sum"] = sample.value
    return {k: {"count": int(v.get("count", 0)), "mean_ms": round(1000 * v.get("sum", 0) / max(v.get("count", 0), 1), 1)} for k, v in sums.items()}


# ----- reading back ---------------------------------------------------------------------------------


# ----- scenarios ------------------------------------------------------------------------------------


def scenario_single(data_dir: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    log("scenario 1/3: one server, embedded Chroma")
    server = Server("single", data_dir, {"IBOT_MAX_NEW_TOKENS": str(args.max_new_tokens)}, work / "single.log").start()
    scripts = user_scripts(args.users, args.messages, seed=1, prefix="single")
    tally = Tally()
    try:
        asyncio.run(observe_load(scripts, lambda u, m: server.url, tally, time.monotonic() + args.time_limit))
        log(f"observe done: {tally.summary()}")
        stages = stage_means(server.url)
        chat = asyncio.run(chat_burst(server.url, args.chats, "single", args.chat_timeout)) if args.chats else {}
        log(f"chat done: {chat}")
        alive = server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()
    stored = read_embedded(data_dir)
    lost = tally.acked - set(stored)
    return {**tally.summary(), **chat, "lost_signals": len(lost), "server_alive_after": alive, "server_stages": stages, "startup_s": round(server.started_s, 1),
            "cold_first_request_s": round(server.cold_first_request_s, 1),
            "error_samples": tally.errors[:5], "_tally": tally}


def read_embedded(data_dir: Path) -> dict[str, dict]:
    """Event ids in an embedded data dir, read in a child process (which takes and releases the data-dir lock)."""
    code = (
        "import json,sys; from pathlib import Path; from interest_bot.memory.chroma import open_client;"
        "from interest_bot.memory.event_layout import EVENTS_COLLECTION;"
        "c=open_client(Path(sys.argv[1])).get_collection(EVENTS_COLLECTION); out={}; off=0\n"
        "while True:\n"
        "    p=c.get(include=['metadatas'],limit=5000,offset=off)\n"
        "    out.update({i:(m or {}) for i,m in zip(p['ids'],p['metadatas'])})\n"
        "    if len(p['ids'])<5000: break\n"
        "    off+=5000\n"
        "print(json.dumps(out))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"reading Chroma back failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def read_server(chroma_url: str) -> dict[str, dict]:
    """Event ids stored in a Chroma server."""
    import chromadb
    from chromadb.config import Settings

    from interest_bot.memory.event_layout import EVENTS_COLLECTION

    host, port = chroma_url.removeprefix("http://").split(":")
    col = chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False)).get_collection(EVENTS_COLLECTION)
    out: dict[str, dict] = {}
    offset = 0
    while True:
        page = col.get(include=["metadatas"], limit=5000, offset=offset)
        metadatas = page["metadatas"]
        assert metadatas is not None  # included above
        out.update({i: dict(m or {}) for i, m in zip(page["ids"], metadatas)})
        if len(page["ids"]) < 5000:
            return out
        offset += 5000


def scenario_shared(template: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Two servers, one Chroma server, one PostgreSQL."""
    from bench.pg import PgCluster
    from interest_bot.memory.counts import CountStore
    from interest_bot.memory.sources import load_ratings_ml100k

    log("scenario 2/3: two servers, one `chroma run` server, one PostgreSQL")
    pg = PgCluster().start()  # its own temp dir: the postgres user must be able to reach it
    log(f"postgres up: {pg.url}")
    chroma = None
    servers: list[Server] = []
    try:
        # The catalog lives in the Chroma server: serve a copy of the ingested data dir's Chroma files.
        shared_dir = work / "shared-data"
        chroma = ChromaServer(shared_dir / "chroma", work / "chroma.log").start()
        t0 = time.perf_counter()
        store = CountStore.open(pg.url)
        seeded = store.seed_from_ratings(((u, i, t) for u, i, _r, t in load_ratings_ml100k()), catalog="movielens-100k")
        store.close()
        seed_s = time.perf_counter() - t0
        log(f"counts seeded into postgres: {seeded} events in {seed_s:.1f}s")
        env = {"IBOT_CHROMA_URL": chroma.url, "IBOT_SQL_URL": pg.url, "IBOT_MAX_NEW_TOKENS": str(args.max_new_tokens)}
        servers = [Server(n, shared_dir, env, work / f"shared-{n}.log").start() for n in ("A", "B")]
        scripts = user_scripts(args.users, args.messages, seed=2, prefix="shared")
        tally = Tally()
        # Alternate servers message by message: every user's events are written by both processes.
        asyncio.run(observe_load(scripts, lambda u, m: servers[(u + m) % 2].url, tally, time.monotonic() + args.time_limit))
        log(f"observe done: {tally.summary()}")
        stages = {s.name: stage_means(s.url) for s in servers}
        log(f"server stages (mean ms): {stages}")
        conv = asyncio.run(shared_conversation(servers, args.chat_timeout)) if args.chats else {}
        log(f"shared conversation: {conv}")
        per_server = {s.name: s.proc is not None and s.proc.poll() is None for s in servers}
    finally:
        for s in servers:
            s.stop()
    try:
        stored = read_server(chroma.url)
        lost = tally.acked - set(stored)
        # The counts in PostgreSQL hold every item event that is in Chroma (the two processes' writes met).
        store = CountStore.open(pg.url)
        pg_events = {row[0] for row in store.snapshot()["events"]}
        store.close()
        item_events = {i for i, m in stored.items() if m.get("item_id")}
        counts_missing = len(item_events - pg_events)
    finally:
        chroma.stop()
        pg.stop()
    return {**tally.summary(), "lost_signals": len(lost), "item_events": len(item_events), "counts_missing_item_events": counts_missing,
            "servers_alive_after": per_server, "server_stages": stages, "counts_seed_s": round(seed_s, 1), **conv, "error_samples": tally.errors[:5],
            "_tally": tally}


async def shared_conversation(servers: list[Server], timeout_s: float) -> dict[str, Any]:
    """One user: a turn on server A, the next on server B; both servers' exports show both turns (Postgres checkpoints)."""
    user = "shared-conversation"
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        statuses = []
        for s, msg in zip(servers, ["I love science fiction", "and what about something funny?"]):
            r = await client.post(f"{s.url}/v1/chat", json={"user_id": user, "message": msg})
            statuses.append(r.status_code)
        seen = []
        for s in servers:
            r = await client.get(f"{s.url}/v1/users/{user}/export")
            threads = r.json().get("conversations", []) if r.status_code == 200 else None  # [{"thread", "messages"}]
            seen.append(-1 if threads is None else len([m for t in threads for m in t["messages"] if m.get("role") == "user"]))
    return {"shared_chat_statuses": statuses, "shared_conversation_user_turns_seen": seen}


def scenario_crash(data_dir: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    log("scenario 3/3: SIGKILL a server mid-run, restart it on the same data dir")
    server = Server("crash", data_dir, {"IBOT_MAX_NEW_TOKENS": str(args.max_new_tokens)}, work / "crash.log").start()
    scripts = user_scripts(args.users, args.messages, seed=3, prefix="crash")
    total = sum(len(m) for m in scripts.values())
    tally = Tally()
    state: dict[str, Any] = {"acks": 0, "killed_at": None, "restart_s": None, "restart_error": None}

    def on_ack(_n: int) -> None:
        state["acks"] += 1
        if state["killed_at"] is None and state["acks"] >= total // 2:
            state["killed_at"] = state["acks"]
            log(f"SIGKILL server after {state['acks']} acknowledged messages (requests in flight)")
            server.kill()
            asyncio.get_running_loop().run_in_executor(None, restart)

    def restart() -> None:
        t0 = time.perf_counter()
        try:
            server.start()
            state["restart_s"] = round(time.perf_counter() - t0, 1)
        except Exception as exc:
            state["restart_error"] = str(exc)[-1500:]
            log(f"restart failed: {exc}")

    try:
        asyncio.run(observe_load(scripts, lambda u, m: server.url, tally, time.monotonic() + args.time_limit, on_ack=on_ack,
                                 retry_unanswered=True))
        log(f"observe done: {tally.summary()}")
        # The restarted process serves what was acknowledged before the kill (export goes through its memory).
        exported = asyncio.run(export_ids(server.url, list(scripts)))
    finally:
        server.stop()
    stored = read_embedded(data_dir)
    lost = tally.acked - set(stored)
    lost_export = tally.acked - exported
    # Item events in Chroma that the counts never got (a kill between the Chroma write and the counts write).
    from interest_bot.memory.counts import CountStore

    store = CountStore.open(data_dir / "counts.sqlite")
    in_counts = {row[0] for row in store.snapshot()["events"]}
    store.close()
    counts_missing = len({i for i, m in stored.items() if m.get("item_id")} - in_counts)
    stale_lock = "lock" in (state["restart_error"] or "").lower()
    return {**tally.summary(), "lost_signals": len(lost), "lost_in_export_after_restart": len(lost_export), "killed_after_acks": state["killed_at"],
            "counts_missing_item_events": counts_missing,
            "restart_s": state["restart_s"], "restart_error": state["restart_error"], "stale_lock": stale_lock,
            "error_samples": tally.errors[:5], "_tally": tally}


async def export_ids(url: str, users: list[str]) -> set[str]:
    out: set[str] = set()
    async with httpx.AsyncClient(timeout=120) as client:
        for u in users:
            r = await client.get(f"{url}/v1/users/{u}/export")
            r.raise_for_status()
            out.update(e["event_id"] for e in r.json().get("events", []))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--messages", type=int, default=25)
    ap.add_argument("--chats", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--chat-timeout", type=float, default=900.0, help="client timeout per chat request (they queue)")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per observe run before clients give up")
    ap.add_argument("--scenarios", default="single,shared,crash")
    ap.add_argument("--name", default="load")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, data) for inspection")
    args = ap.parse_args()
    wanted = set(args.scenarios.split(","))

    started = time.perf_counter()
    data_dir = fresh_data_dir("ibot-load-")
    work = data_dir.parent
    log(f"work dir {work}")
    # The shared scenario serves its own copy of the ingested Chroma files (before scenario 1 writes events).
    shutil.copytree(data_dir, work / "shared-data", symlinks=True)
    results: dict[str, Any] = {}
    try:
        if "single" in wanted:
            results["single"] = scenario_single(data_dir, work, args)
        if "shared" in wanted:
            results["shared"] = scenario_shared(data_dir, work, args)
        if "crash" in wanted:
            results["crash"] = scenario_crash(data_dir, work, args)
    finally:
        failed = any(r["_tally"].errors_5xx for r in results.values() if "_tally" in r)
        if failed:
            # A 5xx is a bug to chase: keep the servers' logs (their tracebacks) even without --keep.
            for name in sorted(work.glob("*.log")):
                shutil.copy(name, results_dir() / f"{args.name}-{name.name}")
            log(f"5xx seen: server logs copied to {results_dir()}/{args.name}-*.log")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    tallies = [r.pop("_tally") for r in results.values()]
    single, shared, crash = results.get("single", {}), results.get("shared", {}), results.get("crash", {})
    result = {
        "users": args.users,
        "messages_per_user": args.messages,
        "requests": sum(t.requests for t in tallies) + single.get("chat_requests", 0),
        "errors_5xx": sum(t.errors_5xx for t in tallies) + single.get("chat_errors_5xx", 0),
        "lost_signals": single.get("lost_signals", 0),
        "shared_lost_signals": shared.get("lost_signals", 0),
        "crash_lost_signals": crash.get("lost_signals", 0),
        "acknowledged_signals": sum(len(t.acked) for t in tallies),
        "throughput_rps": single.get("throughput_rps", 0.0),
        "p50_ms": single.get("p50_ms", 0.0),
        "p95_ms": single.get("p95_ms", 0.0),
        "p99_ms": single.get("p99_ms", 0.0),
        "shared_throughput_rps": shared.get("throughput_rps", 0.0),
        "shared_p50_ms": shared.get("p50_ms", 0.0),
        "shared_p95_ms": shared.get("p95_ms", 0.0),
        "chat_requests": single.get("chat_requests", 0),
        "chat_retries_429": single.get("chat_retries_429", 0),
        "chat_errors": single.get("chat_errors", 0),
        "chat_p50_s": single.get("chat_p50_s", 0.0),
        "chat_p95_s": single.get("chat_p95_s", 0.0),
        "chat_max_s": single.get("chat_max_s", 0.0),
        "errors_transport": single.get("unanswered", 0) + shared.get("unanswered", 0),
        "cold_first_request_s": single.get("cold_first_request_s", 0.0),
        "crash_unanswered": crash.get("unanswered", 0),
        "crash_restart_s": crash.get("restart_s"),
        "crash_stale_lock": crash.get("stale_lock", False),
        "scenarios": results,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    write_result(args.name, result)


if __name__ == "__main__":
    main()
