"""Forget and export cover every conversation thread of a user, and only theirs, in every deployment: SQLite or
PostgreSQL, a process that served chats or one that never did, the server or the CLI."""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from test_postgres import db_url, pg  # noqa: F401 - the module's throwaway cluster and a fresh database per test

from bench.pg import PgCluster, pg_available
from interest_bot.bot.agent import AgentBundle, open_checkpointer
from interest_bot.bot.chat import ChatService
from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services

CLI = str(Path(sys.executable).with_name("interest-bot"))
MARK = "zebracorn-westerns"  # a phrase no catalog or model writes: where it is found, the user's text is
needs_pg = pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries missing: apt-get install -y postgresql")


class NotedModel(GenericFakeChatModel):
    """Always answers "Noted." and ignores tools."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> NotedModel:
        return self


def _model() -> NotedModel:
    return NotedModel(messages=itertools.repeat("Noted."))


def _settings(data_dir: Path, sql_url: str = "") -> Settings:
    return Settings.without_env_file(data_dir=data_dir, sql_url=sql_url, device="cpu")


def _chat(settings: Settings, turns: list[tuple[str, str]]) -> None:
    """Write conversations the way the bot does (a ChatService on the configured checkpointer), without a plugin."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver

    saver = open_checkpointer(settings)
    assert isinstance(saver, SqliteSaver | PostgresSaver)  # conversations at rest (store_text is on)
    model = _model()
    service = ChatService(AgentBundle(agent=create_agent(model, tools=[], checkpointer=saver), checkpointer=saver, plugin=None, model=model))
    for user, thread in turns:
        service.reply(user, f"I love {MARK} from {user} in {thread}", thread)
    saver.conn.close()


def _pg_dump(pg: PgCluster, url: str) -> str:  # noqa: F811
    """The whole database as SQL text (bytea columns in hex)."""
    return pg._run("pg_dump", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", url.rsplit("/", 1)[1]).stdout


def _marked(dump: str, user: str) -> bool:
    """True when the dump still holds a row of this user's threads. Their words are sealed under their key (item 11),
    so no dump holds the text itself (as text, or hex inside a blob)."""
    assert MARK not in dump and MARK.encode().hex() not in dump, "conversation text stored unsealed"
    return re.search(rf"(^|\t){re.escape(user)}::", dump, re.M) is not None


def _sqlite_threads(data_dir: Path) -> set[str]:
    """Thread ids that still have a checkpoint or a pending write in conversations.sqlite."""
    with sqlite3.connect(data_dir / "conversations.sqlite") as conn:
        rows = conn.execute("SELECT thread_id FROM checkpoints UNION SELECT thread_id FROM writes").fetchall()
    return {r[0] for r in rows}


# -- item 7: a process that never chatted, and the CLI, forget conversations too ------------------------------------
@needs_pg
def test_postgres_forget_in_a_process_that_served_no_chat(plugin, prepared_data_dir: Path, pg: PgCluster, db_url: str) -> None:  # noqa: F811
    settings = _settings(prepared_data_dir, db_url)
    _chat(settings, [("pg-alice", "default"), ("pg-alice", "work"), ("pg-bob", "default")])
    assert _marked(_pg_dump(pg, db_url), "pg-alice")
    fresh = Services(settings, plugin=plugin, chat_model=_model())  # another replica: it has served no chat
    exported = fresh.conversations("pg-alice")
    assert {c["thread"] for c in exported} == {"default", "work"}
    assert MARK in json.dumps(exported)
    assert fresh.forget_user("pg-alice") == 2
    dump = _pg_dump(pg, db_url)
    assert not _marked(dump, "pg-alice"), "pg-alice's words are still in PostgreSQL"
    assert _marked(dump, "pg-bob")
    assert fresh.conversations("pg-alice") == []


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=needs_pg)])
def test_cli_export_lists_and_forget_deletes_conversations(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = request.getfixturevalue("db_url") if backend == "postgres" else ""
    _chat(_settings(data, url), [("cli-alice", "default"), ("cli-alice", "work"), ("cli-bob", "default")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBOT_")}
    env.update(IBOT_DATA_DIR=str(data), IBOT_SQL_URL=url, ANONYMIZED_TELEMETRY="False")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CLI, "memory", *args], env=env, capture_output=True, text=True, timeout=300)

    out = cli("export", "cli-alice")
    assert out.returncode == 0, out.stderr[-3000:]
    conversations = json.loads(out.stdout)["conversations"]
    assert {c["thread"] for c in conversations} == {"default", "work"}
    assert all(MARK in c["messages"][0]["content"] for c in conversations)
    out = cli("forget", "cli-alice")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "2 conversation thread(s)" in out.stdout and "Verified nothing is left" in out.stdout
    assert json.loads(cli("export", "cli-alice").stdout)["conversations"] == []
    if backend == "sqlite":
        assert _sqlite_threads(data) == {"cli-bob::default"}
    else:
        pg_cluster = request.getfixturevalue("pg")
        dump = _pg_dump(pg_cluster, url)
        assert not _marked(dump, "cli-alice") and _marked(dump, "cli-bob")


# -- item 8: threads have an owner; forget and export use it ----------------------------------------------------------
def test_forget_takes_only_the_users_own_threads(plugin, prepared_data_dir: Path) -> None:
    """Forgetting `alice` leaves `alice::x` (a valid user id) alone, and reads no other user's checkpoints."""
    settings = _settings(prepared_data_dir)
    _chat(settings, [("alice", "default"), ("alice", "x"), ("alice::x", "default"), ("alice::x", "work")])
    services = Services(settings, plugin=plugin, chat_model=_model())
    saver = services.chat_for(plugin).bundle.checkpointer

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("forget listed checkpoints: it must look up the user's threads, not scan everyone's")

    saver.list = no_scan
    assert services.forget_user("alice") == 2
    assert _sqlite_threads(prepared_data_dir) == {"alice::x::default", "alice::x::work"}
    assert {c["thread"] for c in services.conversations("alice::x")} == {"default", "work"}
    assert services.conversations("alice") == []


def test_http_export_returns_every_thread(plugin, prepared_data_dir: Path) -> None:
    services = Services(_settings(prepared_data_dir), plugin=plugin, chat_model=_model())
    client = TestClient(create_app(services=services, ui=False), base_url="http://127.0.0.1", client=("127.0.0.1", 1))
    for thread in ("default", "holiday"):
        r = client.post("/v1/chat", json={"user_id": "threads", "message": f"{MARK} in {thread}", "thread": thread})
        assert r.status_code == 200, r.text
    conversations = client.get("/v1/users/threads/export").json()["conversations"]
    assert {c["thread"]: c["messages"][0]["content"] for c in conversations} == {"default": f"{MARK} in default", "holiday": f"{MARK} in holiday"}
    assert client.delete("/v1/users/threads").json()["threads_deleted"] == 2
    assert client.get("/v1/users/threads/export").json()["conversations"] == []


def test_threads_written_before_owners_were_kept_are_attributed_by_id(plugin, prepared_data_dir: Path) -> None:
    """A conversations.sqlite from an older version (checkpoints, no owners table): its threads are still found."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(prepared_data_dir / "conversations.sqlite", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    model = _model()
    agent = create_agent(model, tools=[], checkpointer=saver)
    for tid in ("old::default", "old::trip", "old::x::default"):  # the last is user `old::x`, thread `default`
        agent.invoke({"messages": [{"role": "user", "content": f"{MARK} in {tid}"}]}, {"configurable": {"thread_id": tid}})
    conn.close()
    services = Services(_settings(prepared_data_dir), plugin=plugin, chat_model=_model())
    assert {c["thread"] for c in services.conversations("old")} == {"default", "trip"}
    assert services.forget_user("old") == 2
    assert _sqlite_threads(prepared_data_dir) == {"old::x::default"}
    assert [c["thread"] for c in services.conversations("old::x")] == ["default"]
