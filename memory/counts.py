"""Count-based collaborative state: per-user item sequences, windowed item→item follow weights, popularity.

The SQL tables are the durable truth (SQLite file in the data dir, or Postgres); an in-process
mirror (dense numpy over the items that have events) is updated with each write, so scoring
never makes a SQL round trip. Everything here is a cache of the event log: `rebuild` recreates it.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .sqlite_open import open_wal


class CountEvent(NamedTuple):
    """One item event as the counts see it."""

    user_id: str
    item_id: str
    ts: float
    event_id: str
    positive: bool = True


@dataclass(frozen=True)
class CountConfig:
    """How follow weights are accumulated; fixed for a store (a change needs `rebuild`)."""

    window: int = 20
    # Weight of a pair at distance d is 1 / d**decay.
    decay: float = 0.2
    # Recent popularity: an event's weight halves after this many newer positive events (mirror only, not stored).
    recent_half_life: float = 1000.0

    def weight(self, d: int) -> float:
        """Weight of one pair at sequence distance d (0 outside the window)."""
        return 1.0 / d**self.decay if 1 <= d <= self.window else 0.0


_SCHEMA_SQLITE = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS items (idx INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT UNIQUE NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE NOT NULL,"
    " user_id TEXT NOT NULL, item_id TEXT NOT NULL, ts REAL NOT NULL, positive INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_user ON events (user_id, ts, seq)",
    "CREATE TABLE IF NOT EXISTS follow (a INTEGER NOT NULL, b INTEGER NOT NULL, w REAL NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (a, b))",
    "CREATE TABLE IF NOT EXISTS popularity (idx INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS impressions (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,"
    " item_id TEXT NOT NULL, variant TEXT NOT NULL, ts REAL NOT NULL, clicked_ts REAL)",
    "CREATE INDEX IF NOT EXISTS impressions_user ON impressions (user_id, item_id, ts)",
]


def _pg_schema(schema: Sequence[str] = _SCHEMA_SQLITE) -> list[str]:
    """The same schema in Postgres spelling."""
    return [s.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(" REAL", " DOUBLE PRECISION") for s in schema]


class _Db:
    """A thin connection wrapper that hides the SQLite/Postgres differences we rely on."""

    def __init__(self, url_or_path: str | Path, schema: Sequence[str] = _SCHEMA_SQLITE, synchronous: str = "NORMAL"):
        s = str(url_or_path)
        self.pg = s.startswith(("postgresql://", "postgres://"))
        if self.pg:
            try:
                import psycopg  # optional: only for IBOT_SQL_URL=postgresql://...
            except ImportError as exc:  # pragma: no cover - depends on the optional install
                raise RuntimeError("IBOT_SQL_URL points at Postgres: `pip install 'interest-bot[postgres]'` (psycopg)") from exc

            # Autocommit outside explicit transactions: a read never leaves the session idle in a transaction.
            self.conn = psycopg.connect(s, autocommit=True)
            schema = _pg_schema(schema)
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

    def tx(self) -> "_Tx":
        """A transaction context: commit on success, roll back on error."""
        return _Tx(self)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# Key of the Postgres advisory lock that serialises count transactions across processes.
_PG_LOCK_KEY = 0x1B07C0DE


class _Tx:
    """One write transaction, serialised across processes like SQLite's BEGIN IMMEDIATE.

    On Postgres a transaction-scoped advisory lock is taken first. Without it two processes
    could draw BIGSERIAL `seq` values and commit in the opposite order; a third process tailing
    `seq > watermark` would then skip the earlier number for good. Under the lock `seq` order is
    commit order, first-open schema creation and the meta row cannot race, and `_filter_new`'s
    read-then-insert is atomic.
    """

    def __init__(self, db: _Db):
        self.db = db
        self._pg_tx: Any = None

    def __enter__(self) -> _Db:
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


class _Entry(NamedTuple):
    ts: float
    seq: int
    idx: int


class CountStore:
    """Per-user sequences, follow weights within a window (both directions readable), popularity."""

    def __init__(self, db: _Db, config: CountConfig = CountConfig()):
        self._db = db
        self.config = config
        self._lock = threading.RLock()
        self._check_config()
        with self._db.tx():  # one consistent read, even while other processes write
            self._load_mirror()

    # ----- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url_or_path: str | Path, config: CountConfig | None = None) -> "CountStore":
        """Open (creating) a store: a SQLite file path, `sqlite:///path`, or a `postgresql://` URL."""
        return cls(_Db(url_or_path), config or CountConfig())

    def close(self) -> None:
        """Close the SQL connection."""
        self._db.close()

    def _check_config(self) -> None:
        with self._db.tx() as db:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
            want = {"window": str(self.config.window), "decay": repr(self.config.decay)}
            if not rows:
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(want.items()) + [("epoch", "0")])
                return
            if any(rows.get(k) != v for k, v in want.items()):
                raise ValueError(f"count store was built with {rows}, asked for {want}: call rebuild() with the event log")

    # ----- the in-process mirror -------------------------------------------------------------

    def _load_mirror(self) -> None:
        """Read everything from SQL into the mirror (on open, and when another process did more than append)."""
        db = self._db
        self._ids: list[str | None] = [None]  # SQL idx starts at 1; slot 0 unused
        self._index: dict[str, int] = {}
        for idx, item in db.execute("SELECT idx, item_id FROM items ORDER BY idx").fetchall():
            self._grow_ids(idx, item)
        n = len(self._ids)
        cap = max(64, 1 << (n - 1).bit_length())
        self._F = np.zeros((cap, cap), np.float64)  # F[a, b]: weighted count of b following a
        self._N = np.zeros((cap, cap), np.float32)  # raw pair counts within the window, for reasons
        self._pop = np.zeros(cap, np.float64)
        rows = db.execute("SELECT a, b, w, n FROM follow").fetchall()
        if rows:
            arr = np.asarray(rows, dtype=np.float64)
            a, b = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
            self._F[a, b] = arr[:, 2]
            self._N[a, b] = arr[:, 3]
        for idx, cnt in db.execute("SELECT idx, n FROM popularity").fetchall():
            self._pop[idx] = cnt
        self._seqs: dict[str, list[_Entry]] = defaultdict(list)
        self._negs: dict[str, list[_Entry]] = defaultdict(list)
        self._watermark = 0
        for seq, user, item, ts, pos in db.execute("SELECT seq, user_id, item_id, ts, positive FROM events ORDER BY ts, seq").fetchall():
            (self._seqs if pos else self._negs)[user].append(_Entry(ts, seq, self._index[item]))
            self._watermark = max(self._watermark, seq)
        self._recompute_recent()
        self._epoch = self._read_epoch()

    def _recompute_recent(self) -> None:
        """Recent popularity from every positive entry in arrival (seq) order: on load and after a removal."""
        self._recent = np.zeros(self._F.shape[0], np.float64)
        entries = sorted((e.seq, e.idx) for seq in self._seqs.values() for e in seq)
        self._fold_recent([idx for _, idx in entries])

    def _fold_recent(self, idxs: Sequence[int]) -> None:
        """Decay recent popularity by the number of new positive events, then add each with its own decayed weight."""
        k = len(idxs)
        if not k:
            return
        g = 0.5 ** (1.0 / self.config.recent_half_life)
        self._recent *= g**k
        np.add.at(self._recent, np.asarray(idxs, np.int64), g ** np.arange(k - 1, -1, -1, dtype=np.float64))

    def _read_epoch(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])

    def _grow_ids(self, idx: int, item: str) -> None:
        while len(self._ids) <= idx:
            self._ids.append(None)
        self._ids[idx] = item
        self._index[item] = idx

    def _ensure_capacity(self, n: int) -> None:
        cap = self._F.shape[0]
        if n <= cap:
            return
        new = max(n, cap * 2)
        F = np.zeros((new, new), np.float64)
        F[:cap, :cap] = self._F
        N = np.zeros((new, new), np.float32)
        N[:cap, :cap] = self._N
        pop = np.zeros(new, np.float64)
        pop[:cap] = self._pop
        recent = np.zeros(new, np.float64)
        recent[:cap] = self._recent
        self._F, self._N, self._pop, self._recent = F, N, pop, recent

    def _intern(self, db: _Db, items: Iterable[str]) -> None:
        """Give every new item id its SQL index (shared by all processes on this database)."""
        new = sorted({i for i in items if i not in self._index})
        if not new:
            return
        db.executemany("INSERT INTO items (item_id) VALUES (?) ON CONFLICT (item_id) DO NOTHING", [(i,) for i in new])
        for i in range(0, len(new), 500):
            chunk = new[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for idx, item in db.execute(f"SELECT idx, item_id FROM items WHERE item_id IN ({marks})", chunk).fetchall():
                self._grow_ids(idx, item)
        self._ensure_capacity(len(self._ids))

    # ----- pair arithmetic -------------------------------------------------------------------

    def _pairs(self, seq: Sequence[_Entry], start: int = 0) -> "_Pairs":
        """Follow pairs for every entry at position >= start with its window predecessors (aggregated)."""
        idx = np.fromiter((e.idx for e in seq), np.int64, len(seq))
        parts = []
        for d in range(1, self.config.window + 1):
            lo = max(start, d)
            if lo >= len(idx):
                break
            a, b = idx[lo - d : len(idx) - d], idx[lo:]
            keep = a != b  # a re-watch is not evidence that an item leads to itself
            a, b = a[keep], b[keep]
            parts.append((a, b, np.full(len(a), self.config.weight(d)), np.ones(len(a), np.int64)))
        return _Pairs.combine(parts)

    def _apply(self, db: _Db, pairs: "_Pairs", pop_delta: dict[int, int]) -> None:
        """Write pair and popularity deltas to SQL and the mirror in one go."""
        nz = (pairs.n != 0) | (pairs.w != 0)  # a late event can move a pair to another distance: n same, w not
        a, b, w, n = pairs.a[nz], pairs.b[nz], pairs.w[nz], pairs.n[nz]
        rows = list(zip(a.tolist(), b.tolist(), w.tolist(), n.tolist()))
        db.executemany(
            "INSERT INTO follow (a, b, w, n) VALUES (?, ?, ?, ?) ON CONFLICT (a, b) DO UPDATE SET w = follow.w + excluded.w, n = follow.n + excluded.n",
            rows,
        )
        if (n < 0).any():
            # Removal: drop pairs that no longer occur, so a forgotten user leaves no trace.
            db.executemany("DELETE FROM follow WHERE a = ? AND b = ? AND n <= 0", list(zip(a[n < 0].tolist(), b[n < 0].tolist())))
        prow = [(i, k) for i, k in pop_delta.items() if k != 0]
        db.executemany(
            "INSERT INTO popularity (idx, n) VALUES (?, ?) ON CONFLICT (idx) DO UPDATE SET n = popularity.n + excluded.n", prow
        )
        if any(k < 0 for _, k in prow):
            db.executemany("DELETE FROM popularity WHERE idx = ? AND n <= 0", [(i,) for i, k in prow if k < 0])
        self._apply_mirror(pairs)
        for i, k in prow:
            self._pop[i] += k

    def _apply_mirror(self, pairs: "_Pairs") -> None:
        # Keys are unique after combine(), so plain fancy-index addition is exact.
        a, b = pairs.a, pairs.b
        self._F[a, b] += pairs.w
        self._N[a, b] += pairs.n.astype(np.float32)
        gone = self._N[a, b] <= 0
        self._F[a[gone], b[gone]] = 0.0  # exact zero, not float residue

    # ----- writes ----------------------------------------------------------------------------

    def add_event(self, user_id: str, item_id: str, ts: float, event_id: str, positive: bool = True) -> None:
        """Record one item event (idempotent per event_id); only positive/neutral events enter the counts."""
        self.add_events([CountEvent(user_id, item_id, float(ts), event_id, bool(positive))])

    def add_events(self, batch: Iterable[CountEvent | Sequence | Mapping]) -> int:
        """Record many events in one transaction; returns how many were new."""
        events = [_as_event(e) for e in batch]
        with self._lock, self._db.tx() as db:
            self._sync_locked()
            fresh = self._filter_new(db, events)
            if not fresh:
                return 0
            # Time order, ties in arrival order, so SQL seq follows each user's chronology.
            fresh.sort(key=lambda e: e.ts)
            self._intern(db, (e.item_id for e in fresh))
            cur = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
            db.executemany(
                "INSERT INTO events (event_id, user_id, item_id, ts, positive) VALUES (?, ?, ?, ?, ?)",
                [(e.event_id, e.user_id, e.item_id, e.ts, int(e.positive)) for e in fresh],
            )
            seqs = self._seq_numbers(db, cur, fresh)
            parts: list[_Pairs] = []
            pop_delta: dict[int, int] = defaultdict(int)
            by_user: dict[str, list[_Entry]] = defaultdict(list)
            for e, s in zip(fresh, seqs):
                entry = _Entry(e.ts, s, self._index[e.item_id])
                if e.positive:
                    by_user[e.user_id].append(entry)
                    pop_delta[entry.idx] += 1
                else:
                    bisect.insort(self._negs[e.user_id], entry)
                self._watermark = max(self._watermark, s)
            for user, entries in by_user.items():
                parts.append(self._insert_user(user, entries))
            self._apply(db, _Pairs.merge(parts), pop_delta)
            self._fold_recent([self._index[e.item_id] for e in fresh if e.positive])
            if self._out_of_order:
                self._bump_epoch(db)
                self._out_of_order = False
            return len(fresh)

    _out_of_order = False

    def _insert_user(self, user: str, entries: list[_Entry]) -> "_Pairs":
        """Put a user's new entries into their sequence; return the pair delta."""
        seq = self._seqs[user]
        if not seq or entries[0] >= seq[-1]:
            start = len(seq)
            seq.extend(entries)  # the common case: only the new tail makes pairs
            return self._pairs(seq, start)
        # Late event: re-derive this user's pairs (rare; exact either way).
        old = self._pairs(seq)
        for e in entries:
            bisect.insort(seq, e)
        new = self._pairs(seq)
        self._out_of_order = True
        return _Pairs.merge([new, old.negated()])

    def _seq_numbers(self, db: _Db, after: int, fresh: list[CountEvent]) -> list[int]:
        ids = {e.event_id for e in fresh}
        got = dict(db.execute("SELECT event_id, seq FROM events WHERE seq > ?", (after,)).fetchall())
        return [got[e.event_id] for e in fresh if e.event_id in ids]

    def _filter_new(self, db: _Db, events: list[CountEvent]) -> list[CountEvent]:
        seen: set[str] = set()
        out = []
        for e in events:
            if e.event_id not in seen:
                seen.add(e.event_id)
                out.append(e)
        ids = [e.event_id for e in out]
        known: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in db.execute(f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk).fetchall())
        return [e for e in out if e.event_id not in known]

    def _bump_epoch(self, db: _Db) -> None:
        """Tell other processes that more than appends happened, so they reload instead of tailing."""
        self._epoch = int(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]) + 1
        db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (str(self._epoch),))

    def remove_user(self, user_id: str) -> int:
        """Subtract exactly this user's contribution and delete their events and impressions; returns events removed."""
        with self._lock, self._db.tx() as db:
            self._sync_locked()
            seq = self._seqs.pop(user_id, [])
            negs = self._negs.pop(user_id, [])
            pop_delta: dict[int, int] = defaultdict(int)
            for e in seq:
                pop_delta[e.idx] -= 1
            self._apply(db, self._pairs(seq).negated(), pop_delta)
            self._recompute_recent()  # a forgotten user leaves no trace in recent popularity either
            n = db.execute("DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
            db.execute("DELETE FROM impressions WHERE user_id = ?", (user_id,))
            self._bump_epoch(db)
            return int(n if n is not None and n >= 0 else len(seq) + len(negs))

    def rebuild(self, events: Iterable[CountEvent | Sequence | Mapping]) -> int:
        """Drop all counts and recreate them from the event log (also after a config change)."""
        with self._lock:
            with self._db.tx() as db:
                for table in ("events", "follow", "popularity", "items", "meta"):
                    db.execute(f"DELETE FROM {table}")
                epoch = self._epoch + 1 if hasattr(self, "_epoch") else 1
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("window", str(self.config.window)), ("decay", repr(self.config.decay)), ("epoch", str(epoch))],
                )
                self._load_mirror()
            return self.add_events(events)

    def seed_from_ratings(
        self, ratings: Iterable[tuple[str, str, float]], catalog: str, user_prefix: str = "seed"
    ) -> int:
        """Seed a demo catalog's counts from (user, raw item id, ts) rows; users become `seed:<user>`, items `<catalog>:<id>`."""
        return self.add_events(
            CountEvent(f"{user_prefix}:{u}", f"{catalog}:{i}", float(t), f"{catalog}:{user_prefix}:{u}:{i}:{t}", True)
            for u, i, t in ratings
        )

    # ----- multi-process ---------------------------------------------------------------------

    def catch_up(self, events_since: Iterable[CountEvent | Sequence | Mapping] | None = None) -> int:
        """Apply events this process has not seen (from the shared event log) and tail other writers' SQL rows."""
        added = self.add_events(events_since) if events_since is not None else 0
        with self._lock, self._db.tx():
            self._sync_locked()
        return added

    def _sync_locked(self) -> None:
        """Bring the mirror up to date with SQL written by other processes."""
        if self._read_epoch() != self._epoch:
            self._load_mirror()
            return
        rows = self._db.execute(
            "SELECT seq, user_id, item_id, ts, positive FROM events WHERE seq > ? ORDER BY seq", (self._watermark,)
        ).fetchall()
        if not rows:
            return
        for idx, item in self._db.execute("SELECT idx, item_id FROM items").fetchall():
            if item not in self._index:
                self._grow_ids(idx, item)
        self._ensure_capacity(len(self._ids))
        # Their pair counts are already in SQL: repeat the same arithmetic on the mirror only.
        by_user: dict[str, list[_Entry]] = defaultdict(list)
        for seq, user, item, ts, pos in rows:
            entry = _Entry(ts, seq, self._index[item])
            if pos:
                by_user[user].append(entry)
                self._pop[entry.idx] += 1
                self._fold_recent([entry.idx])
            else:
                bisect.insort(self._negs[user], entry)
            self._watermark = max(self._watermark, seq)
        self._apply_mirror(_Pairs.merge([self._insert_user(u, es) for u, es in by_user.items()]))
        self._out_of_order = False

    # ----- reads (mirror only: no SQL) -------------------------------------------------------

    def user_items(self, user_id: str, limit: int | None = None, include_negative: bool = False) -> list[str]:
        """The user's items, newest first (positive/neutral only unless include_negative)."""
        entries = list(self._seqs.get(user_id, ()))
        if include_negative:
            entries = sorted(entries + list(self._negs.get(user_id, ())))
        out = [self._ids[e.idx] for e in reversed(entries)]
        return out[:limit] if limit is not None else out

    def user_contribution(self, user_id: str) -> dict:
        """What this user adds to the counts: their events, follow pairs (weight, count) and popularity."""
        seq = self._seqs.get(user_id, [])
        pairs = self._pairs(seq).as_dict()
        pop: dict[str, int] = defaultdict(int)
        for e in seq:
            pop[self._ids[e.idx]] += 1
        return {
            "user_id": user_id,
            "events": [{"item_id": self._ids[e.idx], "ts": e.ts, "positive": True} for e in seq]
            + [{"item_id": self._ids[e.idx], "ts": e.ts, "positive": False} for e in self._negs.get(user_id, [])],
            "follow": [{"from": self._ids[a], "to": self._ids[b], "weight": w, "count": n} for (a, b), (w, n) in sorted(pairs.items())],
            "popularity": dict(pop),
        }

    def popularity(self, item_id: str) -> int:
        """How many positive/neutral events the item has."""
        i = self._index.get(item_id)
        return int(self._pop[i]) if i is not None else 0

    def items_after(self, user_id: str, ts: float, limit: int = 3) -> list[str]:
        """The user's first `limit` positive items at or after time ts (what they went on to take up)."""
        seq = self._seqs.get(user_id, ())
        start = bisect.bisect_left([e.ts for e in seq], ts)
        return [self._ids[e.idx] for e in seq[start : start + limit]]  # type: ignore[misc]

    def recent_popularity(self) -> np.ndarray:
        """Popularity over the store's item index where each event's weight halves every `recent_half_life` newer events."""
        return self._recent[: len(self._ids)]

    def follow(self, a: str, b: str) -> tuple[float, int]:
        """(weight, count) of b following a within the window."""
        i, j = self._index.get(a), self._index.get(b)
        if i is None or j is None:
            return 0.0, 0
        return float(self._F[i, j]), int(self._N[i, j])

    def users(self) -> list[str]:
        """Users with any event."""
        return sorted(set(self._seqs) | set(self._negs))

    @property
    def n_events(self) -> int:
        """Positive/neutral events in the mirror."""
        return sum(len(s) for s in self._seqs.values())

    def matrices(self) -> tuple[np.ndarray, np.ndarray, dict[str, int], list[str | None]]:
        """(F, popularity, item→index, index→item) views for the scorer; do not mutate."""
        n = len(self._ids)
        return self._F[:n, :n], self._pop[:n], self._index, self._ids

    def snapshot(self) -> dict:
        """Everything in SQL as plain Python (for tests and export): pairs, popularity, events."""
        with self._lock, self._db.tx() as db:
            return self._snapshot_locked(db)

    def _snapshot_locked(self, db: _Db) -> dict:
        ids = dict(db.execute("SELECT idx, item_id FROM items").fetchall())
        return {
            "follow": {(ids[a], ids[b]): (w, n) for a, b, w, n in db.execute("SELECT a, b, w, n FROM follow").fetchall()},
            "popularity": {ids[i]: n for i, n in db.execute("SELECT idx, n FROM popularity").fetchall()},
            "events": sorted(db.execute("SELECT event_id, user_id, item_id, ts, positive FROM events").fetchall()),
        }

    # ----- impressions (for click-through by variant) ----------------------------------------

    def add_impressions(self, user_id: str, item_ids: Sequence[str], variant: str, ts: float | None = None) -> None:
        """Record that these items were shown to the user under an experiment variant."""
        ts = time.time() if ts is None else float(ts)
        with self._lock, self._db.tx() as db:
            db.executemany(
                "INSERT INTO impressions (user_id, item_id, variant, ts) VALUES (?, ?, ?, ?)", [(user_id, i, variant, ts) for i in item_ids]
            )

    def latest_impressions(self, user_id: str) -> list[str]:
        """The items of the user's most recent impression batch (what the bot showed last), in the order shown."""
        with self._lock, self._db.tx() as db:
            row = db.execute("SELECT MAX(ts) FROM impressions WHERE user_id = ?", (user_id,)).fetchone()
            if row is None or row[0] is None:
                return []
            rows = db.execute("SELECT item_id FROM impressions WHERE user_id = ? AND ts = ? ORDER BY id", (user_id, row[0])).fetchall()
            return list(dict.fromkeys(r[0] for r in rows))

    def mark_click(self, user_id: str, item_id: str, ts: float | None = None, horizon_s: float = 7 * 86400) -> bool:
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
        with self._lock:  # never interleave with another thread's open transaction on this connection
            rows = self._db.execute(
                "SELECT variant, COUNT(*), COUNT(clicked_ts) FROM impressions GROUP BY variant ORDER BY variant"
            ).fetchall()
        return {v: {"impressions": int(n), "clicks": int(c), "ctr": (c / n if n else 0.0)} for v, n, c in rows}


