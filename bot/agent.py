"""Builds the LangChain agent: chat model + InterestMiddleware + a conversation checkpointer."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.language_models.chat_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver

from interest_bot.memory.keyring import Keyring
from interest_bot.memory.sqldb import sql_location
from interest_bot.plugins.interest.agent.context import InterestContext
from interest_bot.plugins.interest.agent.middleware import InterestMiddleware

from .bounded_saver import MAX_THREADS, BoundedMemorySaver
from .config import Settings
from .sealed_checkpoints import seal_checkpoints


class TrimHistory(AgentMiddleware):
    """Send the model only the latest messages: small local models lose the thread in long contexts."""

    def __init__(self, max_messages: int = 6) -> None:
        super().__init__()
        self.max_messages = max_messages

    def _trim(self, request: ModelRequest) -> ModelRequest:
        return request.override(messages=request.messages[-self.max_messages :])

    def wrap_model_call(self, request: ModelRequest, handler: Any) -> ModelResponse:
        """Trim, then call the model."""
        return handler(self._trim(request))

    async def awrap_model_call(self, request: ModelRequest, handler: Any) -> ModelResponse:
        """Async variant."""
        return await handler(self._trim(request))


def open_checkpointer(settings: Settings) -> BaseCheckpointSaver:
    """SQLite in the data dir, Postgres when IBOT_SQL_URL says so, memory only when text must not be stored."""
    return open_checkpointer_at(settings.data_dir, settings.sql_url, settings.store_text, settings.max_memory_threads)


def is_postgres(sql_url: str) -> bool:
    """True when IBOT_SQL_URL names a PostgreSQL database."""
    return sql_url.startswith(("postgres://", "postgresql://"))


def checkpoints_may_exist(data_dir: Path, sql_url: str, store_text: bool) -> bool:
    """Whether a store any process could have written checkpoints to exists (without creating one)."""
    if not store_text:
        return False  # in-process only: nothing outlives the process that chatted
    return is_postgres(sql_url) or (Path(data_dir) / "conversations.sqlite").exists()


def open_checkpointer_at(data_dir: Path, sql_url: str, store_text: bool, max_threads: int = MAX_THREADS) -> BaseCheckpointSaver:
    """open_checkpointer from the three settings it reads (the CLI has no full Settings to hand)."""
    if not store_text:
        return BoundedMemorySaver(max_threads)  # nothing at rest: it never leaves the process
    # The keys live where the plugin keeps them (the counts' location), so its forget shreds these too.
    keyring = Keyring.open(sql_location(data_dir, sql_url))
    if is_postgres(sql_url):
        return seal_checkpoints(_postgres_checkpointer(sql_url), keyring)
    from langgraph.checkpoint.sqlite import SqliteSaver

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data_dir / "conversations.sqlite", check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return seal_checkpoints(saver, keyring)


# Advisory lock key held while the checkpoint tables are created, so processes starting together never race.
_PG_SETUP_LOCK = 0x1B07C4E7


def _postgres_checkpointer(url: str) -> BaseCheckpointSaver:
    """LangGraph's PostgresSaver on a small connection pool (reconnects after a database restart)."""
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import DictRow, dict_row
        from psycopg_pool import ConnectionPool
    except ImportError as exc:  # pragma: no cover - depends on the optional install
        raise RuntimeError("IBOT_SQL_URL points at Postgres: `pip install 'interest-bot[postgres]'`") from exc
    # PostgresSaver needs autocommit and dict rows; prepare_threshold=0 keeps it usable behind pgbouncer.
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    with Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_PG_SETUP_LOCK,))
        try:
            PostgresSaver(conn).setup()  # idempotent migrations
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_SETUP_LOCK,))
    pool = ConnectionPool(url, kwargs=kwargs, min_size=1, max_size=4, check=ConnectionPool.check_connection, open=True)
    return PostgresSaver(cast("ConnectionPool[Connection[DictRow]]", pool))  # its connections are made with dict_row (kwargs)


@dataclass
class AgentBundle:
    """The compiled agent and the parts the app needs to reach again."""

    agent: Any
    checkpointer: BaseCheckpointSaver
    plugin: Any
    model: BaseChatModel


def tool_capable(settings: Settings) -> bool:
    """Only remote (OpenAI-compatible) models get tools; small local ones ignore them."""
    return settings.chat_backend.startswith("openai:")


def build_agent(
    settings: Settings,
    plugin: Any,
    model: BaseChatModel | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
) -> AgentBundle:
    """create_agent(model, tools, middleware=[InterestMiddleware(plugin)], checkpointer, context_schema)."""
    from .models import load_chat_model

    model = model or load_chat_model(settings)
    checkpointer = checkpointer or open_checkpointer(settings)
    with_tools = tool_capable(settings)
    middleware = InterestMiddleware(
        plugin, k=settings.recommend_k, policy=settings.recommend_policy, tools=with_tools, reply_style=settings.resolved_reply_style
    )
    agent = create_agent(
        model,
        tools=list(middleware.tools),
        # The interest middleware writes the system prompt: the reply rules and the turn's facts.
        # History is trimmed first (outermost), so the middleware's worked examples are never trimmed away.
        middleware=cast("list[AgentMiddleware[Any, Any, Any]]", [TrimHistory(), middleware]),
        checkpointer=checkpointer,
        context_schema=InterestContext,
    )
    return AgentBundle(agent=agent, checkpointer=checkpointer, plugin=plugin, model=model)
