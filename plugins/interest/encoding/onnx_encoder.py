"""MiniLM as an int8 ONNX graph on onnxruntime: the CPU encoder `encoder.load_encoder` returns by default."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .placement import ResolvedDevice

MAX_TOKENS = 128  # MiniLM was trained on 128-token inputs; longer clauses are truncated.


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence vectors from token states: mean over the unmasked tokens, then L2 normalization."""
    m = mask[..., None].astype(np.float32)
    pooled: np.ndarray = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return pooled.astype(np.float32, copy=False)


class OnnxInt8Encoder:
    """MiniLM as an int8 ONNX graph (built by `onnx_int8`), the MiniLM tokenizer and mean pooling."""

    def __init__(self, onnx_file: Path, tokenizer_path: Path, threads: int | None = None, identity: str = "onnx-int8") -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.path = tokenizer_path
        self.device: ResolvedDevice = "cpu"
        self.quantization = "int8"
        self.identity = identity
        self.onnx_file = onnx_file
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_path, local_files_only=True)
        opts = ort.SessionOptions()
        # Two intra-op threads where there are two cores (measured here on the packaged model: one message
        # 4.9 -> 2.7 ms p50, batches 254 -> 468 clauses/s); threads=1 (IBOT_ENCODER_THREADS) leaves the second core free.
        opts.intra_op_num_threads = int(threads or min(2, os.cpu_count() or 1))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self.session.get_inputs()]
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts in batches: mean pooling over tokens, then L2 normalization."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Batches of similar lengths pad less (attention cost grows with the padded length); order restored below.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        out = []
        with self._lock:
            for start in range(0, len(ordered), batch_size):
                batch = self.tokenizer(
                    ordered[start : start + batch_size], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np"
                )
                feeds = {name: np.asarray(batch[name], dtype=np.int64) for name in self._inputs if name in batch}
                if "token_type_ids" in self._inputs and "token_type_ids" not in feeds:
                    feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
                out.append(mean_pool(self.session.run(None, feeds)[0], feeds["attention_mask"]))
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        result[order] = np.concatenate(out)
        return result
