"""Durability with real processes: SIGKILL right after acks loses nothing; two writers on one Chroma server lose nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from chroma_server import start_chroma_server

from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.event_layout import EVENTS_COLLECTION
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.outbox import embedded_outbox

WRITER = textwrap.dedent(
    """
    import sys, time, numpy as np
    from pathlib import Path
    from interest_bot.memory.chroma import open_client
    from interest_bot.memory.counts import CountStore
    from interest_bot.memory.interests import InterestMemory
    from interest_bot.memory.outbox import embedded_outbox
    from interest_bot.memory.signals import InterestSignal
    from interest_bot.memory.write_behind import WriteBehind

    data, url, users, n, tag = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), int(sys.argv[4]), sys.argv[5]
    # As the plugin opens it: embedded mode writes through the outbox, a shared server directly.
    WriteBehind.OUTBOX_MAX_LAG_S = 3600.0  # a busy writer: the kill comes before any drain to Chroma
    client = open_client(data, url)
    mem = InterestMemory(client, CountStore.open(data / "counts.sqlite"), shared=bool(url), outbox=embedded_outbox(data, url))
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    print("READY", flush=True)
    for i in range(n):
        v = rng.standard_normal(384).astype(np.float32)
        user = users[i % len(users)]
        item = f"cat:{tag}{i}" if i % 2 else None
        s = InterestSignal(f"{tag} clause {i}", v / np.linalg.norm(v), {"A": 0.7, "B": 0.3}, 0.8, 0.5, "chat", item)
        (eid,) = mem.record(user, [s])
        print("ACK", user, eid, item or "-", flush=True)
    print("DONE", flush=True)
    time.sleep(600)  # wait to be killed: nothing is flushed on a clean exit
    """
)


def _spawn(tmp: Path, data: Path, url: str, users: str, n: int, tag: str) -> subprocess.Popen:
    script = tmp / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    return subprocess.Popen([sys.executable, str(script), str(data), url, users, str(n), tag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _read_acks(proc: subprocess.Popen, until: int, timeout: float = 240.0) -> list[tuple[str, str, str]]:
    """Collect ACK lines until `until` acks (or DONE) arrived."""
    assert proc.stdout is not None and proc.stderr is not None  # _spawn pipes both
    acks: list[tuple[str, str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(acks) < until:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"writer died: {proc.stderr.read()[-3000:]}")
        if line.startswith("ACK"):
            _, user, eid, item = line.split()
            acks.append((user, eid, item))
        elif line.startswith("DONE"):
            break
    return acks


def test_sigkill_right_after_acks_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = _spawn(tmp_path, data, "", "alice,bob", 10_000, "k")
    try:
        acks = _read_acks(proc, until=30)
        # Killed mid-stream, right after the 30th ack: no flush, no atexit, no write-behind.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(acks) == 30 and proc.returncode == -signal.SIGKILL
    # This process opens the same dir: no stale lock. The acked events sat in the outbox, not yet in Chroma.
    client = open_client(data)
    in_chroma = set(client.get_collection(EVENTS_COLLECTION).get(include=[])["ids"])
    outbox = embedded_outbox(data)
    assert outbox is not None  # embedded mode has one
    assert outbox.count() + len(in_chroma) >= 30 and outbox.count() > 0
    counts = CountStore.open(data / "counts.sqlite")
    mem = InterestMemory(client, counts, shared=False, outbox=outbox)  # replays the outbox into Chroma
    try:
        assert outbox.count() == 0 and {eid for _, eid, _ in acks} <= set(client.get_collection(EVENTS_COLLECTION).get(include=[])["ids"])
        for user in ("alice", "bob"):
            acked = [eid for u, eid, _ in acks if u == user]
            stored = {e.event_id for e in mem.events(user, limit=None)}
            assert set(acked) <= stored
            # The profile covers at least every acked signal (rebuilt from events if the write-behind was cut off).
            assert mem.profile(user).n_signals == len(stored)
            acked_items = {item for u, _, item in acks if u == user and item != "-"}
            assert acked_items <= {e["item_id"] for e in counts.user_contribution(user)["events"]}
    finally:
        mem.close()
        counts.close()


def test_two_processes_on_one_server_lose_no_event(tmp_path: Path) -> None:
    server = start_chroma_server(tmp_path / "srv" / "chroma")
    try:
        shared = tmp_path / "shared"
        shared.mkdir()
        # Both writers use the same server and the same counts database; user "both" is written by both at once.
        procs = [_spawn(tmp_path, shared, server.url, f"both,only{t}", 40, t) for t in ("p", "q")]
        try:
            for p in procs:
                assert p.stdout is not None and p.stderr is not None  # _spawn pipes both
                assert p.stdout.readline().strip() == "READY", p.stderr.read()[-2000:]
            acks = [a for p in procs for a in _read_acks(p, until=40)]
        finally:
            for p in procs:
                p.kill()
                p.wait(timeout=30)
        assert len(acks) == 80
        client = open_client(tmp_path / "reader", server.url)
        counts = CountStore.open(shared / "counts.sqlite")
        mem = InterestMemory(client, counts)
        try:
            for user in ("both", "onlyp", "onlyq"):
                acked = {eid for u, eid, _ in acks if u == user}
                stored = {e.event_id for e in mem.events(user, limit=None)}
                assert acked == stored, f"{user}: lost {len(acked - stored)}"
                assert mem.profile(user).n_signals == len(acked)
            # Counts: every acked item event is counted once, and a rebuild from the Chroma log agrees.
            acked_items = sorted(item for _, _, item in acks if item != "-")
            counted = sorted(e["item_id"] for u in ("both", "onlyp", "onlyq") for e in counts.user_contribution(u)["events"])
            assert counted == acked_items
            rebuilt = CountStore.open(tmp_path / "rebuilt.sqlite")
            rebuilt.rebuild(mem.item_events())
            for u in ("both", "onlyp", "onlyq"):
                assert sorted(e["item_id"] for e in rebuilt.user_contribution(u)["events"]) == sorted(
                    e["item_id"] for e in counts.user_contribution(u)["events"]
                )
            rebuilt.close()
        finally:
            mem.close()
            counts.close()
    finally:
        server.stop()
