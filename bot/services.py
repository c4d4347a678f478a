"""What the server composes once: plugins per catalog, the chat model and agents, metrics and auth."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import zlib
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request

from .auth import AuthConfigError, TokenError, TokenExpiredError, bearer_token, check_auth_settings, effective_mode, issued_before, token_claims
from .config import Settings
from .local_llm import LocalChatModel
from .metrics import Metrics

if TYPE_CHECKING:  # opened lazily: importing them pulls in LangGraph, torch and the models
    from interest_bot.plugins.interest.plugin import InterestPlugin

    from .conversations import Conversations


TURN_LOCK_STRIPES = 256


class Services:
    """Lazily opened parts of the app, shared by the API and the UI."""

    def __init__(self, settings: Settings, plugin: InterestPlugin | None = None, chat_model: Any | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._plugin = plugin
        self._plugins: dict[str, InterestPlugin] = {}
        self._chats: dict[str, Any] = {}
        self._model = chat_model
        self._conversations: Conversations | None = None  # opened on first need, without the chat model
        self._lock = threading.RLock()
        # One turn at a time per user, and forget waits for it: striped, so memory stays bounded however many
        # users come (two users sharing a stripe only queue, as they would behind the one model anyway).
        self._turn_locks = [threading.Lock() for _ in range(TURN_LOCK_STRIPES)]
        self.metrics.registry.register(_ClickThroughCollector(self))
        if plugin is not None:
            self._compose(plugin)

    # -- plugin ------------------------------------------------------------------------------------
    @property
    def plugin(self) -> InterestPlugin:
        """The plugin on the default catalog, opened on first use."""
        with self._lock:
            if self._plugin is None:
                from interest_bot.plugins.interest.plugin import InterestPlugin

                plugin = InterestPlugin.open(config=self.settings.plugin_config())
                self._compose(plugin)
                self._plugin = plugin
            return self._plugin

    def _compose(self, plugin: InterestPlugin) -> InterestPlugin:
        """Wire a plugin into the app: metrics events, and the A/B test when IBOT_AB_TEST is on (a plugin opened
        here gets it from its PluginConfig; one handed in by a caller is switched on)."""
        plugin.add_listener(self.metrics.on_event)  # once: the plugin ignores a listener it already has
        if self.settings.ab_test:
            plugin.enable_ab_test()
        return plugin

    def catalogs(self) -> list[str]:
        """Names of the ingested catalogs."""
        return self.plugin.catalogs()

    def plugin_for(self, catalog: str | None) -> InterestPlugin:
        """The plugin for a catalog (KeyError when it is not ingested)."""
        base = self.plugin
        if not catalog or catalog == base.catalog_name:
            return base
        with self._lock:
            if catalog not in self._plugins:
                if catalog not in base.catalogs():
                    raise KeyError(catalog)
                sibling = base.with_catalog(catalog)
                if self.settings.ab_test:
                    sibling.enable_ab_test()
                self._plugins[catalog] = sibling
            return self._plugins[catalog]

    # -- chat ----------------------------------------------------------------------------------------
    def chat_for(self, plugin: InterestPlugin) -> Any:
        """The chat service (agent) for a plugin; the chat model and the conversations store are shared."""
        from .agent import build_agent
        from .chat import ChatService
        from .models import load_chat_model

        with self._lock:
            name = plugin.catalog_name
            if name not in self._chats:
                if self._model is None:
                    self._model = load_chat_model(self.settings)
                store = self.conversation_store(create=True)
                assert store is not None  # create=True always opens one
                bundle = build_agent(self.settings, plugin, model=self._model, checkpointer=store.checkpointer)
                self._chats[name] = ChatService(bundle, store)
            return self._chats[name]

    def conversation_store(self, create: bool = False) -> Conversations | None:
        """The users' conversation threads, opened without the chat model: a process that never chatted still
        exports and forgets them. None when `create` is off and no store that could hold any exists yet."""
        from .agent import checkpoints_may_exist, open_checkpointer
        from .conversations import Conversations

        s = self.settings
        with self._lock:
            if self._conversations is None:
                if not create and not checkpoints_may_exist(s.data_dir, s.sql_url, s.store_text):
                    return None
                self._conversations = Conversations(open_checkpointer(s))
            return self._conversations

    def conversations(self, user_id: str) -> list[dict[str, Any]]:
        """Every conversation thread of the user, for export: `[{"thread", "messages"}]`."""
        store = self.conversation_store()
        return store.export(user_id) if store is not None else []

    def history(self, user_id: str) -> list[dict[str, str]]:
        """The user's default thread, oldest message first (the UI restores it on reload)."""
        store = self.conversation_store()
        return store.history(user_id) if store is not None else []

    def turn_lock(self, user_id: str) -> threading.Lock:
        """The lock a chat turn of this user holds from start to finish, and forget takes before deleting."""
        return self._turn_locks[zlib.crc32(user_id.encode("utf-8")) % TURN_LOCK_STRIPES]

    def forget_user(self, user_id: str) -> int:
        """Forget the user's memory and conversations once no turn of theirs is in flight; returns threads deleted."""
        with self.turn_lock(user_id):
            self.plugin.forget(user_id)
            if isinstance(self._model, LocalChatModel):
                self._model.drop_cache()  # the prompt cache may hold this user's last conversation
            return self.forget_conversations(user_id)

    def forget_conversations(self, user_id: str) -> int:
        """Delete the user's conversation threads (every thread they own, whoever served them)."""
        store = self.conversation_store()
        return store.forget(user_id) if store is not None else 0

    # -- auth ------------------------------------------------------------------------------------------
    @property
    def auth_mode(self) -> str:
        """none, service or user (bot/auth.py): IBOT_AUTH, or `service` when only IBOT_API_KEY is set."""
        return effective_mode(self.settings)

    def check_auth(self) -> str:
        """Raise AuthConfigError when the mode lacks its key or secret (the app then refuses to start)."""
        return check_auth_settings(self.settings)

    def authorize(self, request: Request) -> None:
        """Router-level dependency of /v1: check the credential the mode asks for; fail closed."""
        mode = self.auth_mode
        request.state.ibot_user = None
        if mode == "none":
            return
        credential = bearer_token(request.headers.get("authorization"))
        challenge = {"WWW-Authenticate": "Bearer"}
        if mode == "service":
            if not self.settings.api_key:  # check_auth refuses this at start; never serve open by accident
                raise HTTPException(503, "the server has no API key configured (IBOT_API_KEY)")
            if not self.is_api_key(credential):
                raise HTTPException(401, "missing or wrong bearer key", headers=challenge)
            return
        if not credential:
            raise HTTPException(401, "missing bearer token: send `Authorization: Bearer <user token>`", headers=challenge)
        try:
            claims = token_claims(self.settings.auth_secret, credential)
        except TokenExpiredError:
            raise HTTPException(401, "the user token has expired", headers=challenge) from None
        except (TokenError, AuthConfigError):
            raise HTTPException(401, "invalid user token", headers=challenge) from None
        # Read from the SQL store on every request: a forget on another replica revokes here at once.
        if issued_before(claims, self.plugin.forgotten_at(claims["sub"])):
            raise HTTPException(401, "the user was forgotten after this token was issued: get a new token", headers=challenge)
        request.state.ibot_user = claims["sub"]

    def is_api_key(self, credential: str) -> bool:
        """True when `credential` is IBOT_API_KEY (never when no key is set); compared in constant time."""
        key = self.settings.api_key
        given = hashlib.sha256(credential.encode("utf-8", "surrogateescape")).digest()
        return bool(key and credential) and hmac.compare_digest(given, hashlib.sha256(key.encode()).digest())

    def authorize_ops(self, authorization: str | None, public: bool, setting: str) -> None:
        """Guard an operator route (/metrics, the API docs): open under `none` or when `setting` opened it, else the API key."""
        if public or self.auth_mode == "none":
            return  # under none, LoopbackOnly already keeps everyone but this machine out
        if not self.is_api_key(bearer_token(authorization)):
            how = "send `Authorization: Bearer <IBOT_API_KEY>`" if self.settings.api_key else "set IBOT_API_KEY and send it as a bearer key"
            raise HTTPException(401, f"this route is for the operator: {how}, or set {setting}=true to open it", headers={"WWW-Authenticate": "Bearer"})

    def resolve_user(self, request: Request, user_id: str) -> str:
        """The user a request acts for: the caller's id under none/service, and only the token's own id under user."""
        if self.auth_mode != "user":
            return user_id
        principal = getattr(request.state, "ibot_user", None)
        if principal is None:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(str(user_id).encode("utf-8", "surrogateescape"), principal.encode()):
            raise HTTPException(403, "this token belongs to another user")
        return principal


