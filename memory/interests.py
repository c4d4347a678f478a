"""InterestMemory: durable interest events in Chroma and a decayed multi-interest profile derived from them.

Events (`interest_events`, one record per signal) are the truth. The profile (`interest_profiles`,
one head record plus one record per interest cluster per user) is derived incrementally in
`record` and kept in process; it is written behind the event write by a background thread, so
`record` pays for one Chroma write. A profile that lags its events (a crash before the write-behind,
another process writing the same user) is detected by comparing the head's signal count with the
user's events and rebuilt from them, so nothing acknowledged is ever lost from the profile either.

With an outbox (embedded mode: this process alone owns the Chroma directory) `record` commits events to the
outbox and returns; they reach Chroma in batches behind it, and every read drains the outbox first (outbox.py).

This module is the memory's API and its per-user profile states; how records are laid out in Chroma is
event_layout.py, and what is written behind the caller (outbox drain, counts feed, profile writer) write_behind.py.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
import uuid
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from .chroma import get_collection
from .event_layout import (
    EVENTS_COLLECTION,
    PAGE,
    PROFILES_COLLECTION,
    SOURCES,
    CountRow,
    ItemEvent,
    and_filter,
    cluster_id,
    count_rows,
    event_metadata,
    head_id,
    head_vector,
    item_event,
    keyed_event_id,
    unpack,
    user_filter,
)
from .forget_log import ForgetLog
from .keyring import Keyring, is_sealed
from .outbox import Outbox
from .profile import EventView, Profile, ProfileState
from .signals import InterestSignal, check_timestamp
from .userid import InvalidUserIdError, validate_user_id
from .write_behind import CountsLike, WriteBehind

# The collection names (and keyed_event_id) live in event_layout.py; they stay importable from here.
__all__ = [
    "EVENTS_COLLECTION",
    "PROFILES_COLLECTION",
    "ForgetIncompleteError",
    "InterestEvent",
    "InterestMemory",
    "InvalidUserIdError",
    "UnknownInterestError",
]

log = logging.getLogger(__name__)
USER_LOCK_STRIPES = 16_384  # per-user locks are stripes: their number stays fixed however many users call
MAX_CACHED_USERS = 10_000  # profile states kept in process; the least recently used clean ones are dropped


class SupportsClose(Protocol):
    """A store with a close()."""

    def close(self) -> None: ...


class ImpressionsLike(Protocol):
    """The part of memory.impressions.ImpressionStore that InterestMemory uses: export lists and forget removes what was shown."""

    def for_user(self, user_id: str) -> list[dict[str, Any]]: ...

    def remove_user(self, user_id: str) -> int: ...


class ForgetIncompleteError(RuntimeError):
    """forget() found data of the user still stored after deleting it."""


class UnknownInterestError(KeyError):
    """forget_interest() was given neither one of the user's event ids nor a category they have."""


@dataclass
class InterestEvent:
    """One stored interest event as read back."""

    event_id: str
    user_id: str
    text: str | None
    source: str
    item_id: str | None
    polarity: float
    preference: float
    categories: dict[str, float]
    top_category: str | None
    ts: float
    recorded_at: float
    embedding: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


