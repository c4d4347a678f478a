"""An in-process nearest-neighbour index over users' chat embeddings: "people who talked like you went on to like X".

Bounded cost: one (n x dim) float32 matrix product per query over at most `capacity` events (the oldest drop out),
no store read on the recommend path. Filled from the event log at open and by `observe` afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from interest_bot.memory.lru import LRU

RECENT = 8
MAX_RECENT_USERS = 50_000  # users whose latest chat is kept for "people who said this took up"; the least recent go first


class TalkIndex:
    """Chat events (user, time, unit embedding) of every user, newest `capacity` kept."""

    def __init__(self, dim: int, capacity: int = 200_000) -> None:
        self.dim = dim
        self.capacity = capacity
        self._E = np.zeros((1024, dim), np.float32)
        self._users: list[str] = []
        self._ts: list[float] = []
        self._n = 0
        self._recent: LRU[str, list[np.ndarray]] = LRU(MAX_RECENT_USERS)  # per user, their latest RECENT chat embeddings
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def add(self, user_id: str, ts: float, embedding: np.ndarray) -> None:
        """Remember one chat event."""
        self.add_many([(user_id, ts, embedding)])

    def add_many(self, events: Iterable[tuple[str, float, np.ndarray]]) -> None:
        """Remember many chat events."""
        with self._lock:
            for user, ts, emb in events:
                v = np.asarray(emb, np.float32).reshape(-1)
                v = v / max(float(np.linalg.norm(v)), 1e-12)
                if self._n == len(self._E):
                    if self._n >= self.capacity:
                        self._drop_oldest(self._n // 4)
                    else:
                        self._E = np.concatenate([self._E, np.zeros_like(self._E)])
                self._E[self._n] = v
                self._users.append(user)
                self._ts.append(float(ts))
                self._n += 1
                self._recent.put(user, ((self._recent.get(user) or []) + [v])[-RECENT:])

    def _drop_oldest(self, m: int) -> None:
        self._E[: self._n - m] = self._E[m : self._n]
        del self._users[:m]
        del self._ts[:m]
        self._n -= m

    def remove_user(self, user_id: str) -> None:
        """Forget a user's events."""
        with self._lock:
            keep = [i for i, u in enumerate(self._users[: self._n]) if u != user_id]
            self._E[: len(keep)] = self._E[keep]
            self._users = [self._users[i] for i in keep]
            self._ts = [self._ts[i] for i in keep]
            self._n = len(keep)
            self._recent.pop(user_id)

    def latest(self, user_id: str) -> np.ndarray | None:
        """The unit mean of the user's latest chat embeddings, or None."""
        with self._lock:
            rows = self._recent.get(user_id)
        if not rows:
            return None
        mean: np.ndarray = np.mean(rows, axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    def nearest(self, query: np.ndarray, k: int, exclude_user: str) -> list[tuple[str, float, float]]:
        """(user_id, ts, cosine) of the k events of other users nearest to the query."""
        with self._lock:
            n = self._n
            if not n:
                return []
            sims = self._E[:n] @ np.asarray(query, np.float32)
            users, ts = self._users[:n], self._ts[:n]
        m = min(n, k * 4)
        head = np.argpartition(-sims, m - 1)[:m] if m < n else np.arange(n)
        order = head[np.argsort(-sims[head])]
        out: list[tuple[str, float, float]] = []
        for i in order:
            if users[i] != exclude_user:
                out.append((users[i], ts[i], float(sims[i])))
                if len(out) == k:
                    break
        return out
