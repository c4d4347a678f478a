"""Where a fixed list of items sits in a growing id index, kept current from the index's newest entries only.

A ranker that scores the same catalog rows on every request (a small catalog ranked whole) needs each row's slot in
the count store's and the uptake index's item index. Mapping every row through a dict on every request cost more than
the rest of the blend on a 6,281-item catalog; the indexes only ever grow, so the map is built once and then extended
with what was added since.
"""

from __future__ import annotations

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

    def follow(self, index: dict[str, int]) -> np.ndarray:
        """The rows' positions in `index` (a copy), after reading only the entries added since the last call.

        Call it under the lock that guards `index`. A different dict (the owner reloaded its state) or a smaller one is
        read afresh."""
        if index is not self._source or len(index) < self._seen:
            self._source, self._seen = index, 0
            self._positions = np.full(self._n, self._missing, np.int64)
        added = len(index) - self._seen
        if added:
            # dicts keep insertion order: the newest `added` keys are the ones not read yet.
            for item in islice(reversed(index), added):
                row = self._row_of.get(item)
                if row is not None:
                    self._positions[row] = index[item]
            self._seen = len(index)
        return self._positions.copy()