class InterestMemory:
    """Per-user interest events and profiles in Chroma (embedded or server), plus the collaborative counts."""

    # Clause text rides in the packed metadata, not as a Chroma document: nothing searches it by text, and a
    # document costs an extra row plus full-text index entries on every add. Old records' documents still read.
    _text_in_meta = True

    def __init__(
        self,
        client: Any,
        counts: CountsLike | None = None,
        store_text: bool = True,
        short_half_life_days: float = 1.0,
        long_half_life_days: float = 90.0,
        dim: int = 384,
        write_behind: bool = True,
        shared: bool = True,
        outbox: Outbox | None = None,
        forget_log: ForgetLog | None = None,
        max_cached_users: int = MAX_CACHED_USERS,
        keyring: Keyring | None = None,
        impressions: ImpressionsLike | None = None,
        owned: Sequence[SupportsClose] = (),
    ) -> None:
        """Open (creating) the two collections and replay any outbox; write_behind=False writes profile records inside record().

        `forget_log` (optional) notes when each user is forgotten, so the app can refuse credentials issued before.
        `keyring` (optional) seals clause texts and exemplars per user; forget shreds the key. `impressions` (optional):
        what the user was shown, removed by forget (forget_interest keeps it: the A/B record). `owned`: stores this
        memory closes when it closes (memory/stores.py opens them so); the caller closes any others."""
        if outbox is not None and shared:
            raise ValueError("an outbox needs sole ownership of Chroma (shared=False): other processes would not see its events")
        self.client = client
        self.counts = counts
        self.store_text = store_text
        self.short_half_life_days = short_half_life_days
        self.long_half_life_days = long_half_life_days
        self.dim = dim
        self.write_behind = write_behind
        # False when this process holds the data dir's lock (embedded Chroma): no other writer exists, so the
        # in-process profile is authoritative and record/profile skip the freshness read.
        self.shared = shared
        self._events = get_collection(client, EVENTS_COLLECTION)
        self._profiles = get_collection(client, PROFILES_COLLECTION)
        self._writer = uuid.uuid4().hex[:12]  # names this process's profile writes
        self.outbox = outbox
        self.forget_log = forget_log
        self.keyring = keyring
        self.impressions = impressions
        self._owned = list(owned)
        # Per-user caches, bounded: a state (with its sync marker, stored cluster ids and head vector) is dropped
        # least recently used first once clean, and read back from Chroma when the user returns.
        self.max_cached_users = max(1, int(max_cached_users))
        self._states: OrderedDict[str, ProfileState] = OrderedDict()
        self._synced: dict[str, tuple[str, int]] = {}  # (writer, version) of the head last read/written
        self._stored_cids: dict[str, set[int]] = {}
        self._loaded_at: dict[str, float] = {}  # wall time each cached state was read from Chroma
        self._head_vecs: dict[str, np.ndarray] = {}
        self._dirty: set[str] = set()
        self._stripes = [threading.RLock() for _ in range(USER_LOCK_STRIPES)]
        self._guard = threading.Lock()
        self._closed = False
        self._writes = WriteBehind(self._events, counts, outbox, shared)
        if outbox is not None:
            self._writes.drain(to_counts=True)  # after a crash: what the outbox still holds goes to Chroma and the counts
        if write_behind:
            self._writes.start(flush=self.flush, dirty=self._has_dirty)
        ref = weakref.ref(self)

        def close_at_exit() -> None:
            if (m := ref()) is not None:
                m.close()

        atexit.register(close_at_exit)

    # ----- plumbing ----------------------------------------------------------------------------

    def _stripe(self, uid: str) -> int:
        return zlib.crc32(uid.encode("utf-8")) % USER_LOCK_STRIPES

    def _lock(self, uid: str) -> threading.RLock:
        return self._stripes[self._stripe(uid)]

    def _cache(self, uid: str, state: ProfileState) -> None:
        """Keep the user's state as the most recent; drop the least recent clean ones beyond max_cached_users."""
        with self._guard:
            self._states[uid] = state
            self._states.move_to_end(uid)
            over = len(self._states) - self.max_cached_users
            oldest = [u for _, u in zip(range(2 * over + 8), self._states) if u != uid] if over > 0 else []
        for u in oldest:
            if len(self._states) <= self.max_cached_users:
                break
            self._evict(u)

    def _evict(self, uid: str) -> None:
        lock = self._lock(uid)
        if not lock.acquire(blocking=False):
            return  # in use (or its stripe is): another one goes instead
        try:
            with self._guard:
                if uid in self._dirty:
                    return  # its profile records are not written yet
                self._drop_cached(uid)
        finally:
            lock.release()

    def _drop_cached(self, uid: str) -> None:
        """Forget what this process holds about the user (call with the guard held); Chroma is read again next time."""
        self._states.pop(uid, None)
        self._synced.pop(uid, None)
        self._stored_cids.pop(uid, None)
        self._head_vecs.pop(uid, None)
        self._loaded_at.pop(uid, None)

    def _forgotten_since(self, uid: str, since: float) -> bool:
        """The user was forgotten at or after `since` (wall clock: processes share a clock, or NTP keeps them close)."""
        if self.forget_log is None:
            return False
        at = self.forget_log.forgotten_at(uid)
        return at is not None and at >= since

    def _forgotten_since_loaded(self, uid: str) -> bool:
        """Server mode: another process forgot the user after this one read their state, so writing or serving that
        state would bring the forgotten profile back."""
        return self.shared and self._forgotten_since(uid, self._loaded_at.get(uid, 0.0))

    def cached_users(self) -> int:
        """How many users' profile states this process holds (at most max_cached_users, plus unwritten ones)."""
        return len(self._states)

    def _new_state(self, uid: str) -> ProfileState:
        return ProfileState(uid, self.short_half_life_days, self.long_half_life_days)

    def _head_vec(self, uid: str) -> np.ndarray:
        vec = self._head_vecs.get(uid)
        if vec is None:
            vec = self._head_vecs[uid] = head_vector(uid, self.dim)
        return vec

    def _has_dirty(self) -> bool:
        """Whether any user's profile records are not written yet (the background writer asks)."""
        return bool(self._dirty)

    def _seal(self, uid: str, text: str | None) -> str | None:
        """Text as it is stored: sealed under the user's key when a keyring is given."""
        return self.keyring.encrypt(uid, text) if (self.keyring is not None and text) else text

    def _open(self, uid: str, stored: str | None) -> str | None:
        """Stored text as read: a sealed token opened (None once the key is shredded); a value without the prefix
        is plaintext from a data dir written before encryption, read as it is."""
        if not stored or not is_sealed(stored):
            return stored or None
        return self.keyring.decrypt(uid, stored) if self.keyring is not None else None

    def _sealed_clusters(self, uid: str, metas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Cluster metadata with its exemplars (clause texts) sealed as one token."""
        if self.keyring is None or not self.store_text:  # without text the exemplars are event ids and times only
            return metas
        return [{**m, "ex": self._seal(uid, m["ex"])} if m.get("ex") else m for m in metas]

    def _opened_clusters(self, uid: str, metas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Cluster metadata as written by the profile (exemplars opened; shredded ones read as none)."""
        return [{**m, "ex": self._open(uid, m["ex"]) or "[]"} if is_sealed(m.get("ex")) else m for m in metas]

    def _count_events(self, uid: str) -> int:
        self._writes.drain(uid)
        return len(self._events.get(where=user_filter(uid), include=[])["ids"])

    def _read_head(self, uid: str) -> dict[str, Any] | None:
        got = self._profiles.get(ids=[head_id(uid)], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else None

    def _load(self, uid: str, head: dict[str, Any] | None) -> ProfileState:
        """State from Chroma: the stored profile if it covers every event of the user, else rebuilt from events."""
        self._loaded_at[uid] = time.time()  # before the reads: a forget that lands meanwhile counts as after them
        clusters: list[tuple[np.ndarray, dict[str, Any]]] = []
        if head is not None:
            got = self._profiles.get(where=and_filter(uid, kind="cluster"), include=["embeddings", "metadatas"])
            clusters = list(zip(got["embeddings"], self._opened_clusters(uid, got["metadatas"])))
            self._stored_cids[uid] = {int(m["cid"]) for _, m in clusters}
            self._synced[uid] = (str(head.get("writer", "")), int(head.get("version", 0)))
        else:
            self._stored_cids[uid] = set()
            self._synced.pop(uid, None)
        n_events = self._count_events(uid)
        if head is not None and int(head.get("n_signals", -1)) == n_events:
            state = ProfileState.from_records(uid, head, clusters, self.short_half_life_days, self.long_half_life_days)
        elif head is None and n_events == 0:
            state = self._new_state(uid)
        else:
            # Head missing or behind (crash before write-behind, or a concurrent writer): rebuild from events.
            forgotten = json.loads(head.get("forgotten") or "{}") if head else {}
            state = self._rebuild(uid, forgotten)
            self._dirty.add(uid)
        self._cache(uid, state)
        return state

    def _rebuild(self, uid: str, forgotten: dict[str, float]) -> ProfileState:
        """Recompute a user's profile state from all their events (tombstones kept)."""
        state = self._new_state(uid)
        state.forgotten = {k: float(v) for k, v in forgotten.items()}
        views = [self._view(e) for e in self._iter_events(uid, with_embeddings=True)]
        views.sort(key=lambda v: (v.rt, v.ts))
        for v in views:
            state.fold(v)
        prior = self._states.get(uid)
        state.next_cid = max(state.next_cid, (prior.next_cid if prior else 0), max(self._stored_cids.get(uid, {-1}), default=-1) + 1)
        # Renumber so fresh clusters never reuse an id still stored for a dropped cluster.
        base = state.next_cid
        for i, c in enumerate(state.clusters):
            c.cid = base + i
        state.next_cid = base + len(state.clusters)
        # Past the stored head's version too: a state dropped from the cache and rebuilt must not write a (writer,
        # version) marker another process has already seen.
        state.version = max(prior.version if prior else 0, self._synced.get(uid, ("", 0))[1]) + 1
        return state

    def _current(self, uid: str) -> ProfileState:
        """The user's state, re-read from Chroma if another writer changed the stored profile since we saw it."""
        state = self._states.get(uid)
        if state is not None:
            with self._guard:
                if uid in self._states:
                    self._states.move_to_end(uid)
        if state is not None and not self.shared:
            return state
        head = self._read_head(uid)
        if state is None:
            return self._load(uid, head)
        if head is None:
            if uid in self._synced or self._forgotten_since_loaded(uid):  # stored and gone, or never written: forgotten by another process
                return self._load(uid, None)
            return state
        marker = (str(head.get("writer", "")), int(head.get("version", 0)))
        if marker != self._synced.get(uid):
            return self._load(uid, head)
        return state

    def _view(self, rec: dict[str, Any]) -> EventView:
        meta = unpack(rec["metadata"])
        return EventView(
            event_id=rec["id"],
            embedding=np.asarray(rec["embedding"], dtype=np.float32),
            categories=meta["categories"],
            polarity=float(meta.get("polarity", 0.0)),
            preference=float(meta.get("preference", 0.0)),
            source=str(meta.get("source", "chat")),
            item_id=meta.get("item_id") or None,
            ts=float(meta.get("ts", 0.0)),
            rt=float(meta.get("rt", meta.get("ts", 0.0))),
            text=self._open(str(meta.get("user_id", "")), meta.get("text") or rec.get("document")) if self.store_text else None,
        )

    def _iter_events(self, uid: str | None, with_embeddings: bool = False, where: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
        """Every event of one user (or matching `where`), page by page, as dicts."""
        self._writes.drain(uid)
        include = ["metadatas", "documents"] + (["embeddings"] if with_embeddings else [])
        flt = where if where is not None else user_filter(uid)  # type: ignore[arg-type]  # uid is None only with a `where` (the all-user scans)
        offset = 0
        while True:
            got = self._events.get(where=flt, include=include, limit=PAGE, offset=offset)
            ids = got["ids"]
            for i, eid in enumerate(ids):
                yield {
                    "id": eid,
                    "metadata": got["metadatas"][i],
                    "document": got["documents"][i] if got.get("documents") is not None else None,
                    "embedding": got["embeddings"][i] if with_embeddings else None,
                }
            if len(ids) < PAGE:
                return
            offset += PAGE

    # ----- writing -----------------------------------------------------------------------------

    def _prepare(self, uid: str, signals: Sequence[InterestSignal], now: float) -> tuple[list[str], np.ndarray, list[dict[str, Any]], list[str | None], list[EventView]]:
        """Validate signals and build Chroma rows plus the views the profile folds."""
        ids, embs, metas, docs, views = [], [], [], [], []
        for i, s in enumerate(signals):
            emb = np.asarray(s.embedding, dtype=np.float32).ravel()
            if emb.shape != (self.dim,) or not np.all(np.isfinite(emb)) or not np.any(emb):
                raise ValueError(f"signal {i}: embedding must be a finite, non-zero vector of {self.dim} floats, got shape {emb.shape}")
            if s.source not in SOURCES:
                raise ValueError(f"signal {i}: source must be one of {SOURCES}, got {s.source!r}")
            if s.timestamp is not None:
                check_timestamp(float(s.timestamp), now)
            cats = {str(k): float(v) for k, v in (s.categories or {}).items()}
            polarity = float(min(max(s.polarity, -1.0), 1.0))
            preference = float(min(max(s.preference, 0.0), 1.0))
            ts = float(s.timestamp) if s.timestamp is not None else now
            text = s.text if (self.store_text and s.text) else None
            stored = self._seal(uid, text)
            eid = keyed_event_id(uid, s.key) if s.key else uuid.uuid4().hex
            top = max(cats, key=cats.__getitem__) if cats else ""
            ids.append(eid)
            embs.append(emb)
            metas.append(event_metadata(uid, s.source, s.item_id or "", top, ts, now, polarity, preference, cats, stored if self._text_in_meta else None))
            docs.append(None if self._text_in_meta else stored)
            views.append(EventView(eid, emb, cats, polarity, preference, s.source, s.item_id or None, ts, now, text))
        return ids, np.stack(embs), metas, docs, views

    def record(self, user_id: str, signals: Iterable[InterestSignal]) -> list[str]:
        """Store signals durably (Chroma, then counts) and fold them into the profile; returns the event ids."""
        uid = validate_user_id(user_id)
        sigs = list(signals)
        if not sigs:
            return []
        now = time.time()
        ids, embs, metas, docs, views = self._prepare(uid, sigs, now)
        with self._writes.foreground():
            return self._record_locked(uid, sigs, ids, embs, metas, docs, views, started=now)

    def has_events(self, user_id: str, event_ids: list[str]) -> set[str]:
        """Which of these event ids this memory holds for the user (pending or stored)."""
        uid = validate_user_id(user_id)
        found = self.outbox.existing(event_ids) if self.outbox is not None else set()
        rest = [i for i in event_ids if i not in found]
        if rest:
            found |= set(self._events.get(ids=rest, where=user_filter(uid), include=[])["ids"])
        return found

    def _record_locked(
        self, uid: str, sigs: list[InterestSignal], ids: list[str], embs: np.ndarray, metas: list[dict[str, Any]], docs: list[str | None], views: list[EventView], started: float
    ) -> list[str]:
        with self._lock(uid):
            if self._forgotten_since(uid, started):
                # It waited for the lock while the user was forgotten: writing it now would outlive the forget (and
                # seal its text under a fresh key). Forget wins.
                log.info("a write for a user forgotten while it waited was dropped")
                return []
            known = self.has_events(uid, [i for i, s in zip(ids, sigs) if s.key])
            if known:
                # A retried request: those events are durable already. Their item events are offered to the counts
                # again (they skip ids they hold), in case the first try failed between the two writes.
                self._writes.offer_counts(count_rows((i, m) for i, m in zip(ids, metas) if i in known))
                for s, eid in zip(sigs, ids):
                    s.event_id = eid
                fresh = [j for j, i in enumerate(ids) if i not in known]
                if not fresh:
                    return ids
                sigs, embs = [sigs[j] for j in fresh], embs[fresh]
                metas, docs, views = [metas[j] for j in fresh], [docs[j] for j in fresh], [views[j] for j in fresh]
                self._write_locked(uid, sigs, [ids[j] for j in fresh], embs, metas, docs, views)
                return ids
            return self._write_locked(uid, sigs, ids, embs, metas, docs, views)

    def _write_locked(self, uid: str, sigs: list[InterestSignal], ids: list[str], embs: np.ndarray, metas: list[dict[str, Any]], docs: list[str | None], views: list[EventView]) -> list[str]:
        with self._lock(uid):
            state = self._current(uid)
            self._writes.write_events(uid, ids, embs, metas, docs)
            # The events are durable: the profile learns them before anything else can fail.
            for v in views:
                state.fold(v)
            state.version += 1
            for s, eid in zip(sigs, ids):
                s.event_id = eid
            self._dirty.add(uid)
            self._writes.offer_counts(count_rows(zip(ids, metas)))
            if not self.write_behind:
                self._flush_users([uid])
        if self.write_behind and self.shared:
            # Other processes read these records; alone, the periodic flush coalesces bursts instead.
            self._writes.wake()
        return ids

    def record_batch(self, pairs: Iterable[tuple[str, InterestSignal]], progress: Any = None) -> list[str]:
        """Store many (user_id, signal) pairs with batched writes (bulk import, benchmarks); returns event ids in order."""
        with self._writes.foreground():  # a bulk write is a foreground write too: the idle flush waits for it
            return self._record_batch(list(pairs), progress)

    def _record_batch(self, pairs: list[tuple[str, InterestSignal]], progress: Any) -> list[str]:
        out: list[str | None] = []
        now = time.time()
        for start in range(0, len(pairs), PAGE):
            chunk = pairs[start : start + PAGE]
            by_user: dict[str, list[InterestSignal]] = {}
            for user_id, s in chunk:
                by_user.setdefault(validate_user_id(user_id), []).append(s)
            rows = {uid: self._prepare(uid, sigs, now) for uid, sigs in by_user.items()}
            # Load each user's state before the write, so a cold load does not count these events twice.
            states = {}
            for uid in rows:
                with self._lock(uid):
                    states[uid] = self._states.get(uid) or self._current(uid)
                    self._dirty.add(uid)  # pinned: not dropped from the cache before these events are folded in
            self._events.add(
                ids=[i for r in rows.values() for i in r[0]],
                embeddings=np.concatenate([r[1] for r in rows.values()]),
                metadatas=[m for r in rows.values() for m in r[2]],
                documents=docs if (docs := [d for r in rows.values() for d in r[3]]) and any(docs) else None,
            )
            self._writes.add_counts([row for r in rows.values() for row in count_rows(zip(r[0], r[2]))])
            for uid, (ids, _, _, _, views) in rows.items():
                with self._lock(uid):
                    state = self._states.get(uid) or states[uid]  # dropped meanwhile (a bulk of many users): the one loaded above
                    for v in views:
                        state.fold(v)
                    state.version += 1
                    with self._guard:
                        self._dirty.add(uid)
                    self._cache(uid, state)
                for s, eid in zip(by_user[uid], ids):
                    s.event_id = eid
            out.extend(eid for _, s in chunk for eid in [s.event_id])
            if progress is not None:
                progress.update(len(chunk))
        self.flush()
        return [e for e in out if e is not None]

    # ----- profile records (the background writer of write_behind.py calls flush) ---------------

    def flush(self) -> None:
        """Write every pending event and profile change to Chroma now."""
        self._writes.drain()
        with self._guard:
            users = sorted(self._dirty.copy())
        for start in range(0, len(users), 200):
            self._flush_users(users[start : start + 200])

    def _flush_users(self, users: list[str]) -> None:
        """Upsert the profile records of these users in one call (holding their locks so forget cannot race)."""
        # No global flush lock: callers may already hold one user lock, and sorted acquisition avoids cycles.
        locks = [self._stripes[i] for i in sorted({self._stripe(u) for u in users})]
        for lk in locks:
            lk.acquire()
        try:
            records: list[tuple[str, np.ndarray, dict[str, Any]]] = []
            stale: list[str] = []
            written: list[tuple[str, set[int], int]] = []
            for uid in users:
                if uid not in self._dirty or uid not in self._states:
                    continue
                if self._forgotten_since_loaded(uid):
                    with self._guard:  # forgotten by another process meanwhile: this state must not be written back
                        self._dirty.discard(uid)
                        self._drop_cached(uid)
                    continue
                rows, cids = self._profile_rows(uid)
                records.extend(rows)
                stale.extend(cluster_id(uid, c) for c in self._stored_cids.get(uid, set()) - cids)
                written.append((uid, cids, self._states[uid].version))
            for start in range(0, len(records), PAGE):
                page = records[start : start + PAGE]
                self._profiles.upsert(ids=[r[0] for r in page], embeddings=np.stack([r[1] for r in page]), metadatas=[r[2] for r in page])
            if stale:
                self._profiles.delete(ids=stale)
            for uid, cids, version in written:
                self._stored_cids[uid] = cids
                self._synced[uid] = (self._writer, version)
                self._dirty.discard(uid)
        finally:
            for lk in locks:
                lk.release()

    def _profile_rows(self, uid: str) -> tuple[list[tuple[str, np.ndarray, dict[str, Any]]], set[int]]:
        """The user's profile records as (id, embedding, metadata): the head (marked with this writer), then one per
        cluster with its exemplars sealed; and the cluster ids among them."""
        state = self._states[uid]
        head = state.head_metadata()
        head["writer"] = self._writer
        rows = [(head_id(uid), self._head_vec(uid), head)]
        records = state.cluster_records()
        for (cid, centroid, _), meta in zip(records, self._sealed_clusters(uid, [r[2] for r in records])):
            rows.append((cluster_id(uid, cid), centroid, meta))
        return rows, {r[0] for r in records}

    def close(self) -> None:
        """Write pending profile changes and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._writes.stop()
        try:
            self.flush()
        except Exception:  # at exit the client may already be gone; events are safe anyway
            pass
        if self.outbox is not None:
            self.outbox.close()
        for store in self._owned:
            store.close()

    def __enter__(self) -> InterestMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- reading -----------------------------------------------------------------------------

    def profile(self, user_id: str, now: float | None = None) -> Profile:
        """The user's decayed profile at `now` (default: the current time)."""
        uid = validate_user_id(user_id)
        with self._lock(uid):
            state = self._current(uid)
            return state.view(time.time() if now is None else float(now))

    def events(self, user_id: str, limit: int | None = 50, since: float | None = None, with_embeddings: bool = False) -> list[InterestEvent]:
        """The user's events, newest first (signal time), optionally only those at or after `since`."""
        uid = validate_user_id(user_id)
        where = user_filter(uid) if since is None else and_filter(uid, ts={"$gte": float(since)})
        rows = [self._event(r, uid, with_embeddings) for r in self._iter_events(uid, with_embeddings, where)]
        rows.sort(key=lambda e: (e.ts, e.recorded_at), reverse=True)
        return rows if limit is None else rows[:limit]

    def _event(self, rec: dict[str, Any], uid: str, with_embedding: bool) -> InterestEvent:
        meta = unpack(rec["metadata"])
        return InterestEvent(
            event_id=rec["id"],
            user_id=uid,
            text=self._open(uid, meta.get("text") or rec.get("document")),
            source=str(meta.get("source")),
            item_id=meta.get("item_id") or None,
            polarity=float(meta.get("polarity", 0.0)),
            preference=float(meta.get("preference", 0.0)),
            categories=meta["categories"],
            top_category=meta.get("top_category") or None,
            ts=float(meta.get("ts", 0.0)),
            recorded_at=float(meta.get("rt", 0.0)),
            embedding=[float(x) for x in rec["embedding"]] if with_embedding and rec.get("embedding") is not None else None,
        )

    def users(self) -> list[str]:
        """Every user with a stored profile."""
        self.flush()
        got = self._profiles.get(where={"kind": "head"}, include=["metadatas"])
        return sorted({str(m["user_id"]) for m in got["metadatas"]})

    def chat_embeddings(self) -> Iterable[tuple[str, float, np.ndarray]]:
        """(user_id, ts, embedding) of every stored chat event (no item), oldest first: fills the plugin's talk index."""
        rows = [(str(r["metadata"]["user_id"]), float(r["metadata"].get("ts", 0.0)), np.asarray(r["embedding"], np.float32))
                for r in self._iter_events(None, with_embeddings=True, where={"item_id": ""})]
        rows.sort(key=lambda t: t[1])
        return rows

    def accepted_items(self) -> list[tuple[str, str]]:
        """(user_id, item_id) of every liked feedback event (accepted suggestions), oldest first: fills the uptake index."""
        liked = [e for e in self._item_events() if e.source == "feedback" and e.polarity > 0]
        liked.sort(key=lambda e: e.ts)
        return [(e.user_id, e.item_id) for e in liked]

    def item_events(self) -> Iterable[CountRow]:
        """Every item event as (user_id, item_id, ts, event_id, positive): feed to CountStore.rebuild / catch_up."""
        for e in self._item_events():
            yield e.count_row()

    def _item_events(self) -> Iterable[ItemEvent]:
        for rec in self._iter_events(None, where={"item_id": {"$ne": ""}}):
            e = item_event(rec["id"], rec["metadata"])
            if e is not None:
                yield e

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about the user, JSON-able: events (with embeddings), profile, profile records, counts, impressions."""
        uid = validate_user_id(user_id)
        with self._lock(uid):
            if uid in self._dirty:
                self._flush_users([uid])
            prof = self._current(uid).view(time.time())
            stored = self._profiles.get(where=user_filter(uid), include=["metadatas"])
            return {
                "user_id": uid,
                "exported_at": time.time(),
                "store_text": self.store_text,
                "events": [e.to_dict() for e in self.events(uid, limit=None, with_embeddings=True)],
                "profile": prof.to_dict(),
                "profile_records": [{"id": i, "metadata": m} for i, m in zip(stored["ids"], self._opened_clusters(uid, stored["metadatas"]))],
                "counts": self.counts.user_contribution(uid) if self.counts is not None else None,
                "impressions": self.impressions.for_user(uid) if self.impressions is not None else [],
            }

    # ----- forgetting --------------------------------------------------------------------------

    def forget(self, user_id: str) -> dict[str, int]:
        """Delete the user's events, profile records, counts contribution and impressions; verify all but the impressions are gone."""
        uid = validate_user_id(user_id)
        if self.forget_log is not None:
            # First, and durably: should a deletion below fail, the user's old credentials are refused all the same.
            self.forget_log.record(uid)
        with self._lock(uid):
            if self.keyring is not None:
                # Next, before any deletion (under the user's lock, so no write seals with a new key meanwhile): every
                # sealed copy of their text in the live files (Chroma's log, free pages) is noise from here on, even
                # should a deletion below fail.
                self.keyring.shred(uid)
            with self._guard:
                self._dirty.discard(uid)
                self._drop_cached(uid)
            n_events = self._count_events(uid)  # drains the outbox first
            n_profile = len(self._profiles.get(where=user_filter(uid), include=[])["ids"])
            self._events.delete(where=user_filter(uid))
            self._profiles.delete(where=user_filter(uid))
            self._writes.drop_user(uid)  # else a later drain would give their item events back to the counts
            n_counts = int(self.counts.remove_user(uid) or 0) if self.counts is not None else 0
            if self.impressions is not None:
                self.impressions.remove_user(uid)
            if self.outbox is not None:
                self.outbox.remove_user(uid)  # empty after the drain; also folds its WAL so no old page holds them
            left = self._count_events(uid) + len(self._profiles.get(where=user_filter(uid), include=[])["ids"])
            if self.outbox is not None:
                left += self.outbox.count(uid)
            if self.counts is not None and self.counts.user_contribution(uid).get("events"):
                left += 1
            if self.keyring is not None and self.keyring.has_key(uid):
                left += 1
            if left:
                raise ForgetIncompleteError(f"forget({uid!r}): {left} record(s) still stored after deletion")
            return {"events": n_events, "profile_records": n_profile, "count_events": n_counts}

    def forgotten_at(self, user_id: str) -> float | None:
        """When the user was last forgotten (None if never, or when no forget log is kept)."""
        return self.forget_log.forgotten_at(user_id) if self.forget_log is not None else None

    def forget_interest(self, user_id: str, category_or_event_id: str) -> dict[str, Any]:
        """Forget one event (by id) or one category (score to 0, events whose top category it is deleted)."""
        uid = validate_user_id(user_id)
        key = str(category_or_event_id)
        if not key:
            raise UnknownInterestError("an empty interest name")
        with self._lock(uid):
            state = self._current(uid)
            now = time.time()
            self._writes.drain(uid)
            owned = self._events.get(ids=[key], where=user_filter(uid), include=["metadatas"])
            if owned["ids"]:
                kind, category, doomed = "event", None, owned
            else:
                known = set(state.cats) | {c for c in state.forgotten}
                category = key if key in known else next((c for c in known if c.lower() == key.lower()), key)
                doomed = self._events.get(where=and_filter(uid, top_category=category), include=["metadatas"])
                if not doomed["ids"] and category not in state.cats:
                    raise UnknownInterestError(f"user {uid!r} has no event id or category {key!r}")
                kind = "category"
            if doomed["ids"]:
                self._events.delete(ids=doomed["ids"])
            forgotten = dict(state.forgotten)
            if category is not None:
                forgotten[category] = now
            new = self._rebuild(uid, forgotten)
            self._cache(uid, new)
            self._dirty.add(uid)
            self._flush_users([uid])
            if self.counts is not None and any(m.get("item_id") for m in doomed["metadatas"]):
                # Counts only offer add/remove per user: drop this user's contribution and replay what is left (the
                # replay reads the kept events from Chroma, so rows queued for a counts retry are dropped, not replayed).
                self._writes.drop_user(uid)
                self.counts.remove_user(uid)  # the impressions stay: the A/B record of what was shown
                kept = self._iter_events(uid, where=and_filter(uid, item_id={"$ne": ""}))
                self._writes.add_counts(count_rows((rec["id"], rec["metadata"]) for rec in kept))  # one transaction, in time order
            return {"kind": kind, "category": category, "deleted_events": len(doomed["ids"])}
