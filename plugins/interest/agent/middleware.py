"""LangChain 1.x agent middleware: observe each human turn, steer the model, append recommendations.

    agent = create_agent(model, middleware=[InterestMiddleware(plugin)], context_schema=InterestContext)
    agent.invoke({"messages": [("user", "I love westerns")]}, context=InterestContext(user_id="alice"))
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NotRequired

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.runtime import Runtime

from ..ranking.titles import title_variants
from .context import InterestContext as InterestContext  # re-exported: hosts import it with the middleware
from .context import context_user_id
from .guarded_model import GuardedChatModel
from .intent import asks_for_recommendations, opts_out
from .reply_guard import ReplyGuard
from .reply_prompt import (
    MAX_SENTENCES,
    Card,
    ReplyBrief,
    ReplyStyle,
    annotate,
    clean_field,
    examples,
    mood_asked,
    said_as,
    system_prompt,
    title_as_said,
    typed_names,
    typed_words,
    unlabelled_terms,
)

if TYPE_CHECKING:
    from interest_bot.memory.signals import InterestSignal

    from ..plugin import InterestPlugin, TurnResult
    from ..ranking.recommender import Recommendation

_GREETINGS = {"good morning", "good afternoon", "good evening", "good night", "good day", "hello", "hi", "hey", "howdy", "welcome"}
Policy = Literal["every_turn", "on_change", "on_request"]
BLOCK_TITLE = "Recommended for you"
MAX_CARD_TITLE_CHARS = 120  # the longest MovieLens title is 74
# A category read without the user's own word for it is said back by name only when the reading is this sure
# ("Anything with John Wayne" -> westerns); weaker guesses ("help me find a movie" -> Children's) are not voiced.
SURE_PREFERENCE = 0.9
SURE_POLARITY = 0.6
SAID_POLARITY = 0.3


class InterestState(AgentState[Any]):
    """Agent state plus what the middleware decided for the current turn and the cards shown in this thread."""

    interest_turn: NotRequired[dict[str, Any]]
    interest_shown: NotRequired[list[dict[str, str]]]


def _last_human(messages: Sequence[AnyMessage]) -> HumanMessage | None:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message
    return None


def format_block(recommendations: Sequence[Recommendation]) -> str:
    """The deterministic block appended to a reply: one line per item with its first reason."""
    lines = [f"**{BLOCK_TITLE}**"]
    for rec in recommendations:
        reason = rec.reasons[0] if rec.reasons else ""
        # Catalog text is data from whoever wrote the catalog: one capped line, no markup that could turn into a link.
        lines.append(f"- {clean_field(rec.title, MAX_CARD_TITLE_CHARS)}" + (f" ({clean_field(reason, 2 * MAX_CARD_TITLE_CHARS)})" if reason else ""))
    return "\n".join(lines)


def _strip_block(message: AnyMessage) -> AnyMessage:
    """An earlier reply as the model should see it: its own words, without the card block (small models copy lists)."""
    if not isinstance(message, AIMessage) or f"**{BLOCK_TITLE}**" not in message.text:
        return message
    return AIMessage(content=message.text.split(f"**{BLOCK_TITLE}**")[0].strip(), id=message.id)


class InterestMiddleware(AgentMiddleware[InterestState, Any]):
    """Captures interests from every human turn and injects ranked recommendations into the reply."""

    state_schema = InterestState

    def __init__(
        self, plugin: InterestPlugin, k: int = 5, policy: Policy = "every_turn", tools: bool = False, reply_style: ReplyStyle = "free"
    ) -> None:
        super().__init__()
        self.plugin = plugin
        self.k = k
        self.policy: Policy = policy
        self.tools = []
        if tools:
            from .retriever import recommend_tool  # it imports the plugin module (and torch): only for tool-calling models

            self.tools = [recommend_tool(plugin)]
        # "short" for tiny local models (worked examples, two sentences, the reply started with the user's words:
        # the backend must continue a final assistant message, as LocalChatModel does); "free" for capable ones.
        # Both are guarded.
        self.reply_style: ReplyStyle = reply_style

    # -- once per turn: observe and rank ---------------------------------------------------------
    def _turn(self, state: Mapping[str, Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        human = _last_human(state.get("messages", []))
        if human is None:
            return None
        previous = state.get("interest_turn") or {}
        if human.id and previous.get("message_id") == human.id:
            return None  # this human message was handled already (retry or resumed run)
        user_id = context_user_id(runtime.context)
        text = human.text
        turn = self.plugin.turn(user_id, text, k=self.k)
        recs = turn.recommendations
        show = not opts_out(text) and bool(recs) and (
            self.policy == "every_turn"
            or (self.policy == "on_change" and turn.changed)
            or asks_for_recommendations(text)
        )
        brief = self._brief(text, turn, recs if show else [])
        shown = list(state.get("interest_shown") or [])
        if show:
            shown += [{"item_id": rec.item_id, "title": rec.title} for rec in recs]
        return {
            "interest_turn": {
                "message_id": human.id,
                "user_id": user_id,
                "signals": [self.plugin.signal_to_dict(signal) for signal in turn.signals],
                "show": show,
                "appended": False,
                "brief": brief.to_dict(),
                "recommendations": [rec.to_dict() for rec in recs] if show else [],
            },
            "interest_shown": shown,
        }

    def _brief(self, text: str, turn: TurnResult, recs: list[Recommendation]) -> ReplyBrief:
        """What the model is told this turn: the reading of the message, the profile, the cards."""
        likes: list[str] = []
        dislikes: list[str] = []
        said: dict[bool, dict[str, str]] = {True: {}, False: {}}  # polarity -> {name: the user's words for it}
        plain: dict[bool, dict[str, str]] = {True: {}, False: {}}  # polarity -> {name: its plain name, not typed}
        signals = turn.signals
        for signal in signals:
            name = self._signal_name(signal)
            if not name or signal.polarity == 0:
                continue
            (likes if signal.polarity > 0 else dislikes).append(name)
            if abs(signal.polarity) < SAID_POLARITY:
                continue  # too weak a reading to say back either way
            sure = signal.preference >= SURE_PREFERENCE and abs(signal.polarity) >= SURE_POLARITY
            words = title_as_said(name, text) if signal.item_id else said_as(name, signal.text or text, sure)
            if words and name not in said[signal.polarity > 0] and name not in plain[signal.polarity > 0]:
                in_text = re.search(rf"\b{re.escape(words)}\b", text, re.I) is not None
                (said if in_text else plain)[signal.polarity > 0][name] = words
        typed = self._typed_titles(text)
        names = [n for n in typed_names(text) if n.lower() not in {t.lower() for t in typed}]
        unlabelled = unlabelled_terms(text, self.plugin.categories)
        going_by = [c for signal in signals if signal.polarity > 0 and signal.item_id is None for c in [signal.top_category] if c]
        return ReplyBrief(
            likes=tuple(dict.fromkeys(likes)),
            dislikes=tuple(dict.fromkeys(dislikes)),
            said_likes=tuple(dict.fromkeys(said[True].values())),
            said_dislikes=tuple(dict.fromkeys(said[False].values())),
            said_titles=tuple(typed),
            said_names=tuple(names),
            said_words=tuple(w for w in typed_words(text, self.plugin.categories) if not any(w.lower() in t.lower() for t in [*typed, *names])),
            plain_likes=tuple(dict.fromkeys(plain[True].values())),
            plain_dislikes=tuple(dict.fromkeys(plain[False].values())),
            mood=mood_asked(text),
            known_likes=tuple(turn.likes),
            known_dislikes=tuple(turn.dislikes),
            cards=tuple(Card(rec.title, tuple(rec.categories)) for rec in recs),
            unlabelled=tuple(unlabelled) if recs else (),
            going_by=tuple(dict.fromkeys(going_by)),
            new_user=turn.new_user,
        )

    def _typed_titles(self, text: str) -> list[str]:
        """Catalog titles named in the user's message, as they typed them (linked, or distinctive in any case)."""
        said = (title_as_said(title, text) for title in self.plugin.titles_typed(text))
        # "Good morning. My grandson ..." names the catalog's Good Morning only by accident: a greeting is no title.
        return list(dict.fromkeys(t for t in said if not text.lower().lstrip().startswith(t.lower()) or t.lower() not in _GREETINGS))

    def _signal_name(self, signal: InterestSignal) -> str | None:
        """How a signal is named to the model: the item's title, else the category read."""
        return self.plugin.item_title(signal.item_id) if signal.item_id else signal.top_category

    def before_agent(self, state: InterestState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Observe the newest human message once and decide this turn's recommendations."""
        return self._turn(state, runtime)

    async def abefore_agent(self, state: InterestState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async variant: the plugin's work runs in a thread so the event loop stays free."""
        return await asyncio.to_thread(self._turn, state, runtime)

    # -- every model call: steer with the user's interests ---------------------------------------
    def _guard(self, state: Mapping[str, Any], brief: ReplyBrief) -> ReplyGuard:
        """The turn's guard: titles shown in this thread, the user's own lines and tool results may be repeated."""
        shown = state.get("interest_shown") or []
        said = [m.text for m in state.get("messages", []) if isinstance(m, HumanMessage | ToolMessage)]
        allowed = [v for item in shown for v in [item["title"], *title_variants(item["title"])]]
        ids = {item["item_id"] for item in shown} | {item for line in said for item in self.plugin.items_named(line)}
        # The reply is checked strictly: any catalog title it contains, in any case, must have been shown or typed.
        return ReplyGuard(
            allowed_text=[*allowed, *said],
            allowed_ids=ids,
            link=self.plugin.items_named,
            vocabulary=[*brief.vocabulary(), *self.plugin.categories],
        )

    def _steer(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        """This turn's system prompt and messages, and the model behind the reply guard."""
        state: Mapping[str, Any] = request.state  # the agent's state: InterestState's keys too
        turn = state.get("interest_turn") or {}
        if "brief" not in turn:
            return request
        brief = ReplyBrief.from_dict(turn["brief"])
        style = self.reply_style
        base = request.system_message.text if request.system_message else ""
        messages = [_strip_block(m) for m in request.messages]
        for i in range(len(messages) - 1, -1, -1):
            if isinstance(messages[i], HumanMessage):
                messages[i] = HumanMessage(annotate(messages[i].text, brief, style), id=messages[i].id)
                break
        shots: list[AnyMessage] = []
        for user, reply in examples(style):
            shots += [HumanMessage(user), AIMessage(reply)]
        guarded = GuardedChatModel(
            inner=request.model,
            guard=self._guard(dict(request.state), brief),
            max_sentences=MAX_SENTENCES[style],
            fallback=brief.fallback(),
            # A tiny model is started on the user's own words for their taste, so its reply answers them.
            opening=brief.opening() if style == "short" else "",
        )
        return request.override(
            model=guarded,
            system_message=SystemMessage((base + "\n\n" + system_prompt(brief, style)).strip()),
            messages=[*shots, *messages],
        )

    def wrap_model_call(self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]) -> ModelResponse[Any]:
        """Put interests and candidate items into the system prompt."""
        return handler(self._steer(request))

    async def awrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]]
    ) -> ModelResponse[Any]:
        """Async variant of wrap_model_call."""
        return await handler(self._steer(request))

    # -- after the final answer: append the block and count impressions -------------------------
    def _append(self, state: Mapping[str, Any]) -> dict[str, Any] | None:
        turn = dict(state.get("interest_turn") or {})
        messages = state.get("messages", [])
        if not turn.get("show") or turn.get("appended") or not messages:
            return None
        last = messages[-1]
        if not isinstance(last, AIMessage) or last.tool_calls:
            return None
        recs = [self.plugin.recommendation_from_dict(r) for r in turn["recommendations"]]
        text = last.text.rstrip()
        going_by = ReplyBrief.from_dict(turn["brief"]).going_by_line()
        block = (f"_{going_by}_\n\n" if going_by else "") + format_block(recs)
        reply = AIMessage(content=f"{text}\n\n{block}".strip(), id=last.id, response_metadata=last.response_metadata)
        self.plugin.record_impressions(turn["user_id"], recs)
        turn["appended"] = True
        return {"messages": [reply], "interest_turn": turn}

    def after_model(self, state: InterestState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Append "Recommended for you" to the final AI message, once."""
        return self._append(state)

    async def aafter_model(self, state: InterestState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async variant of after_model."""
        return await asyncio.to_thread(self._append, state)
