"""Text at rest is sealed with a per-user key, and forget shreds the key first.

Real Chroma, real SQLite, the real plugin and the real checkpointer path (a fake chat model stands in for the LLM)."""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langgraph.checkpoint.sqlite import SqliteSaver
from test_postgres import db_url, pg  # noqa: F401 - the module's throwaway cluster and a fresh database per test

from bench.pg import PgCluster, pg_available
from interest_bot.bot.agent import AgentBundle, open_checkpointer
from interest_bot.bot.chat import ChatService
from interest_bot.bot.config import Settings
from interest_bot.bot.services import Services
from interest_bot.memory.chroma import open_client
from interest_bot.memory.event_layout import unpack
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.keyring import Keyring, KeyShreddedError
from interest_bot.memory.signals import InterestSignal

MARK = "zanzibarquokka"  # a word no catalog or model writes: where its bytes are found, the user's text is


class NotedModel(GenericFakeChatModel):
    """Always answers "Noted." and ignores tools."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> NotedModel:
        return self


def _model() -> NotedModel:
    return NotedModel(messages=itertools.repeat("Noted."))


def _files_holding(data_dir: Path, needles: list[bytes]) -> list[str]:
    """Files under the data dir (linked model dirs not followed) whose bytes contain any needle."""
    found = []
    for root, _, files in os.walk(data_dir):
        for name in files:
            path = Path(root) / name
            if path.is_symlink():
                continue
            blob = path.read_bytes()
            if any(n in blob for n in needles):
                found.append(str(path.relative_to(data_dir)))
    return found


def _exemplars(profile: Any) -> list[str]:
    """The clause texts a profile keeps as its clusters' exemplars."""
    return [t for c in profile.positive + profile.negative for t in c.texts]


def _key_hex(data_dir: Path, user: str) -> str:
    """The user's data key as stored in counts.sqlite (read straight from the file)."""
    with sqlite3.connect(data_dir / "counts.sqlite") as conn:
        row = conn.execute("SELECT data_key FROM user_keys WHERE user_key = ?", (hashlib.sha256(user.encode()).hexdigest(),)).fetchone()
    assert row is not None, "no key stored for the user"
    return row[0]


# -- the keyring alone ------------------------------------------------------------------------------------------------
def test_keyring_round_trip_binds_the_user_and_shreds(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "keys.sqlite")
    try:
        token = ring.encrypt("alice", f"I love {MARK} films")
        assert token.startswith("e1:") and MARK not in token
        assert ring.decrypt("alice", token) == f"I love {MARK} films"
        assert ring.encrypt("alice", "same") != ring.encrypt("alice", "same")  # a fresh nonce every time
        ring.encrypt("bob", "bob's own")
        assert ring.decrypt("bob", token) is None  # the user id is associated data: another user's key and id fail
        raw = ring.seal("alice", b"bytes too")
        assert ring.unseal("alice", raw) == b"bytes too"

        assert ring.shred("alice") is True
        assert ring.decrypt("alice", token) is None
        with pytest.raises(KeyShreddedError):
            ring.unseal("alice", raw)
        again = ring.encrypt("alice", "after the forget")  # a returning user gets a new key; the old text stays noise
        assert ring.decrypt("alice", again) == "after the forget" and ring.decrypt("alice", token) is None
        assert ring.shred("nobody") is False
    finally:
        ring.close()
    reopened = Keyring.open(tmp_path / "keys.sqlite")  # the cache is not what keeps the key gone
    try:
        assert reopened.decrypt("alice", token) is None
    finally:
        reopened.close()


@pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries missing: apt-get install -y postgresql")
def test_postgres_keyring_shred_leaves_no_live_key(pg: PgCluster, db_url: str) -> None:  # noqa: F811
    """With IBOT_SQL_URL the keys live in PostgreSQL; a shred removes the live row (the dead tuple waits for VACUUM:
    README, Security)."""
    ring = Keyring.open(db_url)
    try:
        token = ring.encrypt("pg-alice", f"{MARK} on PostgreSQL")
        ring.encrypt("pg-bob", "bob stays")
        key_hex = ring._db.execute("SELECT data_key FROM user_keys WHERE user_key = ?", (hashlib.sha256(b"pg-alice").hexdigest(),)).fetchone()[0]
        dump = lambda: pg._run("pg_dump", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", db_url.rsplit("/", 1)[1]).stdout  # noqa: E731
        assert key_hex in dump() and MARK not in dump()
        assert ring.shred("pg-alice")
        assert key_hex not in dump() and ring.decrypt("pg-alice", token) is None
        assert ring.has_key("pg-bob")
    finally:
        ring.close()


# -- legacy data dirs --------------------------------------------------------------------------------------------------
def test_plaintext_records_from_before_encryption_still_read(tmp_path: Path) -> None:
    data = tmp_path / "data"
    client = open_client(data)
    vec = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    old = InterestMemory(client, shared=False)  # as written before keys existed: plaintext
    old.record("carol", [InterestSignal(text=f"old {MARK} text", embedding=vec, categories={"Drama": 0.9}, polarity=0.8, preference=0.7)])
    old.close()
    ring = Keyring.open(data / "counts.sqlite")
    new = InterestMemory(client, shared=False, keyring=ring)
    try:
        new.record("carol", [InterestSignal(text=f"new {MARK} text", embedding=vec, categories={"Drama": 0.9}, polarity=0.8, preference=0.7)])
        texts: list[str] = []
        for e in new.events("carol"):
            assert e.text is not None  # both records read back with their text
            texts.append(e.text)
        assert sorted(texts) == [f"new {MARK} text", f"old {MARK} text"]
        stored = [unpack(m)["text"] for m in new._events.get(where={"user_id": "carol"}, include=["metadatas"])["metadatas"]]
        assert sum(t.startswith("e1:") for t in stored) == 1
        new.flush()
        reader = InterestMemory(client, shared=True, keyring=ring)  # no cached state: the profile records are read back
        assert f"new {MARK} text" in _exemplars(reader.profile("carol"))
        reader.close()
    finally:
        new.close()
        ring.close()


# -- the whole system ------------------------------------------------------------------------------------------------
def test_text_at_rest_is_sealed_and_forget_shreds_the_key(plugin, prepared_data_dir: Path) -> None:
    user = "enc-alice"
    settings = Settings.without_env_file(data_dir=prepared_data_dir, device="cpu")
    signals = plugin.observe(user, f"I really love {MARK} documentaries and slow space operas.")
    assert any(s.text and MARK in s.text for s in signals), "the taste line was not captured with its text"
    saver = open_checkpointer(settings)
    assert isinstance(saver, SqliteSaver)  # no sql_url: conversations.sqlite
    model = _model()
    chat = ChatService(AgentBundle(agent=create_agent(model, tools=[], checkpointer=saver), checkpointer=saver, plugin=None, model=model))
    chat.reply(user, f"Tell me about {MARK} please")
    plugin.memory.flush()  # events out of the outbox into Chroma, profile (with exemplars) written

    # In no file of the data dir (Chroma, its WAL, the outbox, the conversations, the counts)...
    assert _files_holding(prepared_data_dir, [MARK.encode()]) == []
    # ...yet readable by the running system.
    assert any(MARK in (e.text or "") for e in plugin.memory.events(user))
    reader = InterestMemory(plugin.client, shared=True, keyring=plugin.memory.keyring)  # reads the stored profile records
    assert any(MARK in t for t in _exemplars(reader.profile(user)))
    services = Services(settings, plugin=plugin, chat_model=_model())
    assert any(MARK in m["content"] for t in services.conversations(user) for m in t["messages"])
    reader.close()

    key_hex = _key_hex(prepared_data_dir, user)
    token = next(t for m in plugin.memory._events.get(where={"user_id": user}, include=["metadatas"])["metadatas"] if (t := unpack(m).get("text")))
    assert token.startswith("e1:") and MARK in plugin.memory.keyring.decrypt(user, token)
    with sqlite3.connect(prepared_data_dir / "conversations.sqlite") as conn:
        blob = conn.execute("SELECT checkpoint FROM checkpoints WHERE thread_id = ?", (f"{user}::default",)).fetchone()[0]
    assert blob.startswith(b"e1:")

    services.forget_user(user)

    assert _files_holding(prepared_data_dir, [bytes.fromhex(key_hex), key_hex.encode(), key_hex.upper().encode()]) == []
    assert plugin.memory.keyring.decrypt(user, token) is None
    with pytest.raises(KeyShreddedError):
        plugin.memory.keyring.unseal(user, blob)
    saver.conn.close()
