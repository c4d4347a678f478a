"""The unit of interest memory: one signal learned from one clause, item event or feedback."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .errors import InvalidInputError

Source = Literal["chat", "feedback", "item"]
FUTURE_SLACK_S = 300  # a signal's time may be this far ahead of the server's clock (clients' clocks drift)


def check_timestamp(ts: float, now: float) -> None:
    """Refuse a time that is not Unix seconds up to `now` (plus slack): one in milliseconds would move a profile's
    clock to the year 58,000 and decay every other signal to nothing; NaN would poison its scores."""
    if not (math.isfinite(ts) and 0 <= ts <= now + FUTURE_SLACK_S):
        raise InvalidInputError(f"ts must be a Unix time in seconds, not in the future; got {ts!r}")


@dataclass
class InterestSignal:
    """What one clause (or one item event) says about a user's taste."""

    text: str | None
    embedding: np.ndarray
    categories: dict[str, float] = field(default_factory=dict)
    polarity: float = 0.0
    preference: float = 0.0
    source: Source = "chat"
    # Catalog-qualified item id ("movielens-100k:50") when the signal is about one item.
    item_id: str | None = None
    timestamp: float | None = None
    # A client's idempotency key: recording a signal whose key this user has recorded before writes nothing new.
    key: str | None = None
    # Set by InterestMemory.record once the signal is durably stored.
    event_id: str | None = None

    @property
    def top_category(self) -> str | None:
        """The most probable category, or None when there are none."""
        return max(self.categories, key=self.categories.__getitem__) if self.categories else None
