"""A durable outbox for interest events: acknowledged in SQLite, moved into Chroma in batches behind the reply.

Chroma's single-record add costs 5-20 ms here: its cost grows with the log entries not yet synced into the
HNSW index (up to sync_threshold, 1,000) and with the collection (bench/results/memory.json has it at 100,000
events); one fsynced SQLite commit costs 0.3 ms. When this process alone owns an
embedded Chroma directory (it holds the data-dir lock, so nobody else reads the collection), `record` commits
events here and returns; a background drain upserts them into Chroma in batches, and every read drains first,
so reads see every acknowledged event. A crash before the drain loses nothing: the next process that opens the
data dir replays the outbox (upsert by event id, so a replay after a partial drain does not duplicate).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chroma import ChromaDataError
from .sqlite_open import open_wal

__all__ = ["OUTBOX_FILE", "Outbox", "OutboxDataError", "PendingEvent", "embedded_outbox"]

OUTBOX_FILE = "outbox.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    embedding BLOB NOT NULL,
    metadata TEXT NOT NULL,
    document TEXT
);
CREATE INDEX IF NOT EXISTS pending_user ON pending (user_id)
"""


class OutboxDataError(ChromaDataError):
    """The outbox file in the data dir is not a readable SQLite database."""


@dataclass(frozen=True)
class PendingEvent:
    """One event row as it will be written to Chroma."""

    event_id: str
    user_id: str
    embedding: np.ndarray
    metadata: dict[str, Any]
    document: str | None = None


class Outbox:
    """Events committed durably but not yet in Chroma (one SQLite file in the data dir)."""

    def __init__(self, path: Path | str) -> None:
        """Open (creating) the outbox file: WAL, synchronous=FULL, secure_delete."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = None
        try:
            # FULL: until drained this is the only copy of an acknowledged event, so a commit is fsynced (0.3 ms
            # here) and survives an OS crash, not only a killed process.
            conn = self._conn = open_wal(self.path, synchronous="FULL")
            # Drained and forgotten rows are overwritten, not left readable in free pages.
            conn.execute("PRAGMA secure_delete=ON")
            conn.executescript(_SCHEMA)
            conn.execute("SELECT COUNT(*) FROM pending").fetchone()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise OutboxDataError(
                f"Cannot open the event outbox {self.path}: {exc}. It holds acknowledged interest events that have"
                " not reached Chroma yet. Move it aside to start without them, or restore it from a backup."
            ) from None
        self._lock = threading.Lock()

    def put(self, events: list[PendingEvent]) -> None:
        """Commit events (one transaction); returns once they are on disk."""
        rows = [
            (e.event_id, e.user_id, np.asarray(e.embedding, dtype=np.float32).tobytes(), json.dumps(e.metadata, separators=(",", ":")), e.document)
            for e in events
        ]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT INTO pending (event_id, user_id, embedding, metadata, document) VALUES (?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def take(self, limit: int) -> list[PendingEvent]:
        """The oldest pending events (they stay pending until done())."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT event_id, user_id, embedding, metadata, document FROM pending ORDER BY seq LIMIT ?", (int(limit),)
            ).fetchall()
        return [PendingEvent(eid, uid, np.frombuffer(emb, dtype=np.float32), json.loads(meta), doc) for eid, uid, emb, meta, doc in rows]

    def existing(self, event_ids: list[str]) -> set[str]:
        """Which of these event ids are pending."""
        if not event_ids:
            return set()
        with self._lock:
            marks = ",".join("?" * len(event_ids))
            return {r[0] for r in self._conn.execute(f"SELECT event_id FROM pending WHERE event_id IN ({marks})", event_ids)}

    def done(self, event_ids: list[str]) -> None:
        """Drop events that Chroma now holds."""
        with self._lock:
            self._delete("event_id", event_ids)

    def remove_user(self, user_id: str) -> int:
        """Delete every pending event of a user (forget); returns how many."""
        with self._lock:
            n = self._delete("user_id", [user_id])
            # The WAL still holds the old page images until a checkpoint: fold and truncate it now.
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return n

    def _delete(self, column: str, values: list[str]) -> int:
        n = 0
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(values), 500):
                chunk = values[start : start + 500]
                marks = ",".join("?" * len(chunk))
                n += self._conn.execute(f"DELETE FROM pending WHERE {column} IN ({marks})", chunk).rowcount
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return n

    def count(self, user_id: str | None = None) -> int:
        """Pending events (of one user, or all)."""
        with self._lock:
            if user_id is None:
                return int(self._conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0])
            return int(self._conn.execute("SELECT COUNT(*) FROM pending WHERE user_id = ?", (user_id,)).fetchone()[0])

    def close(self) -> None:
        """Close the connection (pending events stay on disk for the next open)."""
        with self._lock:
            self._conn.close()


def embedded_outbox(data_dir: Path | str, chroma_url: str = "") -> Outbox | None:
    """The data dir's outbox in embedded mode; None with a Chroma server, where other processes must see events at once."""
    return None if chroma_url else Outbox(Path(data_dir) / OUTBOX_FILE)
