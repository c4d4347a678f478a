"""A user's conversation threads: which user owns each thread, so forget and export find exactly theirs.

A thread id is `<user>::<thread>`, and user ids may contain `:` themselves (`alice::x` is a valid id), so a prefix
match on `alice::` would take `alice::x`'s threads too, and finding threads by scanning means reading every user's
checkpoints. Instead each thread's owner is written, before the thread's first checkpoint, to a small table in the
checkpointer's own SQL store (conversations.sqlite, or the PostgreSQL database), so every process and the CLI see it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from .bounded_saver import MAX_THREADS, BoundedMemorySaver
from .sealed_checkpoints import SealedSerializer

DEFAULT_THREAD = "default"
_PG_OWNERS_LOCK = 0x1B07C4E8  # advisory lock held while the owners table is created and back-filled


def thread_id(user_id: str, thread: str = DEFAULT_THREAD) -> str:
    """Conversation key: one user may keep several threads; no two users share one."""
    return f"{user_id}::{thread}"


def _split_legacy(tid: str) -> tuple[str, str] | None:
    """(user, thread) of a thread id written before owners were kept: thread names never contain ':'."""
    user, sep, thread = tid.rpartition("::")
    return (user, thread) if sep and user and thread and ":" not in thread else None


class ThreadOwners(Protocol):
    """Who owns which thread."""

    def claim(self, user_id: str, thread: str) -> None:
        """Record that the user owns the thread (idempotent)."""

    def threads(self, user_id: str) -> list[str]:
        """The user's thread names, sorted."""

    def release(self, user_id: str, threads: list[str]) -> None:
        """Forget that the user owned these threads."""


class MemoryOwners:
    """Owners of an in-process checkpointer's threads (IBOT_STORE_TEXT=false): they live and die with it. A thread
    the checkpointer drops is released here too; `max_threads` only backs that up (the least recently claimed go)."""

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        self.max_threads = max(1, int(max_threads))
        self._owned: OrderedDict[str, tuple[str, str]] = OrderedDict()  # thread id -> (user, thread)
        self._lock = threading.Lock()

    def claim(self, user_id: str, thread: str) -> None:
        """Record that the user owns the thread."""
        key = thread_id(user_id, thread)
        with self._lock:
            self._owned[key] = (user_id, thread)
            self._owned.move_to_end(key)
            while len(self._owned) > self.max_threads:
                self._owned.popitem(last=False)

    def threads(self, user_id: str) -> list[str]:
        """The user's thread names, sorted."""
        with self._lock:
            return sorted(t for u, t in self._owned.values() if u == user_id)

    def release(self, user_id: str, threads: list[str]) -> None:
        """Forget that the user owned these threads."""
        for t in threads:
            self.release_thread(thread_id(user_id, t))

    def release_thread(self, tid: str) -> None:
        """Forget a thread's owner by the thread id (the checkpointer dropped the thread)."""
        with self._lock:
            self._owned.pop(tid, None)

    def thread_count(self) -> int:
        """How many threads' owners are held."""
        with self._lock:
            return len(self._owned)


_CREATE = (
    "CREATE TABLE IF NOT EXISTS conversation_threads"
    " (thread_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, thread TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS conversation_threads_user ON conversation_threads (user_id)",
)


