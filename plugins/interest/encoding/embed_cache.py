"""An LRU cache of clause embeddings: chat repeats itself ("thanks", "lol", "I love horror")."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from .encoder import Encoder


class CachedEncoder:
    """Wraps an encoder; texts seen recently are not encoded again, misses go out in one batch."""

    def __init__(self, inner: Encoder, max_items: int = 4096) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.identity = inner.identity
        self.max_items = max_items
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()


    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts, serving repeats from the cache (rows are copies: callers may modify them)."""
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._cache.get(text)
                if vec is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vec
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if missing:
            keys = list(missing)
            vectors = self.inner.encode(keys, batch_size=batch_size)
            with self._lock:
                for key, vec in zip(keys, vectors):
                    out[missing[key]] = vec
                    self._cache[key] = vec.copy()
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        return out
