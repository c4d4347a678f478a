"""One SQL connection (SQLite file or Postgres URL) with the few differences the counts rely on hidden."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .sqlite_open import open_wal


def pg_schema(schema: Sequence[str]) -> list[str]:
    """The same schema in Postgres spelling."""
    return [s.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(" REAL", " DOUBLE PRECISION") for s in schema]


class Db:
    """A thin connection wrapper that hides the SQLite/Postgres differences we rely on."""

    def __init__(self, url_or_path: str | Path, schema: Sequence[str], synchronous: str = "NORMAL") -> None:
        s = str(url_or_path)
        self.pg = s.startswith(("postgresql://", "postgres://"))
        if self.pg:
            try:
                import psycopg  # optional: only for IBOT_SQL_URL=postgresql://...
            except ImportError as exc:  # pragma: no cover - depends on the optional install
                raise RuntimeError("IBOT_SQL_URL points at Postgres: `pip install 'interest-bot[postgres]'` (psycopg)") from exc

            # Autocommit outside explicit transactions: a read never leaves the session idle in a transaction.
            self.conn = psycopg.connect(s, autocommit=True)
            schema = pg_schema(schema)
        else:
            path = Path(s.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            # WAL + NORMAL: a committed write survives a process kill; readers never block the writer.
            self.conn = open_wal(path, synchronous=synchronous)
        with self.tx():
            for stmt in schema:
                self.execute(stmt)

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the cursor."""
        cur = self.conn.cursor()
        cur.execute(self._q(sql), params)
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        rows = list(rows)
        if rows:
            self.conn.cursor().executemany(self._q(sql), rows)

    def has_table(self, name: str) -> bool:
        """Whether a table of this name exists (schema upgrades look for the old ones)."""
        if self.pg:
            return self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]
        return self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def tx(self) -> Tx:
        """A transaction context: commit on success, roll back on error."""
        return Tx(self)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# Key of the Postgres advisory lock that serialises count transactions across processes.
_PG_LOCK_KEY = 0x1B07C0DE


class Tx:
    """One write transaction, serialised across processes like SQLite's BEGIN IMMEDIATE.

    On Postgres a transaction-scoped advisory lock is taken first. Without it two processes
    could draw BIGSERIAL `seq` values and commit in the opposite order; a third process tailing
    `seq > watermark` would then skip the earlier number for good. Under the lock `seq` order is
    commit order, first-open schema creation and the meta row cannot race, and `_filter_new`'s
    read-then-insert is atomic.
    """

    def __init__(self, db: Db) -> None:
        self.db = db
        self._pg_tx: Any = None

    def __enter__(self) -> Db:
        if self.db.pg:
            self._pg_tx = self.db.conn.transaction()
            self._pg_tx.__enter__()
            self.db.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
        else:
            # IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
            self.db.conn.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if self.db.pg:
            self._pg_tx.__exit__(exc_type, exc, tb)  # commits, or rolls back on an exception
        elif exc_type is None:
            self.db.conn.execute("COMMIT")
        else:
            self.db.conn.execute("ROLLBACK")
