"""The plugin's own configuration; the application maps its settings onto it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from .ranking.config import RecommenderConfig

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
    # From the environment it is JSON (`{"cpu": "8GiB", "0": "10GiB"}`): digit keys become GPU indices.
    max_memory: dict[str | int, str] = Field(default_factory=dict)
    encoder_path: Path | None = None
    # Where the CPU int8 encoder is built once; None = $XDG_CACHE_HOME/interest-bot, else ~/.cache/interest-bot.
    model_cache: Path | None = None
    # Intra-op threads of the CPU encoder; 0 = two where there are two cores (1 leaves a core to other work).
    encoder_threads: int = Field(default=0, ge=0)
    # Either URL may carry a password: kept out of reprs (and so out of logs that print the config).
    chroma_url: str = Field(default="", repr=False)
    sql_url: str = Field(default="", repr=False)
    # Collaborative neighbours the scorer reads per item and direction (top-M by follow weight; read-time, no rebuild).
    count_neighbours: int = Field(default=1000, ge=1)
    store_text: bool = True
    # Users whose profile state a process keeps in memory (least recently used clean ones are dropped and read back).
    max_cached_users: int = Field(default=10_000, ge=1)
    # Impression rows kept for click-through (the newest; each recommendation shown adds k of them).
    max_impressions: int = Field(default=1_000_000, ge=1)
    # Catalog items whose ranking rows (title, categories, popularity, embedding) a process keeps: about 1.9 KB each.
    item_cache: int = Field(default=50_000, ge=1)
    short_half_life_days: float = 1.0
    long_half_life_days: float = 90.0
    # Bounded: title linking looks at every word run of what is read, so its cost grows faster than the length.
    max_message_chars: int = Field(default=DEFAULT_MAX_MESSAGE_CHARS, ge=16, le=100_000)
    # Clauses below this preference ("hello, how are you?") are analyzed but not remembered.
    min_preference: float = 0.5
    # Clause embeddings kept in an LRU cache (0 = off) and concurrent encoder calls batched together.
    embedding_cache: int = 4096
    batch_encoder: bool = True
    # A/B test of two recommender configurations (ranking/experiments.py), by a stable hash of the user id.
    ab_test: bool = False
    # How recommendations are scored: the blend, sequential rules and candidate sizes (ranking/config.py); from the
    # environment it is JSON, e.g. IBOT_RECOMMENDER='{"content": 0.4, "candidates": {"popular": 50}}'.
    recommender: RecommenderConfig = Field(default_factory=RecommenderConfig)

    @field_validator("max_memory")
    @classmethod
    def _gpu_indices(cls, value: dict[str | int, str]) -> dict[str | int, str]:
        return {(int(k) if isinstance(k, str) and k.isdigit() else k): v for k, v in value.items()}
