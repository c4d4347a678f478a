"""Settings an embedder passes through PluginConfig take effect (hardening issue, items 16 and 17)."""

from __future__ import annotations

from pathlib import Path

from interest_bot.plugins.interest.config import PluginConfig
from interest_bot.plugins.interest.plugin import InterestPlugin


def test_ab_test_turns_on_from_the_plugin_config(prepared_data_dir: Path, encoder) -> None:  # noqa: ANN001
    plugin = InterestPlugin.open(config=PluginConfig(data_dir=prepared_data_dir, ab_test=True), encoder=encoder)
    try:
        users = [f"ab-{i}" for i in range(40)]
        variants = {plugin.variant(u) for u in users}
        assert variants == {"A", "B"}
        for user in users:
            plugin.observe(user, "I love westerns")
            plugin.record_impressions(user, plugin.recommend(user, k=3))
        assert set(plugin.counts.click_through()) == {"A", "B"}
    finally:
        plugin.close()


def test_content_reason_without_stored_text(prepared_data_dir: Path, encoder) -> None:  # noqa: ANN001
    plugin = InterestPlugin.open(config=PluginConfig(data_dir=prepared_data_dir, store_text=False), encoder=encoder)
    try:
        plugin.observe("no-text", "I adore slow, atmospheric space exploration films with lonely astronauts")
        reasons = [reason for rec in plugin.recommend("no-text", k=10) for reason in rec.reasons]
        assert any(r.startswith("close to your interest in ") for r in reasons), reasons
        assert not any("because you said" in r for r in reasons)
    finally:
        plugin.close()


def test_a_huge_k_is_capped_by_the_facade_and_ranks_in_linear_passes(plugin) -> None:  # noqa: ANN001
    """Item 14: recommend(k=10**9) used to rank in O(k * pool^2); the facade caps k, the diversity step is O(k * pool)."""
    from interest_bot.plugins.interest.plugin import MAX_K

    plugin.observe("huge-k", "I love westerns and film noir")
    recs = plugin.recommend("huge-k", k=10**9)
    assert len(recs) == MAX_K
    assert len({r.item_id for r in recs}) == MAX_K
    assert [r.item_id for r in recs[:5]] == [r.item_id for r in plugin.recommend("huge-k", k=5)]
