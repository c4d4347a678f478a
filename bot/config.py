"""Application settings (env prefix IBOT_, `.env` supported), mapped onto the plugin's PluginConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from interest_bot.plugins.interest.config import PluginConfig


class Settings(BaseSettings, PluginConfig):
    """Everything an operator can set, from the environment or a `.env` file: the plugin's fields (PluginConfig,
    declared once, there) and the application's own below."""

    model_config = SettingsConfigDict(env_prefix="IBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # `local` = SmolLM2-135M-Instruct (default), `hf:<local path>`, `openai:<model>`.
    chat_backend: str = "local"
    openai_base_url: str = ""
    openai_api_key: str = Field(default="", repr=False)
    # With store_text off, conversations live in process: at most this many threads, the least recently written go first.
    max_memory_threads: int = Field(default=1000, ge=1)
    host: str = "127.0.0.1"
    port: int = 7860
    max_new_tokens: int = 96
    # Chat requests one process admits at once (running or waiting for the model); more get 429 + Retry-After,
    # so slow generations never hold every worker thread. An OpenAI-compatible backend times out after this.
    chat_queue: int = Field(default=8, ge=1)
    openai_timeout_s: float = Field(default=60.0, gt=0)
    # Optional bearer key for /v1 (empty = no key; the server then binds loopback by default).
    api_key: str = Field(default="", repr=False)
    # Who may call /v1 (bot/auth.py): none (loopback only), service (IBOT_API_KEY), user (tokens signed with IBOT_AUTH_SECRET).
    auth: Literal["none", "service", "user"] = "none"
    auth_secret: str = Field(default="", repr=False)
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

    @classmethod
    def without_env_file(cls, **values: Any) -> Settings:
        """Settings from the environment and `values` only, ignoring any `.env` file (tests, embedding hosts)."""
        return cls(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic-settings' init option, unseen by mypy

    def plugin_config(self) -> PluginConfig:
        """The plugin's view of these settings: its own fields, as set here."""
        return PluginConfig.model_validate(self.model_dump(include=set(PluginConfig.model_fields)))
