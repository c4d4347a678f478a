"""One SQL connection (SQLite file or Postgres URL) with the few differences the counts rely on hidden."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from .sqlite_open import open_wal

T = TypeVar("T")


def sql_location(data_dir: Path | str, sql_url: str = "") -> str | Path:
    """Where the SQL store lives (counts, impressions, forget log, user keys): the PostgreSQL URL, else counts.sqlite in the data
    dir. One rule, so a forget always reaches the keys the conversations were sealed with."""
    return sql_url or Path(data_dir) / "counts.sqlite"


def pg_schema(schema: Sequence[str]) -> list[str]:
    """The same schema in Postgres spelling."""
    return [s.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(" REAL", " DOUBLE PRECISION").replace(" BLOB", " BYTEA") for s in schema]


class Db:
    """A thin connection wrapper that hides the SQLite/Postgres differences we rely on."""

    def __init__(self, url_or_path: str | Path, schema: Sequence[str], synchronous: str = "NORMAL") -> None:
        s = str(url_or_path)
        self.in_tx = False
        self.pg = s.startswith(("postgresql://", "postgres://"))
        if self.pg:
            try:
                import psycopg  # optional: only for IBOT_SQL_URL=postgresql://...
            except ImportError as exc:  # pragma: no cover - depends on the optional install
                raise RuntimeError("IBOT_SQL_URL points at Postgres: `pip install 'interest-bot[postgres]'` (psycopg)") from exc

            self._url = s
            self._lost: tuple[type[Exception], ...] = (psycopg.OperationalError,)
            self.conn = self._connect()
            schema = pg_schema(schema)
        else:
            self._lost = ()  # a SQLite file is never cut off
            path = Path(s.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            # WAL + NORMAL: a committed write survives a process kill; readers never block the writer.
            self.conn = open_wal(path, synchronous=synchronous)
        with self.tx():
            for stmt in schema:
                self.execute(stmt)

    def _connect(self) -> Any:
        import psycopg

        # Autocommit outside explicit transactions: a read never leaves the session idle in a transaction.
        # A short connect timeout: callers wait on the store's lock while a failover reconnects.
        return psycopg.connect(self._url, autocommit=True, connect_timeout=5)

    def _cut(self) -> bool:
        """Whether the connection is gone (not merely a statement that failed: a timeout or a lock error)."""
        return bool(self.conn.closed or self.conn.broken)

    def reconnect(self) -> None:
        """Replace a connection the server cut (a PostgreSQL restart or failover) with a new one."""
        try:
            self.conn.close()
        except Exception:  # the old connection is broken already: closing it is best effort
            pass
        self.conn = self._connect()

    def _again_on_lost(self, run: Callable[[], T]) -> T:
        """Run a statement outside a transaction; if the connection was cut, reconnect and run it once more. Only
        reads and idempotent upserts run outside a transaction, so running one again is safe even if the first
        reached the server before the cut."""
        try:
            return run()
        except self._lost:
            if self.in_tx or not self._cut():
                raise  # inside a transaction the whole transaction fails (the next one reconnects); a live connection stays
            self.reconnect()
            return run()

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the cursor."""
        def run() -> Any:
            cur = self.conn.cursor()
            cur.execute(self._q(sql), params)
            return cur

        return self._again_on_lost(run)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        rows = list(rows)
        if rows:
            self._again_on_lost(lambda: self.conn.cursor().executemany(self._q(sql), rows))

    def has_table(self, name: str) -> bool:
        """Whether a table of this name exists (schema upgrades look for the old ones)."""
        if self.pg:
            return bool(self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0])
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
            try:
                self._begin()
            except self.db._lost:  # the connection was cut since the last statement: nothing was done yet
                if not self.db._cut():
                    raise
                self.db.reconnect()
                self._begin()
        else:
            # IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
            self.db.conn.execute("BEGIN IMMEDIATE")
        return self.db

    def _begin(self) -> None:
        self._pg_tx = self.db.conn.transaction()
        self._pg_tx.__enter__()
        try:
            self.db.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
        except BaseException as exc:
            try:  # end the transaction begun above, so a live connection is not left inside it
                self._pg_tx.__exit__(type(exc), exc, exc.__traceback__)
            except Exception:  # a cut connection cannot roll back: it is replaced anyway
                pass
            raise
        self.db.in_tx = True  # from here a cut connection fails the transaction instead of retrying a statement

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.db.in_tx = False
        if self.db.pg:
            self._pg_tx.__exit__(exc_type, exc, tb)  # commits, or rolls back on an exception
        elif exc_type is None:
            self.db.conn.execute("COMMIT")
        else:
            self.db.conn.execute("ROLLBACK")
