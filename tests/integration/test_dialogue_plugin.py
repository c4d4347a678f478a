"""Dialogue features through the real plugin: reactions to what was shown, mention polarity, dislike-only hygiene."""

from __future__ import annotations

import json
import math
import re
import time

import pytest

from interest_bot.memory.errors import InvalidInputError
from interest_bot.plugins.interest.plugin import InterestPlugin

CAT = "movielens-100k"


def test_reply_to_shown_items_becomes_feedback_on_them(plugin: InterestPlugin) -> None:
    plugin.observe("dlg-a", "sounds good", shown=[f"{CAT}:50"])  # Star Wars
    prof = plugin.profile("dlg-a")
    assert f"{CAT}:50" in prof.liked_items


def test_reply_resolves_against_the_latest_impressions(plugin: InterestPlugin) -> None:
    recs = plugin.recommend("dlg-b", k=3)
    plugin.record_impressions("dlg-b", recs[:1])
    plugin.observe("dlg-b", "not that one")
    events = plugin.memory.events("dlg-b")
    assert any(e.item_id == recs[0].item_id and e.polarity < 0 for e in events)
    assert recs[0].item_id not in [r.item_id for r in plugin.recommend("dlg-b", k=10)]


def test_the_titles_a_reply_names_are_what_the_next_reaction_answers(plugin: InterestPlugin) -> None:
    shown = plugin.record_reply("dlg-f", "You might like Star Wars (1977), a classic.")
    assert shown == [f"{CAT}:50"]
    assert plugin.impressions.latest("dlg-f") == shown
    assert plugin.memory.events("dlg-f") == []  # what the bot said is no taste of the user's
    assert plugin.record_reply("dlg-f", "Anything else I can help with?") == []
    assert plugin.impressions.latest("dlg-f") == shown  # a reply naming no title leaves the batch as it was
    plugin.observe("dlg-f", "not that one")
    assert any(e.item_id == f"{CAT}:50" and e.polarity < 0 for e in plugin.memory.events("dlg-f"))


def test_a_hated_title_counts_as_a_dislike_and_a_plain_mention_never_does(plugin: InterestPlugin) -> None:
    hated = plugin.observe("dlg-c", "I hated Titanic")
    assert any(s.item_id == f"{CAT}:313" and s.polarity < 0 for s in hated), [(s.item_id, s.polarity) for s in hated]
    watched = plugin.observe("dlg-d", "I recently watched Scream")
    assert all(s.polarity >= 0 for s in watched if s.item_id), [(s.item_id, s.polarity) for s in watched]


def test_dislike_only_profile_gets_supported_items(plugin: InterestPlugin) -> None:
    plugin.observe("dlg-e", "I'd rather watch paint dry than sit through a musical")
    arrays = plugin.catalog.items()
    for rec in plugin.recommend("dlg-e", k=10):
        row = arrays.row[rec.item_id]
        assert arrays.titles[row].lower() != "unknown"
        assert float(arrays.popularity[row]) >= 20, (rec.title, float(arrays.popularity[row]))
        assert "Musical" not in rec.categories, rec.title
        assert not re.search(r"\b1 ratings\b", " ".join(rec.reasons)), rec.reasons


def test_titles_are_read_only_in_the_part_of_a_message_that_is_read(plugin: InterestPlugin) -> None:
    """A title past `max_message_chars` is not linked: the classifier does not read it either, and linking it would cost
    time that grows faster than the message (the embedding API has no length cap)."""
    limit = plugin.config.max_message_chars
    pad = "la " * (limit // 3 + 10)
    assert plugin.titles_typed("Star Wars (1977) " + pad) == ["Star Wars"]
    assert plugin.titles_typed(pad + " Star Wars (1977)") == []
    assert plugin.items_named(pad + " Star Wars (1977)") == []
    assert plugin.record_reply("dlg-long", pad + " You might like Star Wars (1977).") == []
    assert all(s.item_id is None for s in plugin.observe("dlg-long", "I love sci-fi. " + pad + " I loved Star Wars (1977)"))


def test_a_feedback_time_that_is_not_unix_seconds_is_refused_and_records_nothing(plugin: InterestPlugin) -> None:
    """A time in milliseconds (a common import slip) would move the profile's clock to the year 58,000 and decay every
    other signal to nothing; NaN would poison the scores."""
    for ts in (time.time() * 1000, math.nan, math.inf, -1.0):
        with pytest.raises(InvalidInputError, match="Unix time in seconds"):
            plugin.feedback("dlg-ts", f"{CAT}:50", liked=True, ts=ts)
        with pytest.raises(InvalidInputError):
            plugin.feedback_many([("dlg-ts", f"{CAT}:50", True, ts)])
    assert plugin.memory.events("dlg-ts") == []
    assert plugin.feedback("dlg-ts", f"{CAT}:50", liked=True, ts=time.time() - 86400)  # a day ago is fine


def test_a_sibling_catalog_shares_the_chat_and_uptake_indexes_so_forget_reaches_both(plugin: InterestPlugin) -> None:
    """Each sibling kept its own copy of every user's chat embeddings and accepted items, and forget cleared only the
    plugin it was called on: another catalog went on steering by a forgotten user's chat until the process restarted."""
    sibling = plugin.with_catalog(plugin.catalog_name)
    assert sibling.talk is plugin.talk and sibling.uptake is plugin.uptake
    sibling.observe("dlg-sib", "I love westerns")
    item = f"{CAT}:1682"  # an item no other test here takes up
    sibling.feedback("dlg-sib", item, liked=True)
    assert plugin.talk.latest("dlg-sib") is not None and plugin.uptake.weights([item]).max() > 0
    plugin.forget("dlg-sib")
    assert sibling.talk.latest("dlg-sib") is None
    assert sibling.uptake.weights([item]).max() == 0.0


def test_export_lists_what_was_shown_and_forget_removes_it(plugin: InterestPlugin) -> None:
    """Impressions are personal data (what the user was shown, under which variant, what they clicked): forget
    deleted them but export left them out."""
    recs = plugin.recommend("dlg-exp", k=2)
    plugin.record_impressions("dlg-exp", recs)
    plugin.feedback("dlg-exp", recs[0].item_id, liked=True)
    shown = plugin.export("dlg-exp")["impressions"]
    assert [row["item_id"] for row in shown] == [r.item_id for r in recs]
    assert {row["variant"] for row in shown} == {plugin.variant("dlg-exp")}
    assert shown[0]["clicked_ts"] is not None and shown[1]["clicked_ts"] is None
    json.dumps(shown)
    plugin.forget("dlg-exp")
    assert plugin.export("dlg-exp")["impressions"] == []
