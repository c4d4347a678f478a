"""Follow-pair arithmetic: (a, b) item-index pairs with an integer weight and a count, summed exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Weights are stored as integers in units of 1/SCALE: sums and differences are then exact, so forgetting a
# user gives back bit for bit what was there before they came (floats would leave residue and flip ties).
SCALE = 1 << 32


def quantized_weights(window: int, decay: float) -> np.ndarray:
    """Integer weight of a pair at distance d (index d; 0 unused): round(SCALE / d**decay)."""
    return np.array([0] + [round(SCALE / d**decay) for d in range(1, window + 1)], np.int64)


@dataclass
class Pairs:
    """Aggregated follow pairs: unique (a, b) with summed integer weight and count."""

    a: np.ndarray
    b: np.ndarray
    wq: np.ndarray
    n: np.ndarray

    @classmethod
    def empty(cls) -> Pairs:
        """No pairs."""
        e = np.zeros(0, np.int64)
        return cls(e, e, e, e)

    @classmethod
    def combine(cls, parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> Pairs:
        """Sum rows with equal (a, b)."""
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return cls.empty()
        a = np.concatenate([p[0] for p in parts]).astype(np.int64)
        b = np.concatenate([p[1] for p in parts]).astype(np.int64)
        key = a * (1 << 31) + b
        uniq, inv = np.unique(key, return_inverse=True)
        wq = np.zeros(len(uniq), np.int64)
        n = np.zeros(len(uniq), np.int64)
        np.add.at(wq, inv, np.concatenate([p[2] for p in parts]).astype(np.int64))  # integer sums: no float rounding
        np.add.at(n, inv, np.concatenate([p[3] for p in parts]).astype(np.int64))
        return cls(uniq >> 31, uniq & ((1 << 31) - 1), wq, n)

    @classmethod
    def merge(cls, many: Sequence[Pairs]) -> Pairs:
        """Sum several pair sets."""
        return cls.combine([(p.a, p.b, p.wq, p.n) for p in many])

    def negated(self) -> Pairs:
        """The same pairs with opposite sign (a removal)."""
        return Pairs(self.a, self.b, -self.wq, -self.n)

    def nonzero(self) -> Pairs:
        """Drop pairs whose delta is zero in both weight and count."""
        keep = (self.n != 0) | (self.wq != 0)  # a late event can move a pair to another distance: n same, w not
        return Pairs(self.a[keep], self.b[keep], self.wq[keep], self.n[keep])

    def as_dict(self) -> dict[tuple[int, int], tuple[float, int]]:
        """(a, b) -> (weight, count)."""
        return {(int(a), int(b)): (int(w) / SCALE, int(n)) for a, b, w, n in zip(self.a, self.b, self.wq, self.n)}


def window_pairs(idx: np.ndarray, wq: np.ndarray, start: int = 0) -> Pairs:
    """Follow pairs of every position >= start with its predecessors within the window (len(wq) - 1)."""
    parts = []
    for d in range(1, len(wq)):
        lo = max(start, d)
        if lo >= len(idx):
            break
        a, b = idx[lo - d : len(idx) - d], idx[lo:]
        keep = a != b  # a re-watch is not evidence that an item leads to itself
        a, b = a[keep], b[keep]
        parts.append((a, b, np.full(len(a), wq[d], np.int64), np.ones(len(a), np.int64)))
    return Pairs.combine(parts)
