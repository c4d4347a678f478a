"""The default models load from installed packages and local files only, and the chat model talks."""

from pathlib import Path

import pytest

from interest_bot.bot.config import Settings
from interest_bot.bot.local_llm import LocalChatModel
from interest_bot.bot.models import is_prepared, load_chat_model, prepare_local_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def models_settings() -> Settings:
    """Settings whose models dir holds the converted SmolLM2 (the same cache `make run` fills)."""
    data_dir = ROOT / "data"
    settings = Settings(data_dir=data_dir, device="cpu")
    if not is_prepared(settings.models_dir):
        prepare_local_model(settings.models_dir)
    return settings


def test_local_model_replies_from_converted_cache(models_settings: Settings) -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    model = load_chat_model(models_settings)
    reply = model.invoke([SystemMessage("You are a friendly assistant. Answer briefly."), HumanMessage("Say hello.")])
    assert isinstance(reply.content, str) and len(reply.content.strip()) > 0
    chunks: list[str] = []
    for chunk in model.stream([HumanMessage("Name one planet.")]):
        assert isinstance(chunk.content, str)  # joined below
        chunks.append(chunk.content)
    assert len(chunks) > 1, "the local backend streams token by token"
    assert "".join(chunks).strip()


def test_every_default_model_loads_with_network_blocked(models_settings: Settings, no_network: None) -> None:
    import socket

    from interest_bot.plugins.interest.encoding.encoder import load_encoder

    with pytest.raises(OSError):  # the guard is really on
        socket.create_connection(("huggingface.co", 443), timeout=1)
    encoder = load_encoder(device="cpu")
    vec = encoder.encode(["I adore old westerns"])
    assert vec.shape == (1, 384)
    assert abs(float((vec**2).sum()) - 1.0) < 1e-4
    model = load_chat_model(models_settings)
    assert isinstance(model, LocalChatModel)  # the default backend
    assert model.hf_model.device.type == "cpu"


def test_prepare_is_skipped_when_done(models_settings: Settings) -> None:
    import time

    started = time.perf_counter()
    path = prepare_local_model(models_settings.models_dir)
    assert (path / "model.safetensors").exists()
    assert time.perf_counter() - started < 5  # nothing is converted again


def test_hf_backend_loads_any_local_model_folder(models_settings: Settings, tmp_path: Path) -> None:
    from langchain_core.messages import HumanMessage

    from interest_bot.bot.models import prepared_local_dir

    folder = prepared_local_dir(models_settings.models_dir)
    settings = Settings(data_dir=tmp_path, device="cpu", chat_backend=f"hf:{folder}", max_new_tokens=8)
    model = load_chat_model(settings)
    assert isinstance(model, LocalChatModel)  # hf:<folder> is the local backend
    assert model.model_name == folder.name
    content = model.invoke([HumanMessage("Hi!")]).content
    assert isinstance(content, str) and content.strip()
