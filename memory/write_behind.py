"""What the interest memory writes behind its callers: outbox events into Chroma, item events into the counts, and (on a
background thread) the profile records of users whose profile changed.

`record` pays for one durable write: a commit to the outbox (embedded mode: this process alone owns the Chroma
directory) or Chroma's add (server mode). The outbox is drained into Chroma in batches, at a quiet moment or once its
oldest event has waited OUTBOX_MAX_LAG_S, and before every read of a user's events (the memory asks). Item events go
to the counts in the same call; a counts write that fails with an outbox is kept and offered again by the next drains
(the events are durable either way). Profile records are a cache rebuildable from the events: alone, they are written
in a quiet moment, or at the latest every MAX_LAG_S; shared, at once, since other processes read them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .event_layout import PAGE, CountRow, count_rows
from .outbox import Outbox, PendingEvent

__all__ = ["BatchCountsLike", "CountsLike", "WriteBehind"]

log = logging.getLogger(__name__)


class CountsLike(Protocol):
    """The part of memory.counts.CountStore that InterestMemory uses."""

    def add_event(self, user_id: str, item_id: str, ts: float, event_id: str, positive: bool = True) -> None: ...
    def remove_user(self, user_id: str) -> int: ...
    def user_contribution(self, user_id: str) -> dict[str, Any]: ...


@runtime_checkable
class BatchCountsLike(CountsLike, Protocol):
    """Counts that also take many events in one transaction (CountStore does; a plain CountsLike gets them one by one)."""

    def add_events(self, batch: Iterable[CountRow]) -> int: ...


class WriteBehind:
    """The memory's event writes, outbox drain, counts feed (with retry) and background profile writer."""

    QUIET_S = 0.25  # no foreground write for this long: a quiet moment for background work
    MAX_LAG_S = 30.0  # alone, profile records are written at least this often while any is dirty
    OUTBOX_MAX_LAG_S = 1.0  # the oldest outbox event reaches Chroma within about this, however busy

    def __init__(self, events: Any, counts: CountsLike | None, outbox: Outbox | None, shared: bool) -> None:
        """Write to the `events` collection, directly or (with an outbox) behind it; `shared`: other processes read it."""
        self._events = events
        self.counts = counts
        self.outbox = outbox
        self.shared = shared
        self._lock = threading.Lock()  # guards the counters below
        self._drain_lock = threading.Lock()  # one drain at a time: each moves the oldest batch
        self._pending_since: float | None = None  # monotonic time of the oldest undrained outbox write
        self._puts = 0  # outbox writes so far: a drain that saw none arrive meanwhile may clear _pending_since
        self._counts_retry: list[CountRow] = []  # item events a failed counts write left behind
        # Foreground writes in flight and when the last one ended: alone (not shared), background work waits for a
        # quiet moment instead of competing with record()'s event write for Chroma.
        self._inflight = 0
        self._last_write = 0.0
        self._last_flush = time.monotonic()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    # ----- foreground writes -------------------------------------------------------------------

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Mark a caller's write as in flight for its duration."""
        with self._lock:
            self._inflight += 1
        try:
            yield
        finally:
            with self._lock:
                self._inflight -= 1
                self._last_write = time.monotonic()

    def write_events(self, uid: str, ids: list[str], embs: np.ndarray, metas: list[dict[str, Any]], docs: list[str | None]) -> None:
        """Store one user's new events durably: committed to the outbox (drained later), else added to Chroma."""
        if self.outbox is None:
            self._events.add(ids=ids, embeddings=embs, metadatas=metas, documents=docs if any(docs) else None)
            return
        self.outbox.put([PendingEvent(i, uid, e, m, d) for i, e, m, d in zip(ids, embs, metas, docs)])
        with self._lock:
            self._puts += 1
            self._pending_since = self._pending_since or time.monotonic()

    # ----- counts ------------------------------------------------------------------------------

    def offer_counts(self, rows: list[CountRow]) -> None:
        """Give item events to the counts. With an outbox a failure is logged and the rows are offered again by the
        next drains (the events themselves are durable); without one it raises, and the client's retry (same
        idempotency key) offers them again."""
        if self.counts is None or not rows:
            return
        try:
            self.add_counts(rows)
        except Exception:
            if self.outbox is None:
                raise
            with self._lock:
                self._counts_retry.extend(rows)
            log.warning("counts write failed for %d item event(s); the next drain offers them again", len(rows), exc_info=True)

    def drop_user(self, uid: str) -> None:
        """Forget: a forgotten user's item events waiting for a counts retry are dropped, not written back later."""
        # Under the drain lock too: a drain holds the rows it took from the queue until it has written them.
        with self._drain_lock, self._lock:
            self._counts_retry = [row for row in self._counts_retry if row[0] != uid]

    def _take_counts_retry(self) -> list[CountRow]:
        with self._lock:
            rows, self._counts_retry = self._counts_retry, []
        return rows

    def add_counts(self, rows: list[CountRow]) -> None:
        """Give (user, item, ts, event_id, positive) item events to the counts, in one transaction when the store can."""
        if self.counts is None or not rows:
            return
        if isinstance(self.counts, BatchCountsLike):
            self.counts.add_events(rows)
            return
        for uid, item, ts, eid, positive in rows:
            self.counts.add_event(uid, item, ts, eid, positive=positive)

    # ----- the outbox drain --------------------------------------------------------------------

    def drain(self, for_user: str | None = None, to_counts: bool = False) -> int:
        """Upsert every outbox event into Chroma, oldest first (with for_user: only if that user has any pending).

        Item events whose counts write failed are offered to the counts again. to_counts (on open) offers every
        moved item event: a crash may have come between the outbox commit and the counts commit (counts skip event
        ids they already hold)."""
        outbox = self.outbox
        if outbox is None or (for_user is not None and not outbox.count(for_user)):
            return 0
        moved = 0
        with self._drain_lock:
            while True:
                with self._lock:
                    seen = self._puts
                batch = outbox.take(PAGE)
                if not batch:
                    with self._lock:
                        if self._puts == seen:  # nothing was put since this empty take
                            self._pending_since = None
                    self.offer_counts(self._take_counts_retry())
                    return moved
                self._move(batch, to_counts)
                outbox.done([e.event_id for e in batch])
                moved += len(batch)

    def _move(self, batch: list[PendingEvent], to_counts: bool) -> None:
        """One outbox batch into Chroma, and its item events (with any left to retry) to the counts."""
        docs = [e.document for e in batch]
        # Upsert, not add: a replay after a crash mid-drain finds some of these ids already stored.
        self._events.upsert(
            ids=[e.event_id for e in batch],
            embeddings=np.stack([e.embedding for e in batch]),
            metadatas=[e.metadata for e in batch],
            documents=docs if any(docs) else None,
        )
        retry = self._take_counts_retry()
        if to_counts:
            retry += count_rows((e.event_id, e.metadata) for e in batch)
        self.offer_counts(retry)  # a failure keeps them for the next drain; the batch is in Chroma either way

    # ----- the background writer ---------------------------------------------------------------

    def start(self, flush: Callable[[], None], dirty: Callable[[], bool]) -> None:
        """Start the thread that drains the outbox and calls `flush` (write pending profile records; `dirty`: any?)."""
        self._thread = threading.Thread(target=self._loop, args=(flush, dirty), name="interest-profile-writer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the background writer now instead of at its next tick."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the background writer (what it has not written stays pending for the caller's last flush)."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self, flush: Callable[[], None], dirty: Callable[[], bool]) -> None:
        while not self._closed:
            self._wake.wait(0.5 if self.shared else self.QUIET_S / 2)
            self._wake.clear()
            if self._closed:
                continue
            try:
                if self._should_drain():
                    self.drain()
                if self._should_flush(dirty()):
                    flush()
                    self._last_flush = time.monotonic()
            except Exception:  # outbox and profile stay pending; never kill the writer thread
                time.sleep(0.2)

    def _quiet(self, now: float) -> bool:
        """No foreground write in flight, and none ended in the last QUIET_S (call with the lock held)."""
        return self._inflight == 0 and now - self._last_write >= self.QUIET_S

    def _should_flush(self, dirty: bool) -> bool:
        """Shared: always (other processes read the records). Alone: in a quiet moment, or at the latest every
        MAX_LAG_S (the records are a rebuildable cache)."""
        if self.shared or not dirty:
            return True
        now = time.monotonic()
        with self._lock:
            quiet = self._quiet(now)
        return quiet or now - self._last_flush >= self.MAX_LAG_S

    def _should_drain(self) -> bool:
        """Move outbox events to Chroma in a quiet moment, or once the oldest has waited OUTBOX_MAX_LAG_S."""
        with self._lock:
            if self._pending_since is None:
                return False
            now = time.monotonic()
            return self._quiet(now) or now - self._pending_since >= self.OUTBOX_MAX_LAG_S
