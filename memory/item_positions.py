"""Where a fixed list of items sits in a growing id index, kept current from the index's newest entries only.

A ranker that scores the same catalog rows on every request (a small catalog ranked whole) needs each row's slot in
the count store's and the uptake index's item index. Mapping every row through a dict on every request cost more than
the rest of the blend on a 6,281-item catalog; the indexes only ever grow, so the map is built once and then extended
with what was added since.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from itertools import islice

import numpy as np


class ItemPositions:
    """Each row's position in an insertion-ordered index (item id -> position); `missing` for items not in it."""

    def __init__(self, row_of: Mapping[str, int], n_rows: int, missing: int) -> None:
        self._row_of = row_of
        self._n = n_rows
        self._missing = missing
        self._source: dict[str, int] | None = None
        self._seen = 0
        self._positions = np.full(n_rows, missing, np.int64)
        self._lock = threading.Lock()  # request threads share one instance; never held while the index's owner writes

    def follow(self, index: dict[str, int]) -> np.ndarray:
        """The rows' positions in `index` (a copy), after reading only the entries added since the last call.

        Needs no lock on `index`: its newest entries are copied in one C-level step, and the copy is taken again if
        the index grew meanwhile. A different dict (the owner reloaded its state) or a smaller one is read afresh."""
        with self._lock:
            while True:
                if index is not self._source or len(index) < self._seen:
                    self._source, self._seen = index, 0
                    self._positions = np.full(self._n, self._missing, np.int64)
                n = len(index)
                # dicts keep insertion order: the newest n - seen entries are the ones not read yet.
                added = list(islice(reversed(index.items()), n - self._seen))
                if len(index) == n:
                    break
            for item, position in added:
                row = self._row_of.get(item)
                if row is not None:
                    self._positions[row] = position
            self._seen = n
            return self._positions.copy()
