"""When each user was last forgotten: credentials that proved the user before that moment are revoked.

A user-mode API token carries the time it was issued; a token issued at or before the user's last forget no longer
proves them (bot/auth.py), and a forgotten browser identity is never accepted again (ui/identity.py). The times live
in the SQL store next to the counts (SQLite in the data dir, or PostgreSQL shared by every replica), so a revocation
holds across restarts and processes. Rows are keyed by a SHA-256 of the user id: a dump of the table lists no names,
though a guessed id can still be checked against it (the price of remembering whom to refuse).
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from .sqldb import Db
from .userid import validate_user_id

_SCHEMA = ["CREATE TABLE IF NOT EXISTS forgotten_users (user_key TEXT PRIMARY KEY, ts REAL NOT NULL)"]


def _key(user_id: str) -> str:
    """The row key of a user id (its SHA-256, hex)."""
    return hashlib.sha256(validate_user_id(user_id).encode("utf-8")).hexdigest()


class ForgetLog:
    """The time of each user's last forget, durable before `record` returns."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._lock = threading.Lock()  # one connection, shared by the server's threads

    @classmethod
    def open(cls, url_or_path: str | Path) -> ForgetLog:
        """Open (creating) the log in a SQLite file or a `postgresql://` database (the counts' location)."""
        # Its own connection with synchronous=FULL: a SQLite commit is on disk, not only in the OS cache, when
        # record() returns (the counts' connection runs NORMAL, which survives a process kill but not a power cut).
        return cls(Db(url_or_path, schema=_SCHEMA, synchronous="FULL"))

    def record(self, user_id: str, ts: float | None = None) -> float:
        """Note that the user is being forgotten now (or at `ts`); returns the time stored."""
        when = time.time() if ts is None else float(ts)
        # One statement, so it is atomic without a transaction; a later forget moves the time forward.
        with self._lock:
            self._db.execute(
                "INSERT INTO forgotten_users (user_key, ts) VALUES (?, ?) ON CONFLICT (user_key) DO UPDATE SET ts = excluded.ts",
                (_key(user_id), when),
            )
        return when

    def forgotten_at(self, user_id: str) -> float | None:
        """When the user was last forgotten (seconds since the epoch), or None if never."""
        key = _key(user_id)
        with self._lock:
            row = self._db.execute("SELECT ts FROM forgotten_users WHERE user_key = ?", (key,)).fetchone()
        return float(row[0]) if row else None

    def close(self) -> None:
        """Close the SQL connection."""
        with self._lock:
            self._db.close()
