"""Whose memory an agent run uses: the user id read from the host's runtime context, whatever shape it has."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from interest_bot.memory.userid import InvalidUserIdError
from interest_bot.plugins.interest.agent.context import InterestContext, context_user_id


@dataclass
class HostContext:
    user_id: object
    tenant: str = "shop"


def test_the_shapes_a_host_passes() -> None:
    assert context_user_id(InterestContext(user_id="alice")) == "alice"
    assert context_user_id({"user_id": "bob", "other": 1}) == "bob"
    assert context_user_id(HostContext(user_id="carol")) == "carol"  # the host's own context class
    assert context_user_id(HostContext(user_id=42)) == "42"  # numbers and UUIDs stand for their text
    uid = uuid.UUID(int=1)
    assert context_user_id({"user_id": uid}) == str(uid)


@pytest.mark.parametrize("context", [None, {}, {"user_id": ""}, {"user_id": None}, HostContext(user_id=None), object()])
def test_a_context_without_a_user_is_a_clear_error(context: object) -> None:
    with pytest.raises(InvalidUserIdError, match="user_id"):
        context_user_id(context)  # type: ignore[arg-type]  # shapes a host may pass by mistake


@pytest.mark.parametrize("user_id", [True, 3.5, ["alice"], "bad id!", "x" * 1000])
def test_an_unsafe_or_odd_id_is_refused(user_id: object) -> None:
    with pytest.raises(InvalidUserIdError):
        context_user_id({"user_id": user_id})
