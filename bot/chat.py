"""One chat turn through the agent, whole or streamed, and forgetting a user's conversations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from interest_bot.plugins.interest.middleware import InterestContext

from .agent import AgentBundle


@dataclass
class ChatTurn:
    """What one turn produced."""

    reply: str
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)


def thread_id(user_id: str, thread: str = "default") -> str:
    """Conversation key: one user may keep several threads; no two users share one."""
    return f"{user_id}::{thread}"


class ChatService:
    """Runs turns for users; the agent's checkpointer keeps each user's history."""

    def __init__(self, bundle: AgentBundle) -> None:
        self.bundle = bundle

    def _args(self, user_id: str, message: str, thread: str) -> tuple[dict, dict, InterestContext]:
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

    def history(self, user_id: str, thread: str = "default") -> list[dict[str, str]]:
        """The stored conversation of one thread, oldest first."""
        saved = self.bundle.checkpointer.get_tuple({"configurable": {"thread_id": thread_id(user_id, thread)}})
        if saved is None:
            return []
        messages = saved.checkpoint["channel_values"].get("messages", [])
        return [{"role": "user" if m.type == "human" else "assistant", "content": m.text} for m in messages if m.type in {"human", "ai"}]

    def forget(self, user_id: str) -> int:
        """Delete every conversation thread of the user; returns how many threads were removed."""
        prefix = thread_id(user_id, "")
        threads = {
            t.config["configurable"]["thread_id"]
            for t in self.bundle.checkpointer.list(None)
            if t.config["configurable"]["thread_id"].startswith(prefix)
        }
        for tid in threads:
            self.bundle.checkpointer.delete_thread(tid)
        return len(threads)
