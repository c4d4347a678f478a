"""The CPU encoder is built from the installed MiniLM into dynamic-int8 ONNX once, checked, cached and reused."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest

from interest_bot.bot.config import Settings
from interest_bot.plugins.interest.encoding import onnx_int8
from interest_bot.plugins.interest.encoding.encoder import TorchEncoder, encoder_path, load_encoder
from interest_bot.plugins.interest.encoding.onnx_encoder import OnnxInt8Encoder

SENTENCES = [
    "I can't get enough of old westerns",
    "horror films give me nightmares and I avoid them",
    "we watched a documentary about whales last night",
    "what time does the shop close on sundays?",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build into a private cache dir (the shared cache is left alone)."""
    cache = tmp_path_factory.mktemp("model-cache")
    return onnx_int8.ensure_int8_onnx(encoder_path(), cache)


def test_build_makes_every_weight_matmul_int8(built: Path) -> None:
    graph = onnx.load(str(built)).graph
    weights = {i.name for i in graph.initializer}
    ops = list(graph.node)
    # 6 layers x (q, k, v, attention output, FFN in, FFN out) are int8 GEMMs ...
    assert sum(n.op_type == "MatMulInteger" for n in ops) == 36
    # ... and what stays fp32 is the two activation-by-activation products per layer (scores, context).
    fp32 = [n for n in ops if n.op_type == "MatMul"]
    assert len(fp32) == 12 and not any(n.input[1] in weights for n in fp32)
    # Q, K and V share one quantization of their input: 4 per layer.
    assert sum(n.op_type == "ReduceMax" for n in ops) == 24
    assert built.stat().st_size < 0.75 * (encoder_path() / "model.safetensors").stat().st_size


def test_an_embedding_does_not_depend_on_its_batch(built: Path) -> None:
    """Per-token scales: a clause encoded alone or among others gives the same vector."""
    enc = OnnxInt8Encoder(built, encoder_path())
    alone = np.concatenate([enc.encode([s]) for s in SENTENCES])
    together = enc.encode(SENTENCES + ["a much longer sentence that pads the batch with many more tokens than the others"])
    assert np.allclose(alone, together[: len(SENTENCES)], atol=1e-5)


def test_built_encoder_agrees_with_fp32(built: Path, fp32_encoder) -> None:
    enc = OnnxInt8Encoder(built, encoder_path())
    got, want = enc.encode(SENTENCES), fp32_encoder.encode(SENTENCES)
    assert got.shape == want.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = np.sum(got * want, axis=1)
    assert cos.min() > 0.98, cos
    # Nearest neighbours agree: each sentence is closest to itself under the other encoder.
    assert (np.argmax(got @ want.T, axis=1) == np.arange(len(SENTENCES))).all()


def test_second_call_reuses_the_cached_file(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = built.stat().st_mtime_ns

    def no_rebuild(*_a: object) -> None:
        raise AssertionError("rebuilt a cached encoder")

    monkeypatch.setattr(onnx_int8, "build_int8_onnx", no_rebuild)
    assert onnx_int8.ensure_int8_onnx(encoder_path(), built.parent) == built
    assert built.stat().st_mtime_ns == before
    assert not list(built.parent.glob(".build-*")), "the build left its temp dir behind"


def test_load_encoder_uses_the_built_onnx_on_cpu(built: Path) -> None:
    enc = load_encoder(device="cpu", quantization="auto", cache_dir=built.parent)
    assert isinstance(enc, OnnxInt8Encoder)
    assert enc.onnx_file == built and enc.identity == onnx_int8.RECIPE


def test_cache_key_follows_recipe_and_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"x" * 10)
    first = onnx_int8.cache_key(model)
    assert onnx_int8.cache_key(model) == first
    (model / "model.safetensors").write_bytes(b"y" * 11)
    second = onnx_int8.cache_key(model)
    assert second != first
    monkeypatch.setattr(onnx_int8, "RECIPE", "another-recipe")
    assert onnx_int8.cache_key(model) != second


def test_a_build_that_fails_its_check_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_int8, "MIN_VERIFY_COSINE", 1.01)  # no real build reaches it
    with pytest.raises(onnx_int8.EncoderBuildError, match="agrees with fp32 at cosine"):
        onnx_int8.ensure_int8_onnx(encoder_path(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def unwritable_cache(tmp_path: Path) -> Path:
    """A cache path below a plain file: it can't be created."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    return blocker / "cache"


def test_unwritable_cache_says_what_to_set(unwritable_cache: Path) -> None:
    with pytest.raises(onnx_int8.EncoderBuildError, match="IBOT_MODEL_CACHE"):
        onnx_int8.ensure_int8_onnx(encoder_path(), unwritable_cache)


def test_cache_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # IBOT_MODEL_CACHE reaches the plugin through the settings (the plugin itself reads no IBOT_ variable).
    monkeypatch.setenv("IBOT_MODEL_CACHE", str(tmp_path / "c"))
    assert Settings.without_env_file().plugin_config().model_cache == tmp_path / "c"
    assert onnx_int8.default_cache_dir() != tmp_path / "c"
    monkeypatch.delenv("IBOT_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_int8.default_cache_dir() == tmp_path / "xdg" / "interest-bot"


def test_without_onnx_the_cpu_path_is_torch_int8(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    with caplog.at_level(logging.WARNING):
        enc = load_encoder(device="cpu")
    assert isinstance(enc, TorchEncoder) and enc.quantization == "int8"
    assert "pip install onnx onnxruntime" in caplog.text


def test_a_failing_export_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(onnx_int8.EncoderBuildError, match="exporter exploded.*IBOT_QUANTIZATION=none"):
        onnx_int8.ensure_int8_onnx(encoder_path(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_an_unwritable_model_cache(tmp_path: Path, unwritable_cache: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "IBOT_MODEL_CACHE": str(unwritable_cache), "IBOT_DATA_DIR": str(tmp_path / "data")}
    cli = Path(sys.executable).with_name("interest-bot")
    out = subprocess.run([str(cli), "catalog", "ingest", "bbc-news"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 1
    assert "IBOT_MODEL_CACHE" in out.stderr and "Traceback" not in out.stderr
