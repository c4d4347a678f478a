"""The ML-100k replay through the real product path: `InterestPlugin` on real Chroma and counts.

- The catalog is ingested items-only (`interest-bot catalog ingest movielens-100k --items-only`): no popularity, no counts.
  `items_only_dir` checks that, so no rating (held out or not) is in any state before the replay.
- Interactions go through `InterestPlugin.feedback_many` (the same signals as `feedback`, batched), each signal carrying
  its rating's timestamp; the chat variant turns each history item into a sentence and sends it through `observe`.
- Static figures score each user's `plugin.recommend(user, k=10)` list; causal figures score each held-out interaction
  during the replay, with only the events before it (events are fed in batches between held-out points).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Set
from pathlib import Path
from typing import Any

from bench.ml100k import Metrics, Rating, Split

CATALOG = "movielens-100k"
_SKIP = shutil.ignore_patterns(".complete", ".interest-bot.lock", "counts.sqlite*", "models")


def qid(item: str) -> str:
    """Catalog-qualified item id, as the plugin stores it."""
    return f"{CATALOG}:{item}"


def ingest_items_only(target: Path) -> Path:
    """Run the CLI's items-only ingest (embeds the catalog, trains the classifier heads) into an empty data dir."""
    target.mkdir(parents=True, exist_ok=True)
    cli = Path(sys.executable).with_name("interest-bot")
    env = {**os.environ, "IBOT_DATA_DIR": str(target)}
    out = subprocess.run([str(cli), "catalog", "ingest", CATALOG, "--items-only"], env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"items-only ingest failed: {out.stderr[-2000:]}")
    return target


def fresh_copy(template: Path, target: Path) -> Path:
    """A private copy of an items-only data dir, without any counts store (the replay builds it from nothing)."""
    shutil.copytree(template, target, ignore=_SKIP)
    return target


def open_plugin(data_dir: Path, encoder: Any = None) -> Any:
    """A real InterestPlugin on this data dir; refuses a dir whose state already holds any rating."""
    from interest_bot.plugins.interest.plugin import InterestPlugin

    plugin = InterestPlugin.open(data_dir=data_dir, catalog=CATALOG, encoder=encoder)
    check_empty(plugin)
    return plugin


def check_empty(plugin: Any) -> None:
    """No popularity in the catalog, no item event in the counts, no user in memory (besides the warm-up profile)."""
    arrays = plugin.catalog.items()
    if float(arrays.popularity.max(initial=0.0)) != 0.0:
        raise RuntimeError("the catalog carries popularity from ratings: ingest it with --items-only")
    pop, _, _ = plugin.counts.popularity_view()
    if float(pop.sum()) != 0.0:
        raise RuntimeError("the counts store is not empty")
    users = [u for u in plugin.memory.users() if u != "warm-up"]
    if users:
        raise RuntimeError(f"memory already holds users: {users[:3]}")


def global_order(events: Iterable[Rating]) -> list[Rating]:
    """All interactions by time, ties in file order."""
    return sorted(events, key=lambda r: (r.ts, r.row))


def as_feedback(events: Iterable[Rating]) -> list[tuple[str, str, bool, float]]:
    """Implicit interactions as liked feedback on the catalog item, at the rating's time."""
    return [(r.user, qid(r.item), True, r.ts) for r in events]


def feed_all(plugin: Any, events: list[Rating], chunk: int = 5000) -> float:
    """Replay events in global time order through feedback_many; returns events per second."""
    ordered = global_order(events)
    t0 = time.perf_counter()
    for start in range(0, len(ordered), chunk):
        plugin.feedback_many(as_feedback(ordered[start : start + chunk]))
    return len(ordered) / max(time.perf_counter() - t0, 1e-9)


def rank_in(recs: list[Any], item: str) -> int:
    """1-based position of the item in a top-k list, or k+1 when absent."""
    ids = [r.item_id for r in recs]
    target = qid(item)
    return ids.index(target) + 1 if target in ids else 11


def evaluate_static(plugin: Any, held: dict[str, Rating], users: list[str], k: int = 10) -> tuple[Metrics, list[float], dict[str, int]]:
    """Score each user's recommend(k) list on their held-out item; time each call; also each user's rank."""
    m, times, ranks = Metrics(), [], {}
    for u in users:
        t0 = time.perf_counter()
        recs = plugin.recommend(u, k=k)
        times.append(time.perf_counter() - t0)
        ranks[u] = rank_in(recs, held[u].item)
        m.add(ranks[u])
    return m, times, ranks


