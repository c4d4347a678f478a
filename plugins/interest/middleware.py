"""LangChain 1.x agent middleware: observe each human turn, steer the model, append recommendations.

    agent = create_agent(model, middleware=[InterestMiddleware(plugin)], context_schema=InterestContext)
    agent.invoke({"messages": [("user", "I love westerns")]}, context=InterestContext(user_id="alice"))
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from typing_extensions import NotRequired

from .intent import asks_for_recommendations, opts_out

Policy = Literal["every_turn", "on_change", "on_request"]
BLOCK_TITLE = "Recommended for you"


@dataclass
class InterestContext:
    """Runtime context the agent is invoked with: whose memory to use."""

    user_id: str


class InterestState(AgentState):
    """Agent state plus what the middleware decided for the current turn (checkpointed with it)."""

    interest_turn: NotRequired[dict[str, Any]]


def _user_id(runtime: Any) -> str:
    context = getattr(runtime, "context", None)
    user_id = context.get("user_id") if isinstance(context, dict) else getattr(context, "user_id", None)
    if not user_id:
        raise ValueError("InterestMiddleware needs the agent's runtime context to carry a user_id (context_schema=InterestContext)")
    return str(user_id)


def _last_human(messages: list[BaseMessage]) -> HumanMessage | None:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message
    return None


def format_block(recommendations: list[Any]) -> str:
    """The deterministic block appended to a reply: one line per item with its first reason."""
    lines = [f"**{BLOCK_TITLE}**"]
    for rec in recommendations:
        reason = rec.reasons[0] if rec.reasons else ""
        lines.append(f"- {rec.title}" + (f" ({reason})" if reason else ""))
    return "\n".join(lines)


def format_system_context(likes: list[str], dislikes: list[str], recommendations: list[Any], cold_hint: str | None) -> str:
    """What the model is told about the user and the items, so it can talk about them."""
    parts = []
    if likes:
        parts.append("The user likes: " + ", ".join(likes) + ".")
    if dislikes:
        parts.append("The user dislikes: " + ", ".join(dislikes) + ".")
    if cold_hint:
        parts.append(cold_hint)
    if recommendations:
        titles = "; ".join(rec.title for rec in recommendations)
        parts.append(f"Items you may suggest: {titles}. Do not invent other titles.")
    return " ".join(parts)


class InterestMiddleware(AgentMiddleware):
    """Captures interests from every human turn and injects ranked recommendations into the reply."""

    state_schema = InterestState

    def __init__(self, plugin: Any, k: int = 5, policy: Policy = "every_turn", tools: bool = False) -> None:
        super().__init__()
        self.plugin = plugin
        self.k = k
        self.policy: Policy = policy
        self.tools = [plugin.recommend_tool()] if tools else []

    # -- once per turn: observe and rank ---------------------------------------------------------
    def _turn(self, state: dict[str, Any], runtime: Any) -> dict[str, Any] | None:
        human = _last_human(state.get("messages", []))
        if human is None:
            return None
        previous = state.get("interest_turn") or {}
        if human.id and previous.get("message_id") == human.id:
            return None  # this human message was handled already (retry or resumed run)
        user_id = _user_id(runtime)
        text = human.text if hasattr(human, "text") else str(human.content)
        before = self.plugin.interest_fingerprint(user_id)
        signals = self.plugin.observe(user_id, text)
        changed = self.plugin.interest_fingerprint(user_id) != before
        recs = self.plugin.recommend(user_id, k=self.k)
        show = not opts_out(text) and bool(recs) and (
            self.policy == "every_turn"
            or (self.policy == "on_change" and changed)
            or asks_for_recommendations(text)
        )
        likes, dislikes = self.plugin.top_interests(user_id)
        return {
            "interest_turn": {
                "message_id": human.id,
                "user_id": user_id,
                "signals": [self.plugin.signal_to_dict(signal) for signal in signals],
                "show": show,
                "appended": False,
                "system": format_system_context(likes, dislikes, recs if show else [], self.plugin.cold_start_hint(user_id)),
                "recommendations": [rec.to_dict() for rec in recs] if show else [],
            }
        }

    def before_agent(self, state: InterestState, runtime: Any) -> dict[str, Any] | None:
        """Observe the newest human message once and decide this turn's recommendations."""
        return self._turn(state, runtime)

    async def abefore_agent(self, state: InterestState, runtime: Any) -> dict[str, Any] | None:
        """Async variant: the plugin's work runs in a thread so the event loop stays free."""
        return await asyncio.to_thread(self._turn, state, runtime)

    # -- every model call: steer with the user's interests ---------------------------------------
    @staticmethod
    def _steer(request: ModelRequest) -> ModelRequest:
        turn = request.state.get("interest_turn") or {}
        extra = turn.get("system")
        if not extra:
            return request
        base = request.system_message.text if request.system_message else ""
        return request.override(system_message=SystemMessage((base + "\n\n" + extra).strip()))

    def wrap_model_call(self, request: ModelRequest, handler: Any) -> ModelResponse:
        """Put interests and candidate items into the system prompt."""
        return handler(self._steer(request))

    async def awrap_model_call(self, request: ModelRequest, handler: Any) -> ModelResponse:
        """Async variant of wrap_model_call."""
        return await handler(self._steer(request))

    # -- after the final answer: append the block and count impressions -------------------------
    def _append(self, state: dict[str, Any]) -> dict[str, Any] | None:
        turn = dict(state.get("interest_turn") or {})
        messages = state.get("messages", [])
        if not turn.get("show") or turn.get("appended") or not messages:
            return None
        last = messages[-1]
        if not isinstance(last, AIMessage) or last.tool_calls:
            return None
        recs = [self.plugin.recommendation_from_dict(r) for r in turn["recommendations"]]
        text = (last.text if hasattr(last, "text") else str(last.content)).rstrip()
        reply = AIMessage(content=f"{text}\n\n{format_block(recs)}".strip(), id=last.id, response_metadata=last.response_metadata)
        self.plugin.record_impressions(turn["user_id"], recs)
        turn["appended"] = True
        return {"messages": [reply], "interest_turn": turn}

    def after_model(self, state: InterestState, runtime: Any) -> dict[str, Any] | None:
        """Append "Recommended for you" to the final AI message, once."""
        return self._append(state)

    async def aafter_model(self, state: InterestState, runtime: Any) -> dict[str, Any] | None:
        """Async variant of after_model."""
        return await asyncio.to_thread(self._append, state)
