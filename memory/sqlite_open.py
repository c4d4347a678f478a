"""One way to open a SQLite file in WAL mode that two processes can race to create."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BUSY_TIMEOUT_MS = 10000


def open_wal(path: Path | str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout, autocommit, usable from several threads."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Switching a fresh file to WAL can answer SQLITE_BUSY at once, without waiting on the busy timeout, while
    # another process creates the same file (measured: 1 to 3 of 300 racing opens): retry for as long.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.DatabaseError as exc:  # also "file is not a database": close before raising
            if not isinstance(exc, sqlite3.OperationalError) or "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.01)
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn
