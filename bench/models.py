"""Chat-model load time: from the packaged GGUF (what every start would cost) vs the prepared safetensors cache."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import write_result


def main() -> None:
    """Measure both loads side by side in one run and the encoder load."""
    from transformers import AutoModelForCausalLM

    from interest_bot.bot.models import prepare_local_model, smollm_gguf
    from interest_bot.plugins.interest.encoding.encoder import load_encoder

    gguf = smollm_gguf()
    started = time.perf_counter()
    AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = prepare_local_model(Path(tmp))
        prepare_s = time.perf_counter() - started
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            AutoModelForCausalLM.from_pretrained(path, device_map={"": "cpu"})
            loads.append(time.perf_counter() - started)
        # The int8 encoder's first start builds it (export, rewrite, check); later starts load the cached file.
        started = time.perf_counter()
        load_encoder(device="cpu", cache_dir=Path(tmp) / "encoder-cache")
        encoder_build_s = time.perf_counter() - started
    started = time.perf_counter()
    load_encoder(device="cpu")
    encoder_s = time.perf_counter() - started
    write_result(
        "models",
        {
            "chat_load_from_gguf_s": round(gguf_s, 2),
            "chat_prepare_s": round(prepare_s, 2),
            "chat_load_prepared_s": round(sorted(loads)[1], 3),
            "encoder_build_int8_s": round(encoder_build_s, 2),
            "encoder_load_int8_s": round(encoder_s, 2),
        },
    )


if __name__ == "__main__":
    main()
