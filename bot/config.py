"""Application settings (env prefix IBOT_, `.env` supported), mapped onto the plugin's PluginConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from interest_bot.plugins.interest.config import DEFAULT_MAX_MESSAGE_CHARS, PluginConfig


class Settings(BaseSettings):
    """Everything an operator can set, from the environment or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="IBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Path("./data")
    catalog: str = "movielens-100k"
    # `local` = SmolLM2-135M-Instruct (default), `hf:<local path>`, `openai:<model>`.
    chat_backend: str = "local"
    openai_base_url: str = ""
    openai_api_key: str = Field(default="", repr=False)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    quantization: Literal["auto", "int8", "4bit", "none"] = "auto"
    # Per-device memory budget for accelerate, e.g. `{"cpu": "8GiB", "0": "10GiB"}` (JSON in the env var).
    max_memory: dict[str, str] = Field(default_factory=dict)
    encoder_path: Path | None = None
    # Where the int8 ONNX encoder is built once (empty = $XDG_CACHE_HOME/interest-bot or ~/.cache/interest-bot).
    model_cache: Path | None = None
    chroma_url: str = ""
    sql_url: str = ""
    count_neighbours: int = Field(default=1000, ge=1)
    store_text: bool = True
    # With store_text off, conversations live in process: at most this many threads, the least recently written go first.
    max_memory_threads: int = Field(default=1000, ge=1)
    # Users whose profile state a process keeps in memory (the least recently used clean ones are read back on return).
    max_cached_users: int = Field(default=10_000, ge=1)
    # Impression rows kept for click-through (the newest; each recommendation shown adds k of them).
    max_impressions: int = Field(default=1_000_000, ge=1)
    host: str = "127.0.0.1"
    port: int = 7860
    max_new_tokens: int = 96
    # Chat requests one process admits at once (running or waiting for the model); more get 429 + Retry-After,
    # so slow generations never hold every worker thread. An OpenAI-compatible backend times out after this.
    chat_queue: int = Field(default=8, ge=1)
    openai_timeout_s: float = Field(default=60.0, gt=0)
    max_message_chars: int = Field(default=DEFAULT_MAX_MESSAGE_CHARS, ge=16)
    # Optional bearer key for /v1 (empty = no key; the server then binds loopback by default).
    api_key: str = Field(default="", repr=False)
    # Who may call /v1 (bot/auth.py): none (loopback only), service (IBOT_API_KEY), user (tokens signed with IBOT_AUTH_SECRET).
    auth: Literal["none", "service", "user"] = "none"
    auth_secret: str = Field(default="", repr=False)
    # A/B test of two recommender configurations (plugins/interest/experiments.py), by a stable hash of the user id.
    ab_test: bool = False
    # When recommendations are appended to replies: every_turn, on_change or on_request.
    recommend_policy: Literal["every_turn", "on_change", "on_request"] = "every_turn"
    recommend_k: int = 5
    # How the chat model is asked to reply: `short` (worked examples, two sentences: for tiny local models),
    # `free` (two to four sentences), `auto` = short for the default local model, free for hf: and openai:.
    reply_style: Literal["auto", "short", "free"] = "auto"
    # Browser logins for the UI, `user:pass,user2:pass2`; empty = each browser gets its own signed identity.
    ui_auth: str = Field(default="", repr=False)
    # Off loopback under service/user auth the UI needs IBOT_UI_AUTH, or IBOT_UI_PUBLIC=true (anyone may chat,
    # each browser identity limited to IBOT_UI_TURNS_PER_MINUTE), or IBOT_SERVE_UI=false (the API only).
    ui_public: bool = False
    ui_turns_per_minute: int = Field(default=20, ge=1)
    serve_ui: bool = True
    # /metrics and the API docs (/docs, /redoc, /openapi.json) follow the auth mode: under service and user they take
    # the bearer key IBOT_API_KEY (a user's token does not open them). These open them to anyone, on purpose.
    metrics_public: bool = False
    docs_public: bool = False

    @field_validator("chat_backend")
    @classmethod
    def _check_backend(cls, value: str) -> str:
        if value == "local" or value.startswith(("hf:", "openai:")):
            return value
        raise ValueError("IBOT_CHAT_BACKEND must be `local`, `hf:<local path>` or `openai:<model>`")

    @property
    def resolved_reply_style(self) -> Literal["short", "free"]:
        """The reply style in force."""
        if self.reply_style != "auto":
            return self.reply_style
        return "short" if self.chat_backend == "local" else "free"

    @property
    def models_dir(self) -> Path:
        """Where prepared (converted) models are cached."""
        return self.data_dir / "models"

    def plugin_config(self) -> PluginConfig:
        """The plugin's view of these settings."""
        max_memory: dict[str | int, str] = {(int(k) if k.isdigit() else k): v for k, v in self.max_memory.items()}
        return PluginConfig(
            data_dir=self.data_dir,
            catalog=self.catalog,
            device=self.device,
            quantization=self.quantization,
            max_memory=max_memory,
            encoder_path=self.encoder_path,
            model_cache=self.model_cache,
            chroma_url=self.chroma_url,
            sql_url=self.sql_url,
            count_neighbours=self.count_neighbours,
            store_text=self.store_text,
            max_cached_users=self.max_cached_users,
            max_impressions=self.max_impressions,
            max_message_chars=self.max_message_chars,
            ab_test=self.ab_test,
        )
