"""How interest events and profile records are laid out in Chroma: collections, record ids, metadata, filters.

Events (`interest_events`) hold one record per signal; profiles (`interest_profiles`) one head record plus one record
per interest cluster per user. Everything that writes or reads those records by key goes through here, so the layout
is written once: above all `item_event`, the one decoding of a stored item event (for the counts, the drain and the
uptake index alike).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "EVENTS_COLLECTION",
    "PAGE",
    "PROFILES_COLLECTION",
    "SOURCES",
    "CountRow",
    "ItemEvent",
    "and_filter",
    "cluster_id",
    "count_rows",
    "event_metadata",
    "head_id",
    "head_vector",
    "item_event",
    "keyed_event_id",
    "unpack",
    "user_filter",
]

EVENTS_COLLECTION = "interest_events"
PROFILES_COLLECTION = "interest_profiles"
PAGE = 5000  # rows per Chroma get/add page (its max batch is about 5,461)
SOURCES = ("chat", "feedback", "item")

# An item event as the counts take it: (user, item, ts, event id, positive).
CountRow = tuple[str, str, float, str, bool]


class ItemEvent(NamedTuple):
    """A stored event about one catalog item (a mention, a 👍 / 👎, a "seen it"), as the counts and uptake read it."""

    user_id: str
    item_id: str
    ts: float
    event_id: str
    source: str
    polarity: float

    @property
    def positive(self) -> bool:
        """Whether the counts take it as a positive (likes and neutral mentions: all but dislikes)."""
        return self.polarity >= 0

    def count_row(self) -> CountRow:
        """The row the counts store takes."""
        return (self.user_id, self.item_id, self.ts, self.event_id, self.positive)


def keyed_event_id(user_id: str, key: str) -> str:
    """The event id a client's idempotency key names: the same key from the same user is the same event."""
    return hashlib.sha256(f"{user_id}\0{key}".encode()).hexdigest()[:32]


def head_id(uid: str) -> str:
    """The id of the user's profile head record."""
    # '/' can never occur in a valid user id, so record ids of two users cannot collide.
    return f"profile/{uid}/head"


def cluster_id(uid: str, cid: int) -> str:
    """The id of one of the user's interest cluster records."""
    return f"profile/{uid}/c{cid}"


def head_vector(uid: str, dim: int) -> np.ndarray:
    """A fixed pseudo-random unit vector per user for the head record (Chroma needs one; zeros break cosine)."""
    seed = int.from_bytes(hashlib.blake2b(uid.encode(), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def user_filter(uid: str) -> dict[str, Any]:
    """The only filter shape used for per-user queries (uid already validated)."""
    return {"user_id": uid}


def and_filter(uid: str, **more: Any) -> dict[str, Any]:
    """The user's records that also match each of `more` (metadata key: value or operator)."""
    return {"$and": [{"user_id": uid}, *({k: v} for k, v in more.items())]}


# Event metadata keeps as separate (filterable) keys only what a `where` uses: user_id, item_id, top_category,
# ts. Everything else rides in one JSON string under "d": Chroma writes one row (and index entries) per key,
# so fewer keys is a cheaper add. Records written before this layout (all keys flat) still read the same.
_PACKED = "d"


def event_metadata(
    uid: str, source: str, item_id: str, top: str, ts: float, rt: float,
    polarity: float, preference: float, cats: dict[str, float], text: str | None,
) -> dict[str, Any]:
    """An event's Chroma metadata: the filterable keys flat, the rest packed (text as stored: sealed, or None)."""
    packed: dict[str, Any] = {"source": source, "polarity": polarity, "preference": preference, "categories": cats, "rt": rt}
    if text is not None:
        packed["text"] = text
    return {
        "user_id": uid,
        "item_id": item_id,  # "" (not absent) so `$ne ""` finds exactly the item events
        "top_category": top,
        "ts": ts,
        _PACKED: json.dumps(packed, separators=(",", ":")),
    }


def unpack(meta: Mapping[str, Any]) -> dict[str, Any]:
    """An event's metadata as one flat dict (categories decoded), whichever layout it was written in."""
    out = dict(meta)
    packed = out.pop(_PACKED, None)
    if packed:
        out.update(json.loads(packed))
    elif isinstance(out.get("categories"), str):
        out["categories"] = json.loads(out["categories"] or "{}")
    out.setdefault("categories", {})
    return out


def item_event(event_id: str, meta: Mapping[str, Any]) -> ItemEvent | None:
    """The item event a stored record holds, from its metadata in either layout; None for a chat event."""
    m = unpack(meta)
    if not m.get("item_id"):
        return None
    return ItemEvent(str(m["user_id"]), str(m["item_id"]), float(m["ts"]), event_id, str(m.get("source")), float(m.get("polarity", 0.0)))


def count_rows(records: Iterable[tuple[str, Mapping[str, Any]]]) -> list[CountRow]:
    """The count rows of the item events among these (event id, metadata) records, in their order."""
    return [e.count_row() for eid, meta in records if (e := item_event(eid, meta)) is not None]
