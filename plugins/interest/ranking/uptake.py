"""What users here took up lately: recency-weighted counts of accepted suggestions (liked feedback).

Tastes in a live service drift with releases and with what the team suggests that month; popularity counted over all
time, or over every title anyone mentioned, lags that drift. Each accepted suggestion weighs 1 and halves after
`half_life` newer acceptances. In process, bounded by the number of distinct items: filled from the event log at open
and by feedback afterwards; a forgotten user's acceptances are taken back out.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from interest_bot.memory.item_positions import ItemPositions

_RESCALE = 1e100  # newer events weigh more instead of every older one decaying; rescale long before float overflow


class UptakeIndex:
    """Decayed acceptance counts per item id (qualified), with each user's contributions kept for `remove_user`."""

    def __init__(self, half_life: float = 100.0) -> None:
        self._growth = 0.5 ** (-1.0 / max(half_life, 1e-9))
        self._scale = 1.0
        self._index: dict[str, int] = {}
        self._w = np.zeros(256, np.float64)
        self._by_user: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._lock = threading.Lock()

    def add_many(self, events: Iterable[tuple[str, str]]) -> None:
        """(user_id, item_id) acceptances, oldest first."""
        with self._lock:
            for user, item in events:
                i = self._index.setdefault(item, len(self._index))
                if i >= len(self._w):
                    self._w = np.concatenate([self._w, np.zeros_like(self._w)])
                self._scale *= self._growth
                if self._scale > _RESCALE:
                    self._w /= self._scale
                    self._by_user = defaultdict(list, {u: [(j, v / self._scale) for j, v in es] for u, es in self._by_user.items()})
                    self._scale = 1.0
                self._w[i] += self._scale
                self._by_user[user].append((i, self._scale))

    def remove_user(self, user_id: str) -> None:
        """Take a forgotten user's acceptances back out."""
        with self._lock:
            for i, v in self._by_user.pop(user_id, []):
                self._w[i] = max(self._w[i] - v, 0.0)

    def weights(self, qids: Sequence[str], positions: ItemPositions | None = None) -> np.ndarray:
        """Per item (qualified ids): the decayed acceptances, scaled so the top of these items is 1.

        `positions` (built over the same qids, missing = -1) maps them incrementally instead of one by one."""
        with self._lock:
            rows = positions.follow(self._index) if positions is not None else np.fromiter((self._index.get(q, -1) for q in qids), np.int64, len(qids))
            out = np.where(rows >= 0, self._w[np.maximum(rows, 0)], 0.0)
        top = out.max(initial=0.0)
        return out / top if top > 0 else out

    def top(self, n: int, prefix: str = "") -> list[str]:
        """The n items taken up most lately (qualified ids starting with `prefix`: one catalog's), most first."""
        with self._lock:
            names = list(self._index)
            w = self._w[: len(names)]
            if prefix:  # the index holds every catalog's items: a busy other catalog must not take all n places
                w = np.where(np.fromiter((name.startswith(prefix) for name in names), bool, len(names)), w, 0.0)
            best = np.argsort(-w, kind="stable")[:n]
            return [names[i] for i in best if w[i] > 0]
