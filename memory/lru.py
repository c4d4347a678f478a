"""A small least-recently-used map: what bounds the count store's in-process caches."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `capacity` entries; reading an entry makes it the most recent."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 0)
        self._d: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The entry, or None."""
        v = self._d.get(key)
        if v is not None:
            self._d.move_to_end(key)
        return v

    def put(self, key: K, value: V) -> None:
        """Store an entry, evicting the least recently used beyond capacity."""
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.capacity:
            self._d.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget an entry if present."""
        self._d.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._d.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)
