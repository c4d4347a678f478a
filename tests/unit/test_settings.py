"""Settings come from IBOT_* variables and a .env file, and map onto the plugin's config."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from interest_bot.bot.config import Settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IBOT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("IBOT_DEVICE", "cpu")
    monkeypatch.setenv("IBOT_QUANTIZATION", "none")
    monkeypatch.setenv("IBOT_PORT", "8123")
    monkeypatch.setenv("IBOT_MAX_MEMORY", '{"0": "6GiB", "cpu": "8GiB"}')
    monkeypatch.setenv("IBOT_STORE_TEXT", "false")
    s = Settings()
    assert s.data_dir == tmp_path / "d" and s.device == "cpu" and s.port == 8123 and s.store_text is False
    cfg = s.plugin_config()
    assert cfg.data_dir == tmp_path / "d"
    assert cfg.quantization == "none"
    assert cfg.max_memory == {0: "6GiB", "cpu": "8GiB"}  # GPU indices become ints, as accelerate wants
    assert cfg.store_text is False


def test_settings_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("IBOT_CATALOG=bbc-news\nIBOT_CHAT_BACKEND=openai:qwen\nIBOT_OPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    s = Settings()
    assert s.catalog == "bbc-news"
    assert s.chat_backend == "openai:qwen"
    assert s.openai_base_url == "http://127.0.0.1:9/v1"
    # the environment wins over .env
    monkeypatch.setenv("IBOT_CATALOG", "movielens-100k")
    assert Settings().catalog == "movielens-100k"


@pytest.mark.parametrize(
    "var,value", [("IBOT_CHAT_BACKEND", "gpt4"), ("IBOT_DEVICE", "tpu"), ("IBOT_QUANTIZATION", "2bit"), ("IBOT_MAX_MESSAGE_CHARS", "400000")]
)
def test_bad_settings_are_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, var: str, value: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


def test_defaults_are_offline_and_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.host == "127.0.0.1" and s.port == 7860 and s.chat_backend == "local"
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
