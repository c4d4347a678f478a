"""Device choice on this CPU machine, and the exact arguments the CUDA path gives to from_pretrained."""

import pytest
import torch
from transformers import BitsAndBytesConfig

from interest_bot.plugins.interest.encoding.placement import from_pretrained_kwargs, resolve_device, resolve_quantization


def test_auto_device_is_cpu_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ValueError):
        resolve_device("mps")


def test_auto_device_prefers_gpu_when_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


def test_cpu_placement_arguments() -> None:
    kw = from_pretrained_kwargs("cpu", resolve_quantization("auto", "cpu"), {"cpu": "4GiB"}, ["pooler"])
    assert kw["device_map"] == {"": "cpu"}
    assert kw["max_memory"] == {"cpu": "4GiB"}
    assert kw["dtype"] is torch.float32
    assert "quantization_config" not in kw  # int8 on CPU is applied after loading (torch dynamic)
    assert resolve_quantization("4bit", "cpu") == "int8"


@pytest.mark.gpu
def test_cuda_int8_arguments_checked_without_gpu() -> None:
    kw = from_pretrained_kwargs("cuda", resolve_quantization("auto", "cuda"), {0: "6GiB", "cpu": "8GiB"}, ["pooler"])
    assert kw["device_map"] == "auto"
    assert kw["max_memory"] == {0: "6GiB", "cpu": "8GiB"}
    assert kw["dtype"] is torch.float16
    cfg = kw["quantization_config"]
    assert isinstance(cfg, BitsAndBytesConfig)
    assert cfg.load_in_8bit and not cfg.load_in_4bit
    assert cfg.llm_int8_skip_modules == ["pooler"]


@pytest.mark.gpu
def test_cuda_4bit_arguments_checked_without_gpu() -> None:
    kw = from_pretrained_kwargs("cuda", "4bit", None, ["lm_head"])
    assert kw["device_map"] == "auto" and "max_memory" not in kw
    cfg = kw["quantization_config"]
    assert cfg.load_in_4bit and not cfg.load_in_8bit
    assert cfg.bnb_4bit_quant_type == "nf4"
    assert cfg.bnb_4bit_compute_dtype is torch.float16
    assert cfg.llm_int8_skip_modules == ["lm_head"]


@pytest.mark.gpu
def test_chat_model_on_cuda_defaults_to_4bit(monkeypatch: pytest.MonkeyPatch) -> None:
    from interest_bot.bot.config import Settings
    from interest_bot.bot.models import llm_quantization

    assert llm_quantization(Settings(), "cuda") == "4bit"
    assert llm_quantization(Settings(quantization="int8"), "cuda") == "int8"
    assert llm_quantization(Settings(), "cpu") == "none"


@pytest.mark.gpu
def test_encoder_passes_cuda_arguments_to_from_pretrained(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drive TorchEncoder's CUDA branch on CPU, capturing what it hands to transformers."""
    import transformers

    from interest_bot.plugins.interest.encoding import encoder as enc_mod

    captured: dict = {}
    real = transformers.AutoModel.from_pretrained

    def spy(path, **kwargs):
        captured.update(kwargs)
        return real(path)  # load on CPU without the GPU-only arguments

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", spy)
    encoder = enc_mod.TorchEncoder(device="auto", quantization="auto", max_memory={0: "2GiB"})
    assert encoder.device == "cuda" and encoder.quantization == "int8"
    assert captured["device_map"] == "auto" and captured["max_memory"] == {0: "2GiB"}
    assert captured["quantization_config"].load_in_8bit
    assert captured["quantization_config"].llm_int8_skip_modules == ["pooler"]
