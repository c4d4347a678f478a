"""One chat turn through the agent, whole or streamed, and forgetting a user's conversations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from interest_bot.plugins.interest.agent.context import InterestContext

from .agent import AgentBundle
from .conversations import DEFAULT_THREAD, Conversations, thread_id

__all__ = ["ChatService", "ChatTurn", "thread_id"]


@dataclass
class ChatTurn:
    """What one turn produced."""

    reply: str
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)


class ChatService:
    """Runs turns for users; the agent's checkpointer keeps each user's history."""

    def __init__(self, bundle: AgentBundle, conversations: Conversations | None = None) -> None:
        self.bundle = bundle
        self.conversations = conversations or Conversations(bundle.checkpointer)

    def _args(self, user_id: str, message: str, thread: str) -> tuple[dict, dict, InterestContext]:
        self.conversations.claim(user_id, thread)  # the owner is known before the thread's first checkpoint exists
        config = {"configurable": {"thread_id": thread_id(user_id, thread)}}
        return {"messages": [HumanMessage(message)]}, config, InterestContext(user_id=user_id)

    @staticmethod
    def _turn(state: dict[str, Any]) -> ChatTurn:
        final = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage)), None)
        turn = state.get("interest_turn") or {}
        return ChatTurn(
            reply=(final.text if final else "").strip(),
            recommendations=list(turn.get("recommendations", [])),
            signals=list(turn.get("signals", [])),
        )

    def reply(self, user_id: str, message: str, thread: str = "default") -> ChatTurn:
        """Run one turn and return the whole reply."""
        inputs, config, context = self._args(user_id, message, thread)
        return self._turn(self.bundle.agent.invoke(inputs, config, context=context))

    def stream(self, user_id: str, message: str, thread: str = "default") -> Iterator[dict[str, Any]]:
        """Yield `{"type": "token", "text"}` events as the model writes, then one `{"type": "done", ...}`."""
        inputs, config, context = self._args(user_id, message, thread)
        streamed, state = "", None
        for mode, payload in self.bundle.agent.stream(inputs, config, context=context, stream_mode=["messages", "values"]):
            if mode == "messages":
                chunk, _meta = payload
                if isinstance(chunk, AIMessageChunk) and chunk.text:
                    streamed += chunk.text
                    yield {"type": "token", "text": chunk.text}
            else:
                state = payload
        turn = self._turn(state or {"messages": []})
        # The recommendation block is appended after the model finished: send what the tokens lacked.
        if turn.reply.startswith(streamed.strip()) and len(turn.reply) > len(streamed.strip()):
            yield {"type": "token", "text": turn.reply[len(streamed.strip()) :]}
        yield {"type": "done", "reply": turn.reply, "recommendations": turn.recommendations, "signals": turn.signals}

    def history(self, user_id: str, thread: str = DEFAULT_THREAD) -> list[dict[str, str]]:
        """The stored conversation of one thread, oldest first."""
        return self.conversations.history(user_id, thread)

    def forget(self, user_id: str) -> int:
        """Delete every conversation thread of the user; returns how many threads were removed."""
        return self.conversations.forget(user_id)