def run_causal(
    plugin: Any,
    sp: Split,
    all_events: list[Rating],
    users: set[str],
    before_score: Callable[[Rating], None] | None = None,
    skip_feed: Set[tuple[str, int]] = frozenset(),
) -> tuple[Metrics, Metrics, float, list[float]]:
    """Replay everything in time order; each held-out interaction is scored (recommend k=10) just before it is fed.

    Events between two held-out points go in as one feedback_many batch; events in `skip_feed` (user, row) are
    scored but never fed. Returns valid and test metrics, events/s of the feeding, and the recommend latencies.
    """
    held = {(r.user, r.row): "valid" for r in sp.valid.values()} | {(r.user, r.row): "test" for r in sp.test.values()}
    mv, mt = Metrics(), Metrics()
    pending: list[Rating] = []
    feed_s, times, fed = 0.0, [], 0

    def flush() -> None:
        nonlocal feed_s
        if pending:
            t0 = time.perf_counter()
            plugin.feedback_many(as_feedback(pending))
            feed_s += time.perf_counter() - t0
            pending.clear()

    for r in global_order(all_events):
        kind = held.get((r.user, r.row))
        if kind and r.user in users:
            flush()
            if before_score is not None:
                before_score(r)
            t0 = time.perf_counter()
            recs = plugin.recommend(r.user, k=10)
            times.append(time.perf_counter() - t0)
            (mv if kind == "valid" else mt).add(rank_in(recs, r.item))
        if (r.user, r.row) not in skip_feed:
            pending.append(r)
            fed += 1
    flush()
    return mv, mt, fed / max(feed_s, 1e-9), times


# ----- the chat replay --------------------------------------------------------------------------------

TEMPLATES = [
    "I really enjoyed {title}.",
    "Just watched {title}, loved it.",
    "{title} was great, I love a good {genre} film.",
    "I had a wonderful time watching {title}.",
    "Saw {title} last night and it was fantastic.",
    "I'm a big fan of {genre} movies, and {title} is one of my favourites.",
    "Loved {title}! Such a good {genre} movie.",
    "I watched {title} and really liked it.",
]


def natural_title(title: str) -> str:
    """ML-100k's "Godfather, The (1972)" as people say it: "The Godfather"."""
    t = re.sub(r"\s*\(\d{4}\)\s*$", "", title).strip()
    m = re.match(r"^(.*), (The|A|An|Les|La|Le|Il|Das|Der|Die|El)$", t)
    return f"{m.group(2)} {m.group(1)}" if m else t


def sentence(title: str, genres: list[str], rng: random.Random) -> str:
    """One seeded natural-language sentence about liking this item, from its title and genres."""
    genre = rng.choice(genres).lower().replace("_", " ").replace("-", " ") if genres else "good"
    return rng.choice(TEMPLATES).format(title=natural_title(title), genre=genre)


def chat_users(users: list[str], n: int, seed: int = 0) -> list[str]:
    """A fixed, seeded subset of users for the (slow, one observe per item) chat replay."""
    if n <= 0 or n >= len(users):
        return list(users)
    return sorted(random.Random(seed).sample(sorted(users, key=int), n), key=int)


def run_chat(plugin: Any, events: list[Rating], chatters: set[str], items: dict[str, dict], seed: int = 0, chunk: int = 5000) -> dict[str, int]:
    """Replay in time order: the chat users' items go through observe as sentences, everyone else's through feedback_many."""
    pending: list[Rating] = []
    stats = {"sentences": 0, "linked": 0}

    def flush() -> None:
        if pending:
            plugin.feedback_many(as_feedback(pending))
            pending.clear()

    for r in global_order(events):
        if r.user in chatters:
            flush()
            rng = random.Random(f"{seed}:{r.user}:{r.row}")
            info = items[r.item]
            signals = plugin.observe(r.user, sentence(info["title"], info["genres"], rng))
            stats["sentences"] += 1
            stats["linked"] += any(s.item_id == qid(r.item) for s in signals)
        else:
            pending.append(r)
            if len(pending) >= chunk:
                flush()
    flush()
    return stats
