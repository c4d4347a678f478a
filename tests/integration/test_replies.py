"""Guarded replies with the real SmolLM2, real MiniLM and real Chroma, on every path a reply takes: the bot's
stream (UI and /v1/chat/stream use it), and an embedder's own agent.invoke / agent.stream with the middleware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from bench.reply_scoring import ReplyScorer, own_words
from interest_bot.bot.agent import build_agent
from interest_bot.bot.chat import ChatService
from interest_bot.bot.config import Settings
from interest_bot.bot.models import load_chat_model
from interest_bot.plugins.interest.agent.middleware import InterestContext, InterestMiddleware

# The three messages the replies issue quotes, with what their replies got wrong before.
ISSUE_LINES = ["I love westerns", "honestly Alien and Blade Runner are my all time faves", "any good heist movies? I love those"]


@pytest.fixture
def model(prepared_data_dir: Path):
    return load_chat_model(Settings(data_dir=prepared_data_dir, device="cpu"))


def _check(scorer: ReplyScorer, reply: str, cards: list[str], users: list[str]) -> None:
    words = own_words(reply)
    assert words, "empty reply"
    assert scorer.invented(words, allowed_titles=cards, user_lines=users) == [], words
    assert not scorer.loops(words), words
    assert not scorer.cut(words), words


def test_bot_stream_sends_only_checked_sentences(plugin, prepared_data_dir: Path, model) -> None:
    settings = Settings(data_dir=prepared_data_dir, device="cpu")
    service = ChatService(build_agent(settings, plugin, model=model))
    scorer = ReplyScorer.for_catalog(plugin)
    cards: list[str] = []
    for i, line in enumerate(ISSUE_LINES):
        events = list(service.stream("guarded-user", line))
        done = events[-1]
        cards += [r["title"] for r in done["recommendations"]]
        _check(scorer, done["reply"], cards, ISSUE_LINES[: i + 1])
        streamed = "".join(e["text"] for e in events if e["type"] == "token")
        assert streamed.strip() == done["reply"].strip()
        # every piece the client saw before the card block ended at a sentence boundary, never mid-word
        words = own_words(done["reply"])
        pieces = [e["text"] for e in events if e["type"] == "token"]
        seen = ""
        for piece in pieces:
            seen += piece
            if len(seen.strip()) <= len(words):
                assert seen.strip()[-1] in ".!?…", seen
    assert "I don't have heist tagged" in done["reply"]  # the last line asked for a label the catalog lacks


def test_embedders_agent_invoke_and_stream_are_guarded(plugin, model) -> None:
    agent = create_agent(model, middleware=[InterestMiddleware(plugin, reply_style="short")], checkpointer=InMemorySaver(), context_schema=InterestContext)
    config: RunnableConfig = {"configurable": {"thread_id": "embed"}}
    context = InterestContext(user_id="embed-user")
    scorer = ReplyScorer.for_catalog(plugin)
    state = agent.invoke({"messages": [HumanMessage(ISSUE_LINES[0])]}, config, context=context)
    cards = [r["title"] for r in state["interest_turn"]["recommendations"]]
    _check(scorer, state["messages"][-1].text, cards, ISSUE_LINES[:1])
    streamed, final = "", None
    payload: Any  # (mode, payload) parts: what a payload is depends on its mode
    for mode, payload in agent.stream({"messages": [HumanMessage(ISSUE_LINES[1])]}, config, context=context, stream_mode=["messages", "values"]):
        if mode == "messages" and isinstance(payload[0], AIMessageChunk):
            streamed += payload[0].text
        elif mode == "values":
            final = payload
    assert final is not None
    cards += [r["title"] for r in final["interest_turn"]["recommendations"]]
    _check(scorer, final["messages"][-1].text, cards, ISSUE_LINES[:2])
    # the tokens an embedder streams are exactly the guarded words (the raw model text never leaks)
    assert streamed.strip() == own_words(final["messages"][-1].text)
    report = final["messages"][-1].response_metadata["reply_guard"]
    assert set(report) == {"fallback", "raw", "dropped"}


def test_closing_the_stream_stops_decoding(model) -> None:
    messages = [SystemMessage("You are a storyteller."), HumanMessage("Tell me a very long story about a dragon.")]
    stream = model.stream(messages)
    next(stream)
    stream.close()
    generated = len(model.prefix[0]) - model._inputs(messages)["input_ids"].shape[1]
    assert generated < model.max_new_tokens


def test_forget_drops_the_prompt_cache_that_holds_the_last_conversation(plugin, prepared_data_dir: Path, model) -> None:
    from interest_bot.bot.services import Services

    services = Services(Settings(data_dir=prepared_data_dir, device="cpu"), plugin=plugin, chat_model=model)
    services.chat_for(plugin).reply("cached-user", "I love westerns")
    assert model.prefix is not None
    services.forget_user("cached-user")
    assert model.prefix is None


def test_the_local_model_continues_a_started_reply(model) -> None:
    messages = [SystemMessage("You are a friendly movie assistant."), HumanMessage("I love westerns"), AIMessage("Westerns")]
    prompt = model.tokenizer.decode(model._inputs(messages)["input_ids"][0])
    assert prompt.rstrip().endswith("assistant\nWesterns")  # the reply is open, not closed and followed by a new turn
    continuation = model.invoke(messages).text
    assert continuation and "<|im" not in continuation
