"""The plugin's own configuration; the application maps its settings onto it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

# The one default for how long a chat message may be (API, UI and classifier read it from the config).
DEFAULT_MAX_MESSAGE_CHARS = 4000

Device = Literal["auto", "cpu", "cuda"]
Quantization = Literal["auto", "int8", "4bit", "none"]


class PluginConfig(BaseModel):
    """Everything the interest plugin needs to know; independent of the app's settings."""

    data_dir: Path = Path("./data")
    catalog: str = "movielens-100k"
    device: Device = "auto"
    quantization: Quantization = "auto"
    # Per-device memory budget for accelerate, e.g. {"cpu": "4GiB", 0: "6GiB"}; empty = let accelerate decide.
    max_memory: dict[str | int, str] = Field(default_factory=dict)
    encoder_path: Path | None = None
    # Where the CPU int8 encoder is built once; None = IBOT_MODEL_CACHE or the user's cache dir.
    model_cache: Path | None = None
    chroma_url: str = ""
    sql_url: str = ""
    # Collaborative neighbours the scorer reads per item and direction (top-M by follow weight; read-time, no rebuild).
    count_neighbours: int = Field(default=1000, ge=1)
    store_text: bool = True
    # Users whose profile state a process keeps in memory (least recently used clean ones are dropped and read back).
    max_cached_users: int = Field(default=10_000, ge=1)
    # Impression rows kept for click-through (the newest; each recommendation shown adds k of them).
    max_impressions: int = Field(default=1_000_000, ge=1)
    short_half_life_days: float = 1.0
    long_half_life_days: float = 90.0
    max_message_chars: int = Field(default=DEFAULT_MAX_MESSAGE_CHARS, ge=16)
    # Clauses below this preference ("hello, how are you?") are analyzed but not remembered.
    min_preference: float = 0.5
    # Clause embeddings kept in an LRU cache (0 = off) and concurrent encoder calls batched together.
    embedding_cache: int = 4096
    batch_encoder: bool = True
    # A/B test of two recommender configurations (experiments.py), by a stable hash of the user id.
    ab_test: bool = False