class SqliteOwners:
    """Owners in conversations.sqlite, on the checkpointer's own connection and lock."""

    def __init__(self, conn: sqlite3.Connection, lock: Any) -> None:
        self._conn, self._lock = conn, lock
        with self._lock:
            existed = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'conversation_threads'").fetchone()
            for statement in _CREATE:
                conn.execute(statement)
            if not existed:  # a store from before owners were kept: its thread ids still say whose they are
                legacy = [_split_legacy(r[0]) for r in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")]
                conn.executemany(
                    "INSERT OR IGNORE INTO conversation_threads VALUES (?, ?, ?)",
                    [(thread_id(u, t), u, t) for u, t in filter(None, legacy)],
                )
            conn.commit()

    def claim(self, user_id: str, thread: str) -> None:
        """Record that the user owns the thread."""
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO conversation_threads VALUES (?, ?, ?)", (thread_id(user_id, thread), user_id, thread))
            self._conn.commit()

    def threads(self, user_id: str) -> list[str]:
        """The user's thread names, sorted."""
        with self._lock:
            rows = self._conn.execute("SELECT thread FROM conversation_threads WHERE user_id = ? ORDER BY thread", (user_id,)).fetchall()
        return [r[0] for r in rows]

    def release(self, user_id: str, threads: list[str]) -> None:
        """Forget that the user owned these threads."""
        with self._lock:
            self._conn.executemany("DELETE FROM conversation_threads WHERE thread_id = ?", [(thread_id(user_id, t),) for t in threads])
            self._conn.commit()


class PostgresOwners:
    """Owners in the PostgreSQL database the checkpoints are in (autocommit connections, dict rows)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        with self._connection() as c, c.transaction():
            c.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_OWNERS_LOCK,))
            existed = c.execute("SELECT to_regclass('conversation_threads') AS t").fetchone()["t"]
            for statement in _CREATE:
                c.execute(statement)
            if not existed:  # a store from before owners were kept: its thread ids still say whose they are
                legacy = [_split_legacy(r["thread_id"]) for r in c.execute("SELECT DISTINCT thread_id FROM checkpoints").fetchall()]
                with c.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO conversation_threads VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        [(thread_id(u, t), u, t) for u, t in filter(None, legacy)],
                    )

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection: one from the pool, or the saver's single connection."""
        from psycopg_pool import ConnectionPool  # the Postgres driver loads only where Postgres is used

        if isinstance(self._conn, ConnectionPool):
            with self._conn.connection() as conn:
                yield conn
        else:
            yield self._conn

    def claim(self, user_id: str, thread: str) -> None:
        """Record that the user owns the thread."""
        with self._connection() as c:
            c.execute(
                "INSERT INTO conversation_threads VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (thread_id(user_id, thread), user_id, thread),
            )

    def threads(self, user_id: str) -> list[str]:
        """The user's thread names, sorted."""
        with self._connection() as c:
            rows = c.execute("SELECT thread FROM conversation_threads WHERE user_id = %s ORDER BY thread", (user_id,)).fetchall()
        return [r["thread"] for r in rows]

    def release(self, user_id: str, threads: list[str]) -> None:
        """Forget that the user owned these threads."""
        with self._connection() as c:
            c.execute("DELETE FROM conversation_threads WHERE thread_id = ANY(%s)", ([thread_id(user_id, t) for t in threads],))


def owners_for(checkpointer: BaseCheckpointSaver) -> ThreadOwners:
    """The owners table that lives where this checkpointer keeps its checkpoints."""
    from langgraph.checkpoint.postgres import PostgresSaver  # the Postgres driver loads only where a saver is opened

    if isinstance(checkpointer, SqliteSaver):
        return SqliteOwners(checkpointer.conn, checkpointer.lock)
    if isinstance(checkpointer, PostgresSaver):
        return PostgresOwners(checkpointer.conn)
    if isinstance(checkpointer, BoundedMemorySaver):
        owners = MemoryOwners(2 * checkpointer.max_threads)  # claimed threads not written yet need room too
        checkpointer.on_evict(owners.release_thread)
        return owners
    return MemoryOwners(MAX_THREADS)


class Conversations:
    """The users' conversation threads in a checkpointer: claimed when used, read, exported and deleted by owner."""

    def __init__(self, checkpointer: BaseCheckpointSaver, owners: ThreadOwners | None = None) -> None:
        self.checkpointer = checkpointer
        self.owners = owners or owners_for(checkpointer)

    def claim(self, user_id: str, thread: str = DEFAULT_THREAD) -> None:
        """Note the thread's owner; called before a turn writes the thread's checkpoint."""
        self.owners.claim(user_id, thread)

    def history(self, user_id: str, thread: str = DEFAULT_THREAD) -> list[dict[str, str]]:
        """The stored conversation of one thread, oldest first."""
        saved = self.checkpointer.get_tuple({"configurable": {"thread_id": thread_id(user_id, thread)}})
        if saved is None:
            return []
        messages = saved.checkpoint["channel_values"].get("messages", [])
        return [{"role": "user" if m.type == "human" else "assistant", "content": m.text} for m in messages if m.type in {"human", "ai"}]

    def export(self, user_id: str) -> list[dict[str, Any]]:
        """Every thread of the user with its messages: `[{"thread", "messages"}]`."""
        threads = [{"thread": t, "messages": self.history(user_id, t)} for t in self.owners.threads(user_id)]
        return [t for t in threads if t["messages"]]

    def forget(self, user_id: str) -> int:
        """Delete every thread of the user (checkpoints first, then ownership); returns how many."""
        threads = self.owners.threads(user_id)
        for thread in threads:
            self.checkpointer.delete_thread(thread_id(user_id, thread))
        self.owners.release(user_id, threads)  # only now: a crash before this leaves threads a retry still finds
        return len(threads)

    def remaining(self, user_id: str, threads: list[str]) -> list[str]:
        """Which of these threads still have an owner row or a checkpoint (empty after a complete forget)."""
        owned = set(self.owners.threads(user_id))
        return [t for t in threads if t in owned or self.checkpointer.get_tuple({"configurable": {"thread_id": thread_id(user_id, t)}}) is not None]

    def close(self) -> None:
        """Close the checkpointer's connection (SQLite) or pool (PostgreSQL), and release its keyring."""
        from langgraph.checkpoint.postgres import PostgresSaver

        if isinstance(self.checkpointer, SqliteSaver | PostgresSaver):
            self.checkpointer.conn.close()
        if isinstance(self.checkpointer.serde, SealedSerializer):
            self.checkpointer.serde.keyring.close()
