"""Settings an embedder passes through PluginConfig take effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from interest_bot.plugins.interest.config import PluginConfig
from interest_bot.plugins.interest.plugin import InterestPlugin


def test_ab_test_turns_on_from_the_plugin_config(prepared_data_dir: Path, encoder) -> None:
    plugin = InterestPlugin.open(config=PluginConfig(data_dir=prepared_data_dir, ab_test=True), encoder=encoder)
    try:
        users = [f"ab-{i}" for i in range(40)]
        variants = {plugin.variant(u) for u in users}
        assert variants == {"A", "B"}
        for user in users:
            plugin.observe(user, "I love westerns")
            plugin.record_impressions(user, plugin.recommend(user, k=3))
        assert set(plugin.impressions.click_through()) == {"A", "B"}
    finally:
        plugin.close()


def test_content_reason_without_stored_text(prepared_data_dir: Path, encoder) -> None:
    plugin = InterestPlugin.open(config=PluginConfig(data_dir=prepared_data_dir, store_text=False), encoder=encoder)
    try:
        plugin.observe("no-text", "I adore slow, atmospheric space exploration films with lonely astronauts")
        reasons = [reason for rec in plugin.recommend("no-text", k=10) for reason in rec.reasons]
        assert any(r.startswith("close to your interest in ") for r in reasons), reasons
        assert not any("because you said" in r for r in reasons)
    finally:
        plugin.close()


def test_a_huge_k_is_capped_by_the_facade_and_ranks_in_linear_passes(plugin) -> None:
    """Item 14: recommend(k=10**9) used to rank in O(k * pool^2); the facade caps k, the diversity step is O(k * pool)."""
    from interest_bot.plugins.interest.plugin import MAX_K

    plugin.observe("huge-k", "I love westerns and film noir")
    recs = plugin.recommend("huge-k", k=10**9)
    assert len(recs) == MAX_K
    assert len({r.item_id for r in recs}) == MAX_K
    assert [r.item_id for r in recs[:5]] == [r.item_id for r in plugin.recommend("huge-k", k=5)]


def test_one_message_limit_reaches_the_api_the_ui_and_the_classifier(prepared_data_dir: Path, encoder) -> None:
    """Item 19: IBOT_MAX_MESSAGE_CHARS raises or lowers the limit everywhere, from one setting."""
    from fastapi.testclient import TestClient

    from interest_bot.bot.config import Settings
    from interest_bot.bot.server import create_app
    from interest_bot.bot.services import Services

    settings = Settings.without_env_file(data_dir=prepared_data_dir, device="cpu", max_message_chars=6000)
    plugin = InterestPlugin.open(config=settings.plugin_config(), encoder=encoder)
    try:
        assert plugin.classifier.max_chars == 6000
        # Twenty long small-talk sentences (under the 32-clause cap), then the taste, past 4,000 characters.
        long = ("Yesterday we drove " + "very " * 40 + "slowly to the shop. ") * 20 + "Anyway, I love westerns."
        assert 4000 < len(long) < 6000
        client = TestClient(create_app(services=Services(settings, plugin=plugin), ui=False), base_url="http://127.0.0.1", client=("127.0.0.1", 1))
        r = client.post("/v1/observe", json={"user_id": "long-talker", "message": long})
        assert r.status_code == 200, r.text
        assert any(s["top_category"] == "Western" for s in r.json()["signals"]), "the taste after 4,000 characters was read"
        too_long = client.post("/v1/observe", json={"user_id": "long-talker", "message": "x " * 3100})
        assert too_long.status_code == 413 and "6000" in too_long.json()["detail"]
    finally:
        plugin.close()


def test_per_user_locks_stay_bounded_over_many_users(plugin) -> None:
    """Item 13: a lock was kept for every user id ever seen (a request for an unknown id created one)."""
    for i in range(3000):
        plugin.feedback(f"passer-{i}", "50", liked=None)
    assert len(plugin._user_locks) <= 256


def test_settings_declare_the_plugin_fields_once_and_pass_them_all(monkeypatch) -> None:
    from interest_bot.bot.config import Settings
    from interest_bot.plugins.interest.encoding.encoder import encoder_for
    from interest_bot.plugins.interest.encoding.onnx_encoder import OnnxInt8Encoder

    assert set(PluginConfig.model_fields) <= set(Settings.model_fields)  # declared in PluginConfig, inherited
    monkeypatch.setenv("IBOT_MAX_MEMORY", '{"cpu": "2GiB", "0": "1GiB"}')
    monkeypatch.setenv("IBOT_ENCODER_THREADS", "1")
    config = Settings.without_env_file(count_neighbours=7).plugin_config()
    assert config.max_memory == {"cpu": "2GiB", 0: "1GiB"}  # a GPU index for accelerate, from the JSON env var
    assert config.encoder_threads == 1 and config.count_neighbours == 7
    encoder = encoder_for(config.model_copy(update={"device": "cpu", "quantization": "auto"}))
    assert isinstance(encoder, OnnxInt8Encoder)  # cpu + auto: the int8 ONNX encoder
    assert encoder.session.get_session_options().intra_op_num_threads == 1  # the setting reached onnxruntime


def test_the_recommender_blend_is_part_of_the_config(monkeypatch: pytest.MonkeyPatch, prepared_data_dir: Path, encoder) -> None:
    """RecommenderConfig is reachable from PluginConfig (and so from IBOT_RECOMMENDER); a sibling catalog keeps it."""
    from interest_bot.bot.config import Settings
    from interest_bot.plugins.interest.plugin import InterestPlugin
    from interest_bot.plugins.interest.ranking.config import RecommenderConfig

    monkeypatch.setenv("IBOT_RECOMMENDER", '{"content": 0.4, "candidates": {"popular": 50}, "sequential": {"recent": 5}}')
    config = Settings.without_env_file().plugin_config()
    assert isinstance(config.recommender, RecommenderConfig)
    assert (config.recommender.content, config.recommender.candidates.popular, config.recommender.sequential.recent) == (0.4, 50, 5)
    assert config.recommender.collaborative == RecommenderConfig().collaborative  # unnamed knobs keep their defaults
    plugin = InterestPlugin.open(data_dir=prepared_data_dir, config=config, encoder=encoder)
    try:
        assert plugin.recommender.config == config.recommender
        assert plugin.with_catalog(plugin.catalog_name).recommender.config == config.recommender
    finally:
        plugin.close()
