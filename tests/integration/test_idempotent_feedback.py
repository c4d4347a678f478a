"""Item 21: a feedback retried with the same idempotency key is recorded once (memory, counts, click-through), and a
counts write that fails after the outbox commit neither fails the request nor loses the event: the drain adds it.
Real plugin (MiniLM, Chroma, SQLite counts) and a real server for the HTTP header."""

from __future__ import annotations

import httpx
import pytest

ITEM = "movielens-100k:50"  # Star Wars


def test_a_retried_feedback_is_recorded_once(plugin) -> None:
    before = plugin.counts.popularity(ITEM)
    plugin.impressions.add("retry-user", [ITEM, ITEM], "A")  # shown twice: two clicks could be credited
    first = plugin.feedback("retry-user", ITEM, liked=True, key="tap-1")
    again = plugin.feedback("retry-user", ITEM, liked=True, key="tap-1")
    assert first == again
    assert len(plugin.memory.events("retry-user")) == 1
    assert plugin.counts.popularity(ITEM) == before + 1
    assert plugin.counts.user_items("retry-user") == [ITEM]
    assert plugin.impressions.click_through()["A"]["clicks"] == 1
    other = plugin.feedback("retry-user", ITEM, liked=True, key="tap-2")  # another action: another event
    assert other != first and len(plugin.memory.events("retry-user")) == 2
    assert plugin.feedback("someone-else", ITEM, liked=True, key="tap-1") != first  # keys are per user


def test_a_failed_counts_write_is_repaired_by_the_drain(plugin, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plugin.memory.outbox is not None  # the embedded deployment: events are committed to the outbox first
    real = plugin.counts.add_events

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(plugin.counts, "add_events", broken)
    ids = plugin.feedback("fail-user", ITEM, liked=True, key="tap-1")  # answered: the event is durable
    assert ids and plugin.counts.user_items("fail-user") == []
    monkeypatch.setattr(plugin.counts, "add_events", real)
    plugin.memory.flush()  # the drain moves the event to Chroma and gives it to the counts
    assert plugin.counts.user_items("fail-user") == [ITEM]
    assert plugin.feedback("fail-user", ITEM, liked=True, key="tap-1") == ids  # the client's retry adds nothing
    assert len(plugin.memory.events("fail-user")) == 1 and plugin.counts.user_items("fail-user") == [ITEM]


def test_a_forgotten_users_counts_retry_is_not_written_back(plugin, monkeypatch: pytest.MonkeyPatch) -> None:
    """A counts write that failed left the user's item event queued for the next drain; forget deleted their counts
    contribution, and the drain after it wrote the event back."""
    real = plugin.counts.add_events

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(plugin.counts, "add_events", broken)
    assert plugin.feedback("fail-forget", ITEM, liked=True)
    plugin.forget("fail-forget")
    monkeypatch.setattr(plugin.counts, "add_events", real)
    plugin.feedback("other-user", ITEM, liked=True)  # a later write: its drain offers any queued rows again
    plugin.memory.flush()
    assert plugin.counts.user_items("fail-forget") == []
    assert plugin.counts.user_contribution("fail-forget").get("events") in (None, 0, [])


def test_forgetting_one_event_does_not_bring_its_counts_back(plugin, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for forget_interest: an event whose counts write failed stayed queued, and the drain after the event
    was forgotten wrote it back."""
    real = plugin.counts.add_events

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(plugin.counts, "add_events", broken)
    [event_id] = plugin.feedback("fi-retry", ITEM, liked=True)
    plugin.memory.flush()  # the event reaches Chroma; its counts row stays queued for a retry
    monkeypatch.setattr(plugin.counts, "add_events", real)
    plugin.forget_interest("fi-retry", event_id)
    plugin.feedback("other-user-2", ITEM, liked=True)
    plugin.memory.flush()
    assert plugin.memory.events("fi-retry") == [] and plugin.counts.user_items("fi-retry") == []


def test_the_http_api_takes_an_idempotency_key(running_server: str) -> None:
    url = running_server

    def post(headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{url}/v1/users/http-user/feedback", json={"item_id": ITEM, "liked": True}, headers=headers, timeout=60)

    a, b = post({"Idempotency-Key": "k-1"}), post({"Idempotency-Key": "k-1"})
    assert a.status_code == b.status_code == 200 and a.json()["event_ids"] == b.json()["event_ids"]
    c = post({})
    assert c.status_code == 200 and c.json()["event_ids"] != a.json()["event_ids"]
    events = httpx.get(f"{url}/v1/users/http-user/export", timeout=60).json()["events"]
    assert len(events) == 2
    assert post({"Idempotency-Key": "x" * 200}).status_code == 422


def test_forgetting_one_interest_keeps_the_ab_impressions(plugin) -> None:
    """Item 18: forget_interest replayed the user's counts through remove_user, which also dropped their impressions."""
    plugin.impressions.add("ab-user", [ITEM, "movielens-100k:1"], "A")
    ids = plugin.feedback("ab-user", ITEM, liked=True)
    assert plugin.impressions.click_through()["A"] == {"impressions": 2, "clicks": 1, "ctr": 0.5}
    plugin.forget_interest("ab-user", ids[0])
    assert plugin.counts.user_items("ab-user") == []
    assert plugin.impressions.click_through()["A"]["impressions"] == 2


def test_a_replacement_card_joins_the_batch_shown_last(plugin) -> None:
    """"Seen it" typed after a card was replaced still means the reply's cards, the replacement among them."""
    plugin.impressions.add("batch-user", [ITEM, "movielens-100k:1"], "A")
    plugin.impressions.add("batch-user", ["movielens-100k:2"], "A", ts=10**10, join_latest=True)
    assert plugin.impressions.latest("batch-user") == [ITEM, "movielens-100k:1", "movielens-100k:2"]
