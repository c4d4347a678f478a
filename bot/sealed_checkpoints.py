"""Conversation checkpoints sealed under their owner's key (memory/keyring.py), so forget's shred covers them too.

LangGraph's own EncryptedSerializer takes one key for every thread, and a serializer is never told which thread it
writes. So the saver's two writing methods (put, put_writes) name the thread's owner in a context variable, and the
serializer seals for that owner. The owner is written into the type tag ("<type>+u1:<user>", the shape LangGraph's
EncryptedSerializer uses for its cipher name): reading needs no context, and the thread id column names the user in
clear already. A value without the tag is a checkpoint from before encryption and is read as it is.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.base import SerializerProtocol

from interest_bot.memory.keyring import Keyring

_TAG = "+u1:"
_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar("checkpoint_owner", default=None)


def thread_owner(thread_id: str) -> str:
    """The user a thread id `<user>::<thread>` belongs to (thread names never hold ':'; user ids may)."""
    user, sep, _ = str(thread_id).rpartition("::")
    return user if sep and user else str(thread_id)


class SealedSerializer(SerializerProtocol):
    """Wraps a serializer: what it writes for a known owner is sealed under that owner's key."""

    def __init__(self, inner: SerializerProtocol, keyring: Keyring) -> None:
        self.inner = inner
        self.keyring = keyring

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize, then seal for the owner the saver named (plain only where no thread is being written)."""
        typ, data = self.inner.dumps_typed(obj)
        owner = _owner.get()
        if owner is None:  # a saver's in-memory conversion (PostgreSQL's migration of old pending sends), not a write
            return typ, data
        return f"{typ}{_TAG}{owner}", self.keyring.seal(owner, data)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Open (KeyShreddedError once the owner is forgotten), then deserialize."""
        tag, blob = data
        typ, sep, owner = tag.partition(_TAG)
        if not sep:
            return self.inner.loads_typed(data)
        return self.inner.loads_typed((typ, self.keyring.unseal(owner, blob)))


def _naming_owner(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(config: Any, *args: Any, **kwargs: Any) -> Any:
        token = _owner.set(thread_owner(config["configurable"]["thread_id"]))
        try:
            return method(config, *args, **kwargs)
        finally:
            _owner.reset(token)

    return wrapper


def seal_checkpoints(saver: BaseCheckpointSaver, keyring: Keyring) -> BaseCheckpointSaver:
    """The same saver (its type unchanged: owners_for looks at it), writing every checkpoint sealed for its owner."""
    saver.serde = SealedSerializer(saver.serde, keyring)
    saver.put = _naming_owner(saver.put)  # type: ignore[method-assign]
    saver.put_writes = _naming_owner(saver.put_writes)  # type: ignore[method-assign]
    return saver
