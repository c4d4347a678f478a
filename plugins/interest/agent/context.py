"""Whose memory an agent run uses: the runtime context the host invokes the agent with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from uuid import UUID

from interest_bot.memory.userid import InvalidUserIdError, validate_user_id


@dataclass
class InterestContext:
    """Runtime context the agent is invoked with: whose memory to use."""

    user_id: str


@runtime_checkable
class HasUserId(Protocol):
    """Any host context object that names the user (InterestContext, or the host's own dataclass)."""

    @property
    def user_id(self) -> object:
        """The user's id: a string, or a number or UUID standing for its text."""
        ...


def context_user_id(context: HasUserId | Mapping[str, object] | None) -> str:
    """The user id a runtime context carries (an object with `user_id`, or a dict; a number or UUID as its text);
    InvalidUserIdError when it has none or the id is not a safe one."""
    user_id = context.get("user_id") if isinstance(context, Mapping) else context.user_id if isinstance(context, HasUserId) else None
    if isinstance(user_id, int | UUID) and not isinstance(user_id, bool):
        user_id = str(user_id)  # hosts that key users by number or UUID: the id is its text
    if not user_id:
        raise InvalidUserIdError("the agent's runtime context must carry a user_id (context_schema=InterestContext, or a dict with user_id)")
    return validate_user_id(user_id)
