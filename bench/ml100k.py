"""The ML-100k replay protocol: loading, the stable-sort leave-last-out split, its sha check, pessimistic-tie metrics."""

from __future__ import annotations

import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXPECTED_SHA = "755ee7007762fa57"


@dataclass(frozen=True)
class Rating:
    """One row of ml-100k.inter, with its row number (ties in time keep file order)."""

    user: str
    item: str
    rating: float
    ts: float
    row: int


@dataclass
class Split:
    """Per-user chronological train sequences and the held-out valid and test items."""

    train: dict[str, list[Rating]]
    valid: dict[str, Rating]
    test: dict[str, Rating]

    def sha(self) -> str:
        """The protocol's fingerprint of the test pairs."""
        return test_pairs_sha(self.test)


def data_dir() -> Path:
    """The ml-100k folder inside the installed recbole wheel (found without importing recbole)."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("recbole is not installed: pip install --no-deps recbole==1.2.1")
    return Path(list(spec.submodule_search_locations)[0]) / "dataset_example" / "ml-100k"


def load_ratings(path: Path | None = None) -> list[Rating]:
    """All ratings in file order."""
    path = path or data_dir() / "ml-100k.inter"
    out: list[Rating] = []
    with open(path, encoding="utf-8") as f:
        next(f)  # typed header
        for row, line in enumerate(f):
            u, i, r, t = line.rstrip("\n").split("\t")
            out.append(Rating(u, i, float(r), float(t), row))
    return out


def load_items(path: Path | None = None) -> dict[str, dict]:
    """Item id -> {title, year, genres} from ml-100k.item."""
    path = path or data_dir() / "ml-100k.item"
    out: dict[str, dict] = {}
    with open(path, encoding="latin-1") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            iid, title, year = parts[0], parts[1], parts[2]
            genres = parts[3].split() if len(parts) > 3 else []
            out[iid] = {"title": title, "year": year, "genres": genres}
    return out


def by_user(ratings: list[Rating]) -> dict[str, list[Rating]]:
    """Each user's ratings sorted by time; Python's sort is stable, so ties keep file order."""
    users: dict[str, list[Rating]] = {}
    for r in ratings:
        users.setdefault(r.user, []).append(r)
    for seq in users.values():
        seq.sort(key=lambda r: r.ts)
    return users


def split(ratings: list[Rating]) -> Split:
    """Last item = test, second-to-last = valid, the rest = train."""
    train, valid, test = {}, {}, {}
    for u, seq in by_user(ratings).items():
        train[u], valid[u], test[u] = seq[:-2], seq[-2], seq[-1]
    return Split(train, valid, test)


def test_pairs_sha(test: dict[str, Rating]) -> str:
    """sha1 of the sorted (user, item) raw-id pairs, first 16 hex digits."""
    pairs = sorted((u, r.item) for u, r in test.items())
    return hashlib.sha1(repr(pairs).encode()).hexdigest()[:16]


def pessimistic_rank(scores: np.ndarray, target: int, excluded: np.ndarray | None = None) -> int:
    """1 + items scoring strictly higher + other items scoring equal (excluded items never count)."""
    s = scores.astype(np.float64, copy=True)
    if excluded is not None and len(excluded):
        s[excluded] = -np.inf
    t = s[target]
    if not np.isfinite(t):
        return len(s) + 1
    higher = int(np.count_nonzero(s > t))
    equal = int(np.count_nonzero(s == t)) - 1
    return 1 + higher + equal


@dataclass
class Metrics:
    """Running HR@k, NDCG@k, MRR@k."""

    k: int = 10
    n: int = 0
    hits: float = 0.0
    ndcg: float = 0.0
    mrr: float = 0.0

    def add(self, rank: int) -> None:
        """Account one held-out interaction found at `rank` (1-based)."""
        self.n += 1
        if rank <= self.k:
            self.hits += 1
            self.ndcg += 1.0 / math.log2(rank + 1)
            self.mrr += 1.0 / rank

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """hr10 / ndcg10 / mrr10 rounded, under an optional prefix."""
        n = max(self.n, 1)
        k = self.k
        return {f"{prefix}hr{k}": round(self.hits / n, 4), f"{prefix}ndcg{k}": round(self.ndcg / n, 4), f"{prefix}mrr{k}": round(self.mrr / n, 4)}
