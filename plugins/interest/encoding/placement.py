"""Device selection and the accelerate/bitsandbytes arguments every torch model is loaded with."""

from __future__ import annotations

from typing import Any, Literal

import torch

ResolvedDevice = Literal["cpu", "cuda"]


def resolve_device(device: str = "auto") -> ResolvedDevice:
    """Pick the device: `auto` means CUDA when a GPU is visible, else CPU."""
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("IBOT_DEVICE=cuda but no CUDA device is visible; use IBOT_DEVICE=auto or cpu.")
        return "cuda"
    if device != "auto":
        raise ValueError(f"unknown device {device!r}: expected auto, cpu or cuda")
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_quantization(quantization: str, device: ResolvedDevice) -> str:
    """Map `auto` onto what fits the device: int8 everywhere (dynamic on CPU, bitsandbytes on CUDA)."""
    if quantization not in {"auto", "int8", "4bit", "none"}:
        raise ValueError(f"unknown quantization {quantization!r}: expected auto, int8, 4bit or none")
    if quantization == "auto":
        return "int8"
    if quantization == "4bit" and device == "cpu":
        # bitsandbytes 4-bit runs on CPU but slower than fp32 here; int8 dynamic is the CPU's quantizer.
        return "int8"
    return quantization


def from_pretrained_kwargs(
    device: ResolvedDevice,
    quantization: str,
    max_memory: dict[str | int, str] | None = None,
    skip_modules: list[str] | None = None,
) -> dict[str, Any]:
    """The exact keyword arguments for `from_pretrained`: accelerate placement, bitsandbytes on CUDA."""
    # Models load from local paths only: the hub is never contacted, whatever the host's environment says.
    kwargs: dict[str, Any] = {"low_cpu_mem_usage": True, "local_files_only": True}
    if device == "cuda":
        kwargs["device_map"] = "auto"
        if max_memory:
            kwargs["max_memory"] = dict(max_memory)
        kwargs["dtype"] = torch.float16
        if quantization in {"int8", "4bit"}:
            from transformers import BitsAndBytesConfig

            if quantization == "int8":
                cfg = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip_modules)
            else:
                cfg = BitsAndBytesConfig(
                    load_in_4bit=True,
                    bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=torch.float16,
                    bnb_4bit_use_double_quant=True,
                    llm_int8_skip_modules=skip_modules,
                )
            kwargs["quantization_config"] = cfg
    else:
        # accelerate still places the model (one device); int8 on CPU is applied after loading.
        kwargs["device_map"] = {"": "cpu"}
        if max_memory:
            kwargs["max_memory"] = dict(max_memory)
        kwargs["dtype"] = torch.float32
    return kwargs
