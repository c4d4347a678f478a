"""The Chroma record layout of interest events: metadata written and read back, one decoding of item events, ids."""

from __future__ import annotations

import json

import numpy as np

from interest_bot.memory.event_layout import (
    ItemEvent,
    and_filter,
    cluster_id,
    count_rows,
    event_metadata,
    head_id,
    head_vector,
    item_event,
    keyed_event_id,
    unpack,
    user_filter,
)


def _meta(item: str = "ml:5", polarity: float = 0.8, source: str = "item", text: str | None = "I loved it") -> dict:
    return event_metadata("ann", source, item, "Western", 100.0, 101.0, polarity, 0.7, {"Western": 0.9, "Drama": 0.1}, text)


def test_only_what_a_where_uses_is_a_key_of_its_own() -> None:
    meta = _meta()
    assert set(meta) == {"user_id", "item_id", "top_category", "ts", "d"}
    assert unpack(meta) == {
        "user_id": "ann", "item_id": "ml:5", "top_category": "Western", "ts": 100.0, "source": "item", "polarity": 0.8,
        "preference": 0.7, "categories": {"Western": 0.9, "Drama": 0.1}, "rt": 101.0, "text": "I loved it",
    }
    assert "text" not in unpack(_meta(text=None))


def test_records_written_flat_before_the_packed_layout_read_the_same() -> None:
    flat = {"user_id": "ann", "item_id": "ml:5", "top_category": "Western", "ts": 100.0, "source": "item", "polarity": 0.8,
            "preference": 0.7, "categories": json.dumps({"Western": 0.9, "Drama": 0.1}), "rt": 101.0, "text": "I loved it"}
    assert unpack(flat) == unpack(_meta())
    assert item_event("e1", flat) == item_event("e1", _meta())
    assert unpack({"user_id": "ann", "categories": ""})["categories"] == {}


def test_an_item_event_is_decoded_once_for_counts_and_uptake() -> None:
    liked = item_event("e1", _meta(polarity=1.0, source="feedback"))
    assert liked == ItemEvent("ann", "ml:5", 100.0, "e1", "feedback", 1.0)
    assert liked.count_row() == ("ann", "ml:5", 100.0, "e1", True)
    seen = item_event("e2", _meta(polarity=0.0, source="feedback"))  # "seen it": neutral, counted as taken up
    assert seen is not None and seen.positive and seen.count_row()[4] is True
    disliked = item_event("e3", _meta(polarity=-1.0, source="feedback"))
    assert disliked is not None and not disliked.positive
    assert item_event("e4", _meta(item="", source="chat")) is None  # a chat event names no item


def test_count_rows_keep_the_item_events_in_order() -> None:
    records = [("a", _meta(item="ml:1")), ("b", _meta(item="", source="chat")), ("c", _meta(item="ml:2", polarity=-0.5))]
    assert count_rows(records) == [("ann", "ml:1", 100.0, "a", True), ("ann", "ml:2", 100.0, "c", False)]
    assert count_rows([]) == []


def test_ids_and_filters() -> None:
    assert keyed_event_id("ann", "k1") == keyed_event_id("ann", "k1") != keyed_event_id("bob", "k1")
    assert len(keyed_event_id("ann", "k1")) == 32
    assert head_id("ann") == "profile/ann/head" and cluster_id("ann", 3) == "profile/ann/c3"
    assert user_filter("ann") == {"user_id": "ann"}
    assert and_filter("ann", kind="cluster") == {"$and": [{"user_id": "ann"}, {"kind": "cluster"}]}
    v = head_vector("ann", 384)
    assert v.dtype == np.float32 and v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    np.testing.assert_array_equal(v, head_vector("ann", 384))
    assert not np.array_equal(v, head_vector("bob", 384))
