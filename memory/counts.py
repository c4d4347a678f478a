"""Count-based collaborative state: sparse item→item follow pairs in SQL, top-M neighbour lists, popularity.

SQL is the truth (a SQLite file in the data dir, or Postgres): exact integer pair weights and counts,
popularity and the event log. A process keeps only bounded caches: an LRU of hot items' top-M neighbour
lists (read through an index ordered by weight, then kept up to date with this process's own writes),
an LRU of active users' recent sequences, and one popularity number per item. Nothing is read per user
or per pair on open. Everything here is derived from the event log: `rebuild` recreates it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .counts_migrate import SCHEMA_VERSION, Progress, print_progress, upgrade_if_needed
from .item_positions import ItemPositions
from .lru import LRU
from .pairs import SCALE, Pairs, quantized_weights, window_pairs
from .sqldb import Db


class CountEvent(NamedTuple):
    """One item event as the counts see it."""

    user_id: str
    item_id: str
    ts: float
    event_id: str
    positive: bool = True


@dataclass(frozen=True)
class CountConfig:
    """How follow weights are accumulated (window, decay: fixed for a store) and how much a process caches."""

    window: int = 20
    decay: float = 0.2  # a pair at distance d weighs 1 / d**decay
    recent_half_life: float = 1000.0  # recent popularity, in process (not stored): an event's weight halves after this many newer positive events
    # Per item, the M strongest followers and predecessors the scorer reads (a read-time limit: no rebuild to change).
    neighbours: int = 1000
    list_cache: int = 4096  # in process: hot neighbour lists (two per item) ...
    user_cache: int = 4096  # ... and active users' recent sequences
    user_tail: int = 64  # positive events kept per cached user (at least `window`)

    def weight(self, d: int) -> float:
        """Weight of one pair at sequence distance d (0 outside the window)."""
        return 1.0 / d**self.decay if 1 <= d <= self.window else 0.0


_SCHEMA_SQLITE = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS items (idx INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT UNIQUE NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE NOT NULL,"
    " user_id TEXT NOT NULL, item_id TEXT NOT NULL, ts REAL NOT NULL, positive INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_user ON events (user_id, ts, seq)",
    # wq: summed weight in units of 1/SCALE (exact integer arithmetic); n: pair occurrences within the window.
    "CREATE TABLE IF NOT EXISTS pairs (a INTEGER NOT NULL, b INTEGER NOT NULL, wq BIGINT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY (a, b))",
    # The neighbour lists: an item's top-M followers (by a) or predecessors (by b) are one index range read.
    "CREATE INDEX IF NOT EXISTS pairs_out ON pairs (a, wq DESC, b)",
    "CREATE INDEX IF NOT EXISTS pairs_in ON pairs (b, wq DESC, a)",
    "CREATE TABLE IF NOT EXISTS popularity (idx INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    # The same database also holds the impressions (impressions.py), the forget log and the users' keys.
]


class _Entry(NamedTuple):
    ts: float
    seq: int
    idx: int


class Neighbours(NamedTuple):
    """One item's strongest neighbours in one direction, strongest first (ties: lower item index)."""

    idx: np.ndarray  # item indices
    w: np.ndarray  # follow weight (float)
    wq: np.ndarray  # the same weight as stored (integer, 1/SCALE units)
    n: np.ndarray  # pair counts


class _Tail(NamedTuple):
    entries: list[_Entry]  # the user's last positive events, oldest first
    complete: bool  # True when this is the user's whole positive history


_OUT, _IN = "out", "in"
_EMPTY = Neighbours(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))


