"""Upgrade a count store written before sparse pairs (a `follow` table of float weights) to integer pairs."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from .pairs import Pairs, window_pairs
from .sqldb import Db

SCHEMA_VERSION = 2
Progress = Callable[[int, int], None]


def print_progress(done: int, total: int) -> None:
    """Default progress: one line on stderr now and then."""
    print(f"interest-bot: migrating collaborative counts to sparse pairs: {done}/{total} users", file=sys.stderr, flush=True)


def upgrade_if_needed(db: Db, wq: np.ndarray, progress: Progress | None = print_progress, chunk_users: int = 500) -> bool:
    """Recompute pairs and popularity from the store's own event log and drop the old table; True if it ran.

    The caller holds a write transaction, so two processes opening an old store never both migrate.
    Recomputing from events (not converting the old float weights) makes the result exactly what a fresh
    store fed the same events holds.
    """
    version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if version is not None and int(version[0]) > SCHEMA_VERSION:
        raise RuntimeError(f"counts store has schema {version[0]}, newer than this interest-bot ({SCHEMA_VERSION}): upgrade interest-bot")
    if not db.has_table("follow"):
        return False
    idx_of = dict(db.execute("SELECT item_id, idx FROM items").fetchall())
    total = int(db.execute("SELECT COUNT(DISTINCT user_id) FROM events WHERE positive = 1").fetchone()[0])
    db.execute("DELETE FROM pairs")
    db.execute("DELETE FROM popularity")
    done, user = 0, None
    parts: list[Pairs] = []
    items: list[int] = []
    rows = db.execute("SELECT user_id, item_id FROM events WHERE positive = 1 ORDER BY user_id, ts, seq").fetchall()
    for u, item in rows + [(None, None)]:  # a sentinel flushes the last user
        if u != user:
            if user is not None:
                parts.append(window_pairs(np.asarray(items, np.int64), wq))
                done += 1
                if len(parts) >= chunk_users or u is None:
                    _add_pairs(db, Pairs.merge(parts))
                    parts = []
                    if progress is not None:
                        progress(done, total)
            user, items = u, []
        if item is not None:
            items.append(idx_of[item])
    db.execute(
        "INSERT INTO popularity (idx, n) SELECT i.idx, COUNT(*) FROM events e JOIN items i ON i.item_id = e.item_id"
        " WHERE e.positive = 1 GROUP BY i.idx"
    )
    db.execute("DROP TABLE follow")
    db.execute("DELETE FROM meta WHERE key = 'schema'")
    db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    # Other processes still holding the old mirror must reload.
    epoch = int(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]) + 1
    db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (str(epoch),))
    return True


def _add_pairs(db: Db, p: Pairs) -> None:
    db.executemany(
        "INSERT INTO pairs (a, b, wq, n) VALUES (?, ?, ?, ?) ON CONFLICT (a, b) DO UPDATE SET wq = pairs.wq + excluded.wq, n = pairs.n + excluded.n",
        zip(p.a.tolist(), p.b.tolist(), p.wq.tolist(), p.n.tolist()),
    )
