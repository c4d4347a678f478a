"""A per-identity sliding-window limit on chat turns, for a UI opened to the public (IBOT_UI_PUBLIC)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class TurnLimit:
    """At most `per_minute` turns per identity in any 60 s; remembers the `max_identities` most recent identities."""

    def __init__(self, per_minute: int, max_identities: int = 100_000) -> None:
        self.per_minute = per_minute
        self.max_identities = max_identities
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, identity: str, now: float | None = None) -> bool:
        """Count one turn for the identity; False when it is over its limit (the turn is not counted then)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(identity, None) or deque()
            while times and now - times[0] >= 60.0:
                times.popleft()
            allowed = len(times) < self.per_minute
            if allowed:
                times.append(now)
            self._seen[identity] = times
            while len(self._seen) > self.max_identities:
                self._seen.popitem(last=False)
            return allowed