class CountStore:
    """Per-user sequences, follow weights within a window (both directions readable), popularity."""

    def __init__(self, db: Db, config: CountConfig = CountConfig(), progress: Progress | None = print_progress) -> None:
        self._db = db
        self.config = config
        self._stale = False  # a write rolled back after changing caches: read them again before the next use
        self._lock = threading.RLock()
        self._wq = quantized_weights(config.window, config.decay)
        self._lists: LRU[tuple[str, int], Neighbours] = LRU(config.list_cache)
        self._tails: LRU[str, _Tail] = LRU(config.user_cache)
        self._tail_len = max(config.user_tail, config.window)
        self._epoch = 0  # read from the store below; a rebuild during the config check starts from 1
        self._check_config()
        with self._db.tx() as db:  # one consistent read, even while other processes write
            upgrade_if_needed(db, self._wq, progress)
            self._load_state()

    # ----- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url_or_path: str | Path, config: CountConfig | None = None, progress: Progress | None = print_progress) -> CountStore:
        """Open (creating, or upgrading an older layout) a store: a SQLite file path, `sqlite:///path`, or a `postgresql://` URL."""
        return cls(Db(url_or_path, _SCHEMA_SQLITE), config or CountConfig(), progress)

    def close(self) -> None:
        """Close the SQL connection."""
        self._db.close()

    def _check_config(self) -> None:
        with self._db.tx() as db:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
            want = {"window": str(self.config.window), "decay": repr(self.config.decay)}
            if not rows:
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", list(want.items()) + [("epoch", "0"), ("schema", str(SCHEMA_VERSION))]
                )
                return
            if any(rows.get(k) != v for k, v in want.items()):
                raise ValueError(f"count store was built with {rows}, asked for {want}: call rebuild() with the event log")

    # ----- in-process state: item index, popularity, bounded caches ---------------------------

    def _load_state(self) -> None:
        """Read the item index and popularity (one number per item) and drop every cache: on open and after others' removals."""
        db = self._db
        self._ids: list[str | None] = [None]  # SQL idx starts at 1; slot 0 unused
        self._index: dict[str, int] = {}
        for idx, item in db.execute("SELECT idx, item_id FROM items ORDER BY idx").fetchall():
            self._grow_ids(idx, item)
        self._pop = np.zeros(max(64, len(self._ids)), np.float64)
        for idx, cnt in db.execute("SELECT idx, n FROM popularity").fetchall():
            self._pop[idx] = cnt
        self._recent: np.ndarray | None = None  # computed on first use (only a blend with live popularity reads it)
        self._watermark = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
        self._lists.clear()
        self._tails.clear()
        self._epoch = self._read_epoch()

    def _read_epoch(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])

    def _grow_ids(self, idx: int, item: str) -> None:
        while len(self._ids) <= idx:
            self._ids.append(None)
        self._ids[idx] = item
        self._index[item] = idx

    def _ensure_capacity(self, n: int) -> None:
        cap = len(self._pop)
        if n <= cap:
            return
        new = max(n, cap * 2)
        self._pop = np.concatenate([self._pop, np.zeros(new - cap)])
        if self._recent is not None:
            self._recent = np.concatenate([self._recent, np.zeros(new - cap)])

    def _intern(self, db: Db, items: Iterable[str]) -> None:
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

    def _refresh_items(self) -> None:
        """Learn item indices another process created."""
        for idx, item in self._db.execute("SELECT idx, item_id FROM items WHERE idx >= ?", (len(self._ids),)).fetchall():
            self._grow_ids(idx, item)
        self._ensure_capacity(len(self._ids))

    def _idx(self, item: str) -> int:
        if item not in self._index:
            self._refresh_items()
        return self._index[item]

    # ----- recent popularity (decayed by newer events) ------------------------------------------

    def _fold_recent(self, idxs: Sequence[int]) -> None:
        """Decay recent popularity by the number of new positive events, then add each with its own decayed weight."""
        k = len(idxs)
        if not k or self._recent is None:
            return
        g = 0.5 ** (1.0 / self.config.recent_half_life)
        self._recent *= g**k
        np.add.at(self._recent, np.asarray(idxs, np.int64), g ** np.arange(k - 1, -1, -1, dtype=np.float64))

    def recent_popularity(self) -> np.ndarray:
        """Popularity over the store's item index where each event's weight halves every `recent_half_life` newer events."""
        with self._lock:
            if self._recent is None:
                # Computed once from the log in arrival order, then folded forward with each write.
                rows = self._db.execute("SELECT item_id FROM events WHERE positive = 1 ORDER BY seq").fetchall()
                self._recent = np.zeros(len(self._pop), np.float64)
                self._fold_recent([self._idx(r[0]) for r in rows])
            return self._recent[: len(self._ids)]

    # ----- per-user sequences (read on demand, recent tails cached) -------------------------------

    def _positives(self, user_id: str, limit: int | None = None) -> list[_Entry]:
        """The user's positive events from SQL, oldest first (only the newest `limit` if given)."""
        sql = "SELECT ts, seq, item_id FROM events WHERE user_id = ? AND positive = 1 ORDER BY ts DESC, seq DESC"
        rows = self._db.execute(sql + (f" LIMIT {int(limit)}" if limit is not None else ""), (user_id,)).fetchall()
        return [_Entry(float(ts), int(seq), self._idx(item)) for ts, seq, item in reversed(rows)]

    def _tail(self, user_id: str) -> _Tail:
        """The user's last positive events (cached for active users)."""
        t = self._tails.get(user_id)
        if t is None:
            rows = self._positives(user_id, self._tail_len + 1)
            t = _Tail(rows[-self._tail_len :], len(rows) <= self._tail_len)
            self._tails.put(user_id, t)
        return t

    # ----- pair arithmetic and its SQL -----------------------------------------------------------

    def _pairs(self, seq: Sequence[_Entry], start: int = 0) -> Pairs:
        """Follow pairs for every entry at position >= start with its window predecessors (aggregated)."""
        return window_pairs(np.fromiter((e.idx for e in seq), np.int64, len(seq)), self._wq, start)

    def _apply(self, db: Db, pairs: Pairs, pop_delta: dict[int, int]) -> None:
        """Write pair and popularity deltas to SQL, and keep the cached neighbour lists exact."""
        p = pairs.nonzero()
        db.executemany(
            "INSERT INTO pairs (a, b, wq, n) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (a, b) DO UPDATE SET wq = pairs.wq + excluded.wq, n = pairs.n + excluded.n",
            zip(p.a.tolist(), p.b.tolist(), p.wq.tolist(), p.n.tolist()),
        )
        down = (p.n < 0) | (p.wq < 0)
        if (p.n < 0).any():
            # Removal: drop pairs that no longer occur, so a forgotten user leaves no trace.
            db.executemany("DELETE FROM pairs WHERE a = ? AND b = ? AND n <= 0", zip(p.a[p.n < 0].tolist(), p.b[p.n < 0].tolist()))
        prow = [(i, k) for i, k in pop_delta.items() if k != 0]
        db.executemany("INSERT INTO popularity (idx, n) VALUES (?, ?) ON CONFLICT (idx) DO UPDATE SET n = popularity.n + excluded.n", prow)
        if any(k < 0 for _, k in prow):
            db.executemany("DELETE FROM popularity WHERE idx = ? AND n <= 0", [(i,) for i, k in prow if k < 0])
        for i, k in prow:
            self._pop[i] += k
        self._update_lists(db, p, down)

    def _update_lists(self, db: Db, p: Pairs, down: np.ndarray) -> None:
        """Cached lists touched by a decrease are dropped (read again on use); those that only grew are merged in place.

        Merging is exact: untouched pairs outside a cached top-M did not change and were no stronger than its
        last member, so the new top-M is among the old members and the touched pairs.
        """
        for a in set(p.a[down].tolist()):
            self._lists.pop((_OUT, a))
        for b in set(p.b[down].tolist()):
            self._lists.pop((_IN, b))
        up = ~down
        want = [(a, b) for a, b in zip(p.a[up].tolist(), p.b[up].tolist()) if (_OUT, a) in self._lists or (_IN, b) in self._lists]
        if not want:
            return
        totals = self._pair_totals(db, want)
        by_list: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
        for (a, b), (wq, n) in totals.items():
            by_list[(_OUT, a)].append((b, wq, n))
            by_list[(_IN, b)].append((a, wq, n))
        for key, rows in by_list.items():
            old = self._lists.get(key)
            if old is not None:
                self._lists.put(key, self._merge(old, rows))

    def _pair_totals(self, db: Db, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
        """Stored (wq, n) of these pairs, one query per target item."""
        by_b: dict[int, list[int]] = defaultdict(list)
        for a, b in pairs:
            by_b[b].append(a)
        out = {}
        for b, As in by_b.items():
            for i in range(0, len(As), 500):
                chunk = As[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for a, wq, n in db.execute(f"SELECT a, wq, n FROM pairs WHERE b = ? AND a IN ({marks})", [b, *chunk]).fetchall():
                    out[(int(a), b)] = (int(wq), int(n))
        return out

    def _merge(self, old: Neighbours, rows: list[tuple[int, int, int]]) -> Neighbours:
        """The top-M of a list after some of its pairs grew (rows: other item, new wq, new n)."""
        new = np.asarray(rows, np.int64).reshape(-1, 3)
        keep = ~np.isin(old.idx, new[:, 0])
        idx = np.concatenate([old.idx[keep], new[:, 0]])
        wq = np.concatenate([old.wq[keep], new[:, 1]])
        n = np.concatenate([old.n[keep], new[:, 2]])
        order = np.lexsort((idx, -wq))[: self.config.neighbours]
        return Neighbours(idx[order], wq[order] / SCALE, wq[order], n[order])

    # ----- writes ----------------------------------------------------------------------------

    def add_event(self, user_id: str, item_id: str, ts: float, event_id: str, positive: bool = True) -> None:
        """Record one item event (idempotent per event_id); only positive/neutral events enter the counts."""
        self.add_events([CountEvent(user_id, item_id, float(ts), event_id, bool(positive))])

    def add_events(self, batch: Iterable[CountEvent | Sequence[Any] | Mapping[str, Any]]) -> int:
        """Record many events in one transaction; returns how many were new."""
        events = [_as_event(e) for e in batch]
        with self._write() as db:
            self._sync_locked()
            fresh = self._filter_new(db, events)
            if not fresh:
                return 0
            # Time order, ties in arrival order, so SQL seq follows each user's chronology.
            fresh.sort(key=lambda e: e.ts)
            self._intern(db, (e.item_id for e in fresh))
            # Each user's tail before these events: new pairs only reach `window` back.
            tails = {u: self._tail(u) for u in {e.user_id for e in fresh if e.positive}}
            cur = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
            db.executemany(
                "INSERT INTO events (event_id, user_id, item_id, ts, positive) VALUES (?, ?, ?, ?, ?)",
                [(e.event_id, e.user_id, e.item_id, e.ts, int(e.positive)) for e in fresh],
            )
            seqs = self._seq_numbers(db, cur, fresh)
            pop_delta: dict[int, int] = defaultdict(int)
            by_user: dict[str, list[_Entry]] = defaultdict(list)
            for e, s in zip(fresh, seqs):
                if e.positive:
                    entry = _Entry(e.ts, s, self._index[e.item_id])
                    by_user[e.user_id].append(entry)
                    pop_delta[entry.idx] += 1
                self._watermark = max(self._watermark, s)
            late = False
            parts = []
            for user, entries in by_user.items():
                part, was_late = self._insert_user(user, tails[user], entries)
                parts.append(part)
                late |= was_late
            self._apply(db, Pairs.merge(parts), pop_delta)
            self._fold_recent([self._index[e.item_id] for e in fresh if e.positive])
            if late:
                self._bump_epoch(db)
            return len(fresh)

    def _insert_user(self, user: str, tail: _Tail, entries: list[_Entry]) -> tuple[Pairs, bool]:
        """Pair delta of a user's new entries (and whether one came late); updates their cached tail."""
        seq = tail.entries
        if not seq or entries[0] >= seq[-1]:
            ctx = seq[-self.config.window :]
            joined = seq + entries
            self._tails.put(user, _Tail(joined[-self._tail_len :], tail.complete and len(joined) <= self._tail_len))
            return self._pairs(ctx + entries, len(ctx)), False  # the common case: only the new tail makes pairs
        # Late event: re-derive this user's pairs from their whole history (rare; exact either way).
        after = self._positives(user)
        new_seqs = {e.seq for e in entries}
        before = [e for e in after if e.seq not in new_seqs]
        self._tails.put(user, _Tail(after[-self._tail_len :], len(after) <= self._tail_len))
        return Pairs.merge([self._pairs(after), self._pairs(before).negated()]), True

    def _seq_numbers(self, db: Db, after: int, fresh: list[CountEvent]) -> list[int]:
        got = dict(db.execute("SELECT event_id, seq FROM events WHERE seq > ?", (after,)).fetchall())
        return [got[e.event_id] for e in fresh]

    def _filter_new(self, db: Db, events: list[CountEvent]) -> list[CountEvent]:
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

    def _bump_epoch(self, db: Db) -> None:
        """Tell other processes that more than appends happened, so they drop their caches instead of tailing."""
        self._epoch = int(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]) + 1
        db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (str(self._epoch),))

    def remove_user(self, user_id: str) -> int:
        """Subtract exactly this user's contribution and delete their events; returns events removed."""
        with self._write() as db:
            self._sync_locked()
            seq = self._positives(user_id)
            pop_delta: dict[int, int] = defaultdict(int)
            for e in seq:
                pop_delta[e.idx] -= 1
            self._apply(db, self._pairs(seq).negated(), pop_delta)
            self._recent = None  # a forgotten user leaves no trace in recent popularity either (recomputed on use)
            n = db.execute("DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
            self._tails.pop(user_id)
            self._bump_epoch(db)
            return int(n if n is not None and n >= 0 else len(seq))

    def rebuild(self, events: Iterable[CountEvent | Sequence[Any] | Mapping[str, Any]]) -> int:
        """Drop all counts and recreate them from the event log (also after a config change)."""
        with self._lock:
            with self._db.tx() as db:
                for table in ("events", "pairs", "popularity", "items", "meta"):
                    db.execute(f"DELETE FROM {table}")
                epoch = self._epoch + 1
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("window", str(self.config.window)), ("decay", repr(self.config.decay)), ("epoch", str(epoch)), ("schema", str(SCHEMA_VERSION))],
                )
                self._load_state()
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

    def catch_up(self, events_since: Iterable[CountEvent | Sequence[Any] | Mapping[str, Any]] | None = None) -> int:
        """Apply events this process has not seen (from the shared event log) and tail other writers' SQL rows."""
        added = self.add_events(events_since) if events_since is not None else 0
        with self._lock, self._db.tx():
            self._sync_locked()
        return added

    @contextmanager
    def _write(self) -> Iterator[Db]:
        """The store's lock and one transaction. Caches change on the way (item index, popularity, tails, lists,
        watermark): if the transaction rolls back, they are read again from SQL."""
        with self._lock:
            try:
                with self._db.tx() as db:
                    yield db
            except BaseException:
                try:
                    self._load_state()
                except Exception:  # the database is away: the next write reads them before it starts
                    self._stale = True
                raise

    def _sync_locked(self) -> None:
        """Bring popularity and the caches up to date with SQL written by other processes."""
        if self._stale:
            self._load_state()
            self._stale = False
            return
        if self._read_epoch() != self._epoch:
            self._load_state()
            return
        rows = self._db.execute(
            "SELECT seq, user_id, item_id, positive FROM events WHERE seq > ? ORDER BY seq", (self._watermark,)
        ).fetchall()
        if not rows:
            return
        # Their pair counts are already in SQL: only popularity and the caches need to learn of them.
        fold = []
        for seq, user, item, pos in rows:
            if pos:
                i = self._idx(item)
                self._pop[i] += 1
                fold.append(i)
            self._tails.pop(user)
            self._watermark = max(self._watermark, int(seq))
        self._fold_recent(fold)
        self._lists.clear()  # which lists their pairs touched is not worth working out: hot ones are read again

    # ----- reads -----------------------------------------------------------------------------

    def neighbours(self, item_id: str, direction: str = _OUT) -> Neighbours:
        """The item's top-M followers ("out": b after this item) or predecessors ("in": a before it), strongest first."""
        i = self._index.get(item_id)
        if i is None:
            return _EMPTY
        key = (direction, i)
        with self._lock:
            got = self._lists.get(key)
            if got is None:
                sql = (
                    "SELECT b, wq, n FROM pairs WHERE a = ? ORDER BY wq DESC, b LIMIT ?"
                    if direction == _OUT
                    else "SELECT a, wq, n FROM pairs WHERE b = ? ORDER BY wq DESC, a LIMIT ?"
                )
                rows = np.asarray(self._db.execute(sql, (i, self.config.neighbours)).fetchall(), np.int64).reshape(-1, 3)
                if len(rows) and rows[:, 0].max() >= len(self._ids):
                    self._refresh_items()  # another process wrote pairs with items this one has not seen
                got = Neighbours(rows[:, 0], rows[:, 1] / SCALE, rows[:, 1], rows[:, 2])
                self._lists.put(key, got)
            return got

    def user_items(self, user_id: str, limit: int | None = None, include_negative: bool = False) -> list[str]:
        """The user's items, newest first (positive/neutral only unless include_negative)."""
        with self._lock:
            if include_negative:
                sql = "SELECT item_id FROM events WHERE user_id = ? ORDER BY ts DESC, seq DESC"
                rows = self._db.execute(sql + (f" LIMIT {int(limit)}" if limit is not None else ""), (user_id,)).fetchall()
                return [r[0] for r in rows]
            tail = self._tail(user_id)
            if tail.complete or (limit is not None and limit <= len(tail.entries)):
                entries = tail.entries
            else:
                entries = self._positives(user_id, limit)
            out = [self._ids[e.idx] for e in reversed(entries)]
            return out[:limit] if limit is not None else out  # type: ignore[return-value]  # an event's idx always has its item: no None slot is read

    def user_contribution(self, user_id: str) -> dict[str, Any]:
        """What this user adds to the counts: their events, follow pairs (weight, count) and popularity."""
        with self._lock:
            seq = self._positives(user_id)
            negs = self._db.execute("SELECT ts, item_id FROM events WHERE user_id = ? AND positive = 0 ORDER BY ts, seq", (user_id,)).fetchall()
        pairs = self._pairs(seq).as_dict()
        pop: dict[str, int] = defaultdict(int)
        for e in seq:
            pop[self._ids[e.idx]] += 1  # type: ignore[index]  # an event's idx always has its item: no None slot is read
        return {
            "user_id": user_id,
            "events": [{"item_id": self._ids[e.idx], "ts": e.ts, "positive": True} for e in seq]
            + [{"item_id": item, "ts": float(ts), "positive": False} for ts, item in negs],
            "follow": [{"from": self._ids[a], "to": self._ids[b], "weight": w, "count": n} for (a, b), (w, n) in sorted(pairs.items())],
            "popularity": dict(pop),
        }

    def popularity(self, item_id: str) -> int:
        """How many positive/neutral events the item has."""
        i = self._index.get(item_id)
        return int(self._pop[i]) if i is not None else 0

    def items_after(self, user_id: str, ts: float, limit: int = 3) -> list[str]:
        """The user's first `limit` positive items at or after time ts (what they went on to take up)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id FROM events WHERE user_id = ? AND positive = 1 AND ts >= ? ORDER BY ts, seq LIMIT ?", (user_id, float(ts), int(limit))
            ).fetchall()
        return [r[0] for r in rows]

    def follow(self, a: str, b: str) -> tuple[float, int]:
        """(weight, count) of b following a within the window."""
        i, j = self._index.get(a), self._index.get(b)
        if i is None or j is None:
            return 0.0, 0
        with self._lock:
            row = self._db.execute("SELECT wq, n FROM pairs WHERE a = ? AND b = ?", (i, j)).fetchone()
        return (int(row[0]) / SCALE, int(row[1])) if row else (0.0, 0)

    def follow_counts(self, items: Sequence[str], target: str) -> dict[str, tuple[int, int]]:
        """For each of `items`: (times target followed it, times it followed target); two queries, for explanations."""
        t = self._index.get(target)
        known = {self._index[i]: i for i in items if i in self._index}
        out = {i: (0, 0) for i in items}
        if t is None or not known:
            return out
        marks = ",".join("?" * len(known))
        with self._lock:
            fwd = dict(self._db.execute(f"SELECT a, n FROM pairs WHERE b = ? AND a IN ({marks})", [t, *known]).fetchall())
            back = dict(self._db.execute(f"SELECT b, n FROM pairs WHERE a = ? AND b IN ({marks})", [t, *known]).fetchall())
        for i, item in known.items():
            out[item] = (int(fwd.get(i, 0)), int(back.get(i, 0)))
        return out

    def users(self) -> list[str]:
        """Users with any event."""
        with self._lock:
            return sorted(r[0] for r in self._db.execute("SELECT DISTINCT user_id FROM events").fetchall())

    @property
    def n_events(self) -> int:
        """Positive/neutral events in the store."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events WHERE positive = 1").fetchone()[0])

    def popularity_view(self) -> tuple[np.ndarray, dict[str, int], list[str | None]]:
        """(popularity, item→index, index→item) over the store's item index for the scorer; do not mutate."""
        n = len(self._ids)
        return self._pop[:n], self._index, self._ids

    def positions(self, rows: ItemPositions) -> tuple[np.ndarray, np.ndarray]:
        """Each of `rows`' items' index in this store (0 = not counted), reading only the items added since last time,
        and the popularity those indices point into (taken after them: every index is within it)."""
        counted = rows.follow(self._index)
        pop = self._pop[: len(self._ids)]
        # A state reloaded between the two reads (another process rebuilt): an index past the new arrays counts as none.
        return np.where(counted < len(pop), counted, 0), pop

    def cache_sizes(self) -> dict[str, int]:
        """How many neighbour lists and user tails this process holds (both bounded by the config)."""
        return {"lists": len(self._lists), "users": len(self._tails)}

    def snapshot(self) -> dict[str, Any]:
        """Everything in SQL as plain Python (for tests and export): pairs, popularity, events."""
        with self._lock, self._db.tx() as db:
            return self._snapshot_locked(db)

    def _snapshot_locked(self, db: Db) -> dict[str, Any]:
        ids = dict(db.execute("SELECT idx, item_id FROM items").fetchall())
        return {
            "follow": {(ids[a], ids[b]): (int(wq) / SCALE, int(n)) for a, b, wq, n in db.execute("SELECT a, b, wq, n FROM pairs").fetchall()},
            "popularity": {ids[i]: n for i, n in db.execute("SELECT idx, n FROM popularity").fetchall()},
            "events": sorted(db.execute("SELECT event_id, user_id, item_id, ts, positive FROM events").fetchall()),
        }


def _as_event(e: CountEvent | Sequence[Any] | Mapping[str, Any]) -> CountEvent:
    """Accept CountEvent, a (user, item, ts, event_id[, positive]) tuple or a mapping with those keys."""
    if isinstance(e, CountEvent):
        return e
    if isinstance(e, Mapping):
        return CountEvent(str(e["user_id"]), str(e["item_id"]), float(e["ts"]), str(e["event_id"]), bool(e.get("positive", True)))
    return CountEvent(str(e[0]), str(e[1]), float(e[2]), str(e[3]), bool(e[4]) if len(e) > 4 else True)
