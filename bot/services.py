"""What the server composes once: plugins per catalog, the chat model and agents, metrics and auth."""

from __future__ import annotations

import hmac
import threading
from typing import Any

from fastapi import HTTPException, Request

from .config import Settings
from .metrics import Metrics


class CatalogMissingError(RuntimeError):
    """The configured catalog has not been ingested yet."""


class Services:
    """Lazily opened parts of the app, shared by the API and the UI."""

    def __init__(self, settings: Settings, plugin: Any | None = None, chat_model: Any | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._plugin = plugin
        self._plugins: dict[str, Any] = {}
        self._chats: dict[str, Any] = {}
        self._model = chat_model
        self._checkpointer: Any | None = None
        self._lock = threading.RLock()

    # -- plugin ------------------------------------------------------------------------------------
    @property
    def plugin(self) -> Any:
        """The plugin on the default catalog, opened on first use."""
        with self._lock:
            if self._plugin is None:
                from interest_bot.plugins.interest.plugin import InterestPlugin

                plugin = InterestPlugin.open(config=self.settings.plugin_config())
                plugin.add_listener(self.metrics.on_event)
                self._plugin = plugin
            return self._plugin

    def catalogs(self) -> list[str]:
        """Names of the ingested catalogs."""
        return self.plugin.catalogs()

    def plugin_for(self, catalog: str | None) -> Any:
        """The plugin for a catalog (KeyError when it is not ingested)."""
        base = self.plugin
        if not catalog or catalog == base.catalog_name:
            return base
        with self._lock:
            if catalog not in self._plugins:
                if catalog not in base.catalogs():
                    raise KeyError(catalog)
                self._plugins[catalog] = base.with_catalog(catalog)
            return self._plugins[catalog]

    # -- chat ----------------------------------------------------------------------------------------
    def chat_for(self, plugin: Any) -> Any:
        """The chat service (agent) for a plugin; the chat model and checkpointer are shared."""
        from .agent import build_agent, open_checkpointer
        from .chat import ChatService
        from .models import load_chat_model

        with self._lock:
            name = plugin.catalog_name
            if name not in self._chats:
                if self._model is None:
                    self._model = load_chat_model(self.settings)
                if self._checkpointer is None:
                    self._checkpointer = open_checkpointer(self.settings)
                bundle = build_agent(self.settings, plugin, model=self._model, checkpointer=self._checkpointer)
                self._chats[name] = ChatService(bundle)
            return self._chats[name]

    def conversations(self, user_id: str) -> list[dict[str, Any]]:
        """The user's stored conversation (default thread) for export."""
        if self._checkpointer is None and not (self.settings.data_dir / "conversations.sqlite").exists():
            return []
        return self.chat_for(self.plugin).history(user_id)

    def forget_conversations(self, user_id: str) -> int:
        """Delete the user's conversation threads."""
        if self._checkpointer is None and not (self.settings.data_dir / "conversations.sqlite").exists():
            return 0
        return self.chat_for(self.plugin).forget(user_id)

    # -- auth ------------------------------------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        """Check the bearer key when IBOT_API_KEY is set."""
        key = self.settings.api_key
        if not key:
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(token.encode(), key.encode()):
            raise HTTPException(401, "missing or wrong bearer key", headers={"WWW-Authenticate": "Bearer"})

    def resolve_user(self, request: Request, user_id: str) -> str:
        """The user a request acts for (the service key trusts the caller's user id)."""
        return user_id
