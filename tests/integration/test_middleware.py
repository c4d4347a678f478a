"""InterestMiddleware on a real plugin (real MiniLM, real Chroma); a scripted chat model stands in for the LLM."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from interest_bot.plugins.interest.agent.middleware import BLOCK_TITLE, InterestContext, InterestMiddleware


class ScriptedModel(GenericFakeChatModel):
    """A fake chat model that records the system prompt it was given."""

    seen_system: list[str] = []

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen_system.append(messages[0].text if messages and messages[0].type == "system" else "")
        return super()._generate(messages, stop, run_manager, **kwargs)


def _agent(plugin, replies: list[str], **kw):
    model = ScriptedModel(messages=iter(replies))
    model.seen_system = []
    agent = create_agent(
        model,
        system_prompt="You are helpful.",
        middleware=[InterestMiddleware(plugin, **kw)],
        checkpointer=InMemorySaver(),
        context_schema=InterestContext,
    )
    return agent, model


def _say(agent, text: str, user: str = "mw-user", thread: str = "t1") -> dict:
    return agent.invoke({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": thread}}, context=InterestContext(user_id=user))


def test_turn_is_observed_steered_and_block_appended(plugin) -> None:
    agent, model = _agent(plugin, ["Sure, sci-fi is great."])
    state = _say(agent, "I love sci-fi space adventures")
    reply = state["messages"][-1]
    assert isinstance(reply, AIMessage)
    assert reply.text.startswith("Sure, sci-fi is great.")
    assert BLOCK_TITLE in reply.text
    recs = state["interest_turn"]["recommendations"]
    assert len(recs) == 5 and all(r["title"] in reply.text for r in recs)
    assert "Sci-Fi" in plugin.top_interests("mw-user")[0]
    # the model saw the user's interests and the candidate items in its system prompt
    assert "The user likes:" in model.seen_system[0] and recs[0]["title"] in model.seen_system[0]
    # impressions were recorded for what was shown
    ctr = plugin.impressions.click_through()
    assert sum(v["impressions"] for v in ctr.values()) >= 5


def test_each_human_message_is_observed_once(plugin) -> None:
    agent, _ = _agent(plugin, ["ok", "ok"])
    _say(agent, "I adore old westerns", user="once-user")
    n = plugin.profile("once-user").n_signals
    # resuming the same thread with no new human message must not observe it again
    agent.invoke({"messages": []}, {"configurable": {"thread_id": "t1"}}, context=InterestContext(user_id="once-user"))
    assert plugin.profile("once-user").n_signals == n


def test_no_block_when_user_opts_out(plugin) -> None:
    agent, _ = _agent(plugin, ["Fine."])
    state = _say(agent, "I love comedies, but no recommendations please", user="optout-user")
    assert BLOCK_TITLE not in state["messages"][-1].text
    assert plugin.profile("optout-user").n_signals >= 1  # still learned


def test_on_request_policy(plugin) -> None:
    agent, _ = _agent(plugin, ["Nice.", "Try these."], policy="on_request")
    first = _say(agent, "I love war movies", user="onreq-user")
    assert BLOCK_TITLE not in first["messages"][-1].text
    second = _say(agent, "what should I watch tonight?", user="onreq-user")
    assert BLOCK_TITLE in second["messages"][-1].text


def test_missing_user_id_is_a_clear_error(plugin) -> None:
    agent, _ = _agent(plugin, ["x"])
    with pytest.raises(Exception, match="user_id"):
        agent.invoke({"messages": [HumanMessage("hi")]}, {"configurable": {"thread_id": "t"}}, context=InterestContext(user_id=""))


async def test_middleware_under_astream(plugin) -> None:
    agent, _ = _agent(plugin, ["Streaming works fine."])
    chunks, final = [], None
    async for mode, payload in agent.astream(
        {"messages": [HumanMessage("I really enjoy animated films")]},
        {"configurable": {"thread_id": "a1"}},
        context=InterestContext(user_id="async-user"),
        stream_mode=["messages", "values"],
    ):
        if mode == "messages":
            chunks.append(payload[0])
        else:
            final = payload
    assert chunks, "tokens were streamed"
    assert final is not None  # the values stream ends with the final state
    assert BLOCK_TITLE in final["messages"][-1].text
    assert "Animation" in plugin.top_interests("async-user")[0]