class _ClickThroughCollector:
    """Scrape-time gauges from the impressions table: shown, clicked and click-through per A/B variant."""

    def __init__(self, services: Services, ttl_s: float = 15.0) -> None:
        self.services = services
        # The aggregate reads the whole (capped) impressions table: a burst of scrapes shares one read per ttl_s.
        self.ttl_s = ttl_s
        self._cached: tuple[float, dict[str, dict[str, float]]] | None = None

    def _stats(self, plugin: Any) -> dict[str, dict[str, float]]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.ttl_s:
            try:
                self._cached = (now, plugin.click_through())
            except Exception:  # a scrape must not fail because the store is busy
                return {}
        return self._cached[1]

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        plugin = self.services._plugin  # never open the plugin just to be scraped
        shown = GaugeMetricFamily("ibot_ab_impressions", "Stored impressions per variant", labels=["variant"])
        clicks = GaugeMetricFamily("ibot_ab_clicks", "Impressions followed by a like, per variant", labels=["variant"])
        ctr = GaugeMetricFamily("ibot_click_through_ratio", "Clicks / impressions per variant", labels=["variant"])
        if plugin is not None:
            for variant, row in sorted(self._stats(plugin).items()):
                shown.add_metric([variant], row["impressions"])
                clicks.add_metric([variant], row["clicks"])
                ctr.add_metric([variant], row["ctr"])
        yield from (shown, clicks, ctr)
