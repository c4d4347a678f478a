"""One measured bot process of bench.scale: opens the plugin at once, then answers JSON commands on stdin.

    python -m bench.scale_probe --data-dir D --catalog C --first-user U [--chroma-url URL] [--sql-url URL]

IBOT_SCALE_T0 holds the parent's time.monotonic() taken just before it started this process (CLOCK_MONOTONIC
is system-wide on Linux), so start-up covers interpreter start, imports, InterestPlugin.open and the first
recommend. Only the plugin's public API is used: InterestPlugin.open, recommend, feedback, profile, counts.

One command per stdin line, one reply per command: a stdout line starting with '@@' and holding JSON (libraries
may print other lines). Commands: record, recommend, rss, feedback, watch, close (see `HANDLERS`).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

REPLY = "@@"
# Reasons the recommender gives for a collaborative (count store) hit: plugins/interest/ranking/recommender.py `_explain`.
COLLAB_REASONS = ("went on to this", "just before")


def say(data: dict[str, Any]) -> None:
    """One reply line."""
    sys.stdout.write(REPLY + json.dumps(data) + "\n")
    sys.stdout.flush()


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "hwm_mb": int(fields["VmHWM"].split()[0]) / 1024}


def open_plugin(args: argparse.Namespace, t0: float) -> tuple[Any, dict[str, Any]]:
    """Open the plugin and serve one recommend: the start-up figures."""
    from interest_bot.plugins.interest.config import PluginConfig
    from interest_bot.plugins.interest.plugin import InterestPlugin

    imported = time.monotonic()
    config = PluginConfig(data_dir=args.data_dir, catalog=args.catalog, device="cpu", chroma_url=args.chroma_url, sql_url=args.sql_url)
    plugin = InterestPlugin.open(config=config)
    opened = time.monotonic()
    recs = plugin.recommend(args.first_user, k=10)
    done = time.monotonic()
    return plugin, {"startup_s": done - t0, "import_s": imported - t0, "open_s": opened - imported, "first_recommend_s": done - opened,
                    "first_recommend_items": len(recs), "pid": os.getpid(), **memory_mb()}


def record(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """One 👍 per (user, item) pair, each a durable feedback call; their durations in seconds."""
    samples = []
    for user, item in cmd["pairs"]:
        started = time.perf_counter()
        plugin.feedback(user, item, liked=True)
        samples.append(time.perf_counter() - started)
    return {"samples": samples}


def recommend(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """recommend(user, k) per user: durations, how many items each got, how many carried a count-store reason."""
    samples, sizes, collab = [], [], 0
    for user in cmd["users"]:
        started = time.perf_counter()
        recs = plugin.recommend(user, k=cmd["k"])
        samples.append(time.perf_counter() - started)
        sizes.append(len(recs))
        collab += any(c in reason for r in recs for reason in r.reasons for c in COLLAB_REASONS)
    return {"samples": samples, "sizes": sizes, "with_collaborative_reason": collab}


def rss(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """Memory now (after a full collection: garbage waiting for the collector is no cost of the plugin) and at peak;
    then again after malloc_trim, which hands freed heap pages back to the system: what the plugin holds live,
    without the allocator's free lists, whose size varies from run to run."""
    gc.collect()
    out = memory_mb()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return out | {"trimmed_mb": memory_mb()["rss_mb"]}


def feedback(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """One 👍, with the wall-clock times it was sent and acknowledged (durable)."""
    sent = time.time()
    plugin.feedback(cmd["user"], cmd["item"], liked=True)
    return {"sent": sent, "acked": time.time()}


def watch(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """Reply 'ready', then poll until this process sees a new write for the user: in its profile (what its recommend
    ranks from) and in the counts (PostgreSQL); the wall-clock time each was first seen."""
    user = cmd["user"]
    signals0 = plugin.profile(user).n_signals
    # include_negative reads SQL every time; the default read may answer from this process's cached tail.
    items0 = len(plugin.counts.user_items(user, include_negative=True))
    say({"ready": True})
    seen: dict[str, float] = {}
    polls = 0
    deadline = time.monotonic() + cmd.get("timeout", 30.0)
    while len(seen) < 2 and time.monotonic() < deadline:
        polls += 1
        if "profile" not in seen and plugin.profile(user).n_signals > signals0:
            seen["profile"] = time.time()
        if "counts" not in seen and len(plugin.counts.user_items(user, include_negative=True)) > items0:
            seen["counts"] = time.time()
        time.sleep(0.001)
    return {"seen": seen, "polls": polls}


def close(plugin: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    """Flush and close the plugin."""
    plugin.close()
    return {"closed": True}


HANDLERS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "record": record, "recommend": recommend, "rss": rss, "feedback": feedback, "watch": watch, "close": close,
}


def main() -> None:
    """Open, report start-up, then serve commands until `close` or end of input."""
    t0 = float(os.environ.get("IBOT_SCALE_T0") or time.monotonic())
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--first-user", required=True)
    ap.add_argument("--chroma-url", default="")
    ap.add_argument("--sql-url", default="")
    args = ap.parse_args()
    try:
        plugin, opened = open_plugin(args, t0)
    except Exception:
        say({"error": traceback.format_exc()})
        return
    say(opened)
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            say(HANDLERS[cmd["cmd"]](plugin, cmd))
        except Exception:
            say({"error": traceback.format_exc()})
        if cmd["cmd"] == "close":
            return


if __name__ == "__main__":
    main()
