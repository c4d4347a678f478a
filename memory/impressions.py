"""Impressions: which recommendations each user was shown, under which A/B variant, and which of them were clicked.

Click-through per variant is measured from them, and a "seen it" typed after a reply answers the user's latest batch.
They live in the SQL store next to the counts (the `impressions` table of counts.sqlite, or PostgreSQL) on a
connection of their own: nothing in them derives from the event log, so they share no transaction with the counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .sqldb import Db

__all__ = ["CLICK_HORIZON_S", "MAX_IMPRESSIONS", "ImpressionStore"]

# The table the counts store created before impressions had a module of their own: same name, same columns.
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS impressions (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,"
    " item_id TEXT NOT NULL, variant TEXT NOT NULL, ts REAL NOT NULL, clicked_ts REAL)",
    "CREATE INDEX IF NOT EXISTS impressions_user ON impressions (user_id, item_id, ts)",
]
MAX_IMPRESSIONS = 1_000_000  # rows kept: the newest (every recommendation shown adds k of them)
CLICK_HORIZON_S = 7 * 86400.0  # a like counts as a click on an impression at most this old
_PRUNE_EVERY = 1000  # rows added between two trims to max_rows


class ImpressionStore:
    """Impressions per user and variant, with clicks credited to them; bounded to the newest `max_rows`."""

    def __init__(self, db: Db, max_rows: int = MAX_IMPRESSIONS) -> None:
        """Use an open connection whose schema includes the impressions table (`open` makes one)."""
        self._db = db
        self.max_rows = max(1, int(max_rows))
        self._since_prune = 0  # rows added since the last trim
        self._lock = threading.Lock()  # one connection, shared by the server's threads: never two transactions on it

    @classmethod
    def open(cls, url_or_path: str | Path, max_rows: int = MAX_IMPRESSIONS) -> ImpressionStore:
        """Open (creating the table) in a SQLite file, `sqlite:///path` or a `postgresql://` URL: the counts' location."""
        return cls(Db(url_or_path, _SCHEMA), max_rows)

    def close(self) -> None:
        """Close the SQL connection."""
        with self._lock:
            self._db.close()

    def add(self, user_id: str, item_ids: Sequence[str], variant: str, ts: float | None = None, join_latest: bool = False) -> None:
        """Record that these items were shown to the user under a variant; join_latest adds them to the user's latest
        batch (a card that replaced one of it), so "seen it" typed next still means that batch."""
        ts = time.time() if ts is None else float(ts)
        with self._lock, self._db.tx() as db:
            latest = self._latest_ts(db, user_id) if join_latest else None
            ts = ts if latest is None else latest
            db.executemany("INSERT INTO impressions (user_id, item_id, variant, ts) VALUES (?, ?, ?, ?)", [(user_id, i, variant, ts) for i in item_ids])
            self._since_prune += len(item_ids)
            if self._since_prune >= min(_PRUNE_EVERY, self.max_rows):
                self._prune(db)

    def _prune(self, db: Db) -> None:
        # Ids only grow: everything more than max_rows ids behind the newest goes (a range on the key).
        db.execute("DELETE FROM impressions WHERE id <= (SELECT MAX(id) FROM impressions) - ?", (self.max_rows,))
        self._since_prune = 0

    @staticmethod
    def _latest_ts(db: Db, user_id: str) -> float | None:
        row = db.execute("SELECT MAX(ts) FROM impressions WHERE user_id = ?", (user_id,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def latest(self, user_id: str) -> list[str]:
        """The items of the user's most recent batch (what the bot showed last), in the order shown."""
        with self._lock, self._db.tx() as db:
            ts = self._latest_ts(db, user_id)
            if ts is None:
                return []
            rows = db.execute("SELECT item_id FROM impressions WHERE user_id = ? AND ts = ? ORDER BY id", (user_id, ts)).fetchall()
            return list(dict.fromkeys(r[0] for r in rows))

    def mark_click(self, user_id: str, item_id: str, ts: float | None = None, horizon_s: float = CLICK_HORIZON_S) -> bool:
        """Credit the latest unclicked impression of this item to this user within the horizon; True if one was found."""
        ts = time.time() if ts is None else float(ts)
        with self._lock, self._db.tx() as db:
            row = db.execute(
                "SELECT id FROM impressions WHERE user_id = ? AND item_id = ? AND clicked_ts IS NULL AND ts <= ? AND ts >= ?"
                " ORDER BY ts DESC, id DESC LIMIT 1",
                (user_id, item_id, ts, ts - horizon_s),
            ).fetchone()
            if row is None:
                return False
            db.execute("UPDATE impressions SET clicked_ts = ? WHERE id = ?", (ts, row[0]))
            return True

    def click_through(self) -> dict[str, dict[str, float]]:
        """Per variant: impressions, clicks and their ratio."""
        with self._lock:
            rows = self._db.execute("SELECT variant, COUNT(*), COUNT(clicked_ts) FROM impressions GROUP BY variant ORDER BY variant").fetchall()
        return {v: {"impressions": int(n), "clicks": int(c), "ctr": (c / n if n else 0.0)} for v, n, c in rows}

    def for_user(self, user_id: str) -> list[dict[str, Any]]:
        """Every impression of the user, oldest first (export): item, variant, when shown, when clicked."""
        with self._lock:
            rows = self._db.execute("SELECT item_id, variant, ts, clicked_ts FROM impressions WHERE user_id = ? ORDER BY id", (user_id,)).fetchall()
        return [{"item_id": i, "variant": v, "ts": float(t), "clicked_ts": None if c is None else float(c)} for i, v, t, c in rows]

    def remove_user(self, user_id: str) -> int:
        """Delete every impression of the user (forget); returns how many."""
        with self._lock, self._db.tx() as db:
            n = db.execute("DELETE FROM impressions WHERE user_id = ?", (user_id,)).rowcount
        return max(0, int(n or 0))