@dataclass
class _Pairs:
    """Aggregated follow pairs: unique (a, b) with summed weight and count."""

    a: np.ndarray
    b: np.ndarray
    w: np.ndarray
    n: np.ndarray

    @classmethod
    def combine(cls, parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> "_Pairs":
        """Sum rows with equal (a, b)."""
        if not parts:
            e = np.zeros(0, np.int64)
            return cls(e, e, np.zeros(0), e)
        a = np.concatenate([p[0] for p in parts])
        b = np.concatenate([p[1] for p in parts])
        key = a * (1 << 31) + b
        uniq, inv = np.unique(key, return_inverse=True)
        w = np.bincount(inv, weights=np.concatenate([p[2] for p in parts]), minlength=len(uniq))
        n = np.bincount(inv, weights=np.concatenate([p[3] for p in parts]), minlength=len(uniq)).astype(np.int64)
        return cls(uniq >> 31, uniq & ((1 << 31) - 1), w, n)

    @classmethod
    def merge(cls, many: Sequence["_Pairs"]) -> "_Pairs":
        """Sum several pair sets."""
        return cls.combine([(p.a, p.b, p.w, p.n) for p in many])

    def negated(self) -> "_Pairs":
        """The same pairs with opposite sign (a removal)."""
        return _Pairs(self.a, self.b, -self.w, -self.n)

    def as_dict(self) -> dict[tuple[int, int], tuple[float, int]]:
        """(a, b) -> (weight, count)."""
        return {(int(a), int(b)): (float(w), int(n)) for a, b, w, n in zip(self.a, self.b, self.w, self.n)}


def _as_event(e: CountEvent | Sequence | Mapping) -> CountEvent:
    """Accept CountEvent, a (user, item, ts, event_id[, positive]) tuple or a mapping with those keys."""
    if isinstance(e, CountEvent):
        return e
    if isinstance(e, Mapping):
        return CountEvent(str(e["user_id"]), str(e["item_id"]), float(e["ts"]), str(e["event_id"]), bool(e.get("positive", True)))
    return CountEvent(str(e[0]), str(e[1]), float(e[2]), str(e[3]), bool(e[4]) if len(e) > 4 else True)
