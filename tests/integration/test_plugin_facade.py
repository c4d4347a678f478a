"""The plugin's narrow facade for the middleware, the retriever and /metrics, on the real catalog and encoder."""

from __future__ import annotations

import time
from typing import Any

import pytest

from interest_bot.plugins.interest.plugin import InterestPlugin


def test_turn_observes_ranks_and_says_what_changed(plugin: InterestPlugin) -> None:
    """One call per message: the signals recorded, the picks, the strongest interests after it, and whether they moved."""
    first = plugin.turn("facade-1", "I love westerns", k=4)
    assert first.signals and first.signals[0].polarity > 0
    assert "Western" in first.likes and first.changed
    assert len(first.recommendations) == 4
    assert [r.item_id for r in first.recommendations] == [r.item_id for r in plugin.recommend("facade-1", k=4)]
    assert first.new_user  # one signal is not enough to stop asking what the user enjoys
    again = plugin.turn("facade-1", "I love westerns", k=4)
    assert not again.changed and again.likes == first.likes
    chat = plugin.turn("facade-1", "thanks, see you", k=2)
    assert chat.signals == [] and not chat.changed and len(chat.recommendations) == 2


def test_a_turn_times_its_profile_read_inside_the_recommend_stage(plugin: InterestPlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    """/metrics' "recommend" stage covers the profile read the picks are ranked from, once per turn."""
    stages: list[tuple[str, float]] = []
    plugin.add_listener(lambda event, **data: stages.append((data["stage"], data["seconds"])) if event == "stage" else None)
    real = plugin.memory.profile
    delay = 0.3

    def slow_profile(*args: Any, **kwargs: Any) -> Any:
        time.sleep(delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(plugin.memory, "profile", slow_profile)
    plugin.turn("facade-2", "I love westerns", k=3)
    recommend = [seconds for name, seconds in stages if name == "recommend"]
    assert len(recommend) == 1 and recommend[0] >= delay, stages


def test_titles_and_items_named_in_text(plugin: InterestPlugin) -> None:
    """Typed titles come back as the catalog names them; item ids come back qualified, as cards carry them."""
    assert plugin.titles_typed("I watched Star Wars (1977) again") == ["Star Wars"]  # the catalog keeps the year apart
    named = plugin.items_named("I watched Star Wars (1977) again")
    assert len(named) == 1 and named[0].startswith(f"{plugin.catalog_name}:")
    assert plugin.item_title(named[0]) == "Star Wars"
    assert plugin.item_title(f"{plugin.catalog_name}:no-such-item") is None
    assert plugin.titles_typed("hello there") == [] and plugin.items_named("hello there") == []


def test_search_and_click_through(plugin: InterestPlugin) -> None:
    """search ranks catalog items by cosine to the query; click_through counts what record_impressions and feedback saw."""
    hits = plugin.search("space adventure with starships", k=5)
    assert len(hits) == 5 and hits == sorted(hits, key=lambda h: -h.score)
    assert any("Sci-Fi" in h.item.categories for h in hits)
    assert plugin.search("anything", k=0) == []
    recs = plugin.recommend("facade-ctr", k=3)
    plugin.record_impressions("facade-ctr", recs)
    plugin.feedback("facade-ctr", recs[0].item_id, liked=True)
    stats = plugin.click_through()
    assert stats["A"]["impressions"] >= 3 and stats["A"]["clicks"] >= 1
