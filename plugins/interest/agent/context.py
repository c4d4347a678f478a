"""Whose memory an agent run uses: the runtime context the host invokes the agent with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from interest_bot.memory.userid import InvalidUserIdError, validate_user_id


@dataclass
class InterestContext:
    """Runtime context the agent is invoked with: whose memory to use."""

    user_id: str


@runtime_checkable
class HasUserId(Protocol):
    """Any host context object that names the user (InterestContext, or the host's own dataclass)."""

    user_id: str


def context_user_id(context: HasUserId | Mapping[str, object] | None) -> str:
    """The user id a runtime context carries (an object with `user_id`, or a dict); a clear error when it has none."""
    user_id = context.get("user_id") if isinstance(context, Mapping) else context.user_id if isinstance(context, HasUserId) else None
    if not user_id:
        raise InvalidUserIdError("the agent's runtime context must carry a user_id (context_schema=InterestContext, or a dict with user_id)")
    return validate_user_id(user_id)
