"""Item 13: 10,000 distinct users and threads leave what a process holds bounded: profile states (a GET on an unknown
id used to add one for good), in-process conversation threads and their owners (IBOT_STORE_TEXT=false), and the
impression rows every recommendation adds. Real plugin (MiniLM, Chroma, SQLite counts); a scripted chat model."""

from __future__ import annotations

from pathlib import Path

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig

from interest_bot.bot.bounded_saver import KEEP_CHECKPOINTS, BoundedMemorySaver
from interest_bot.bot.conversations import MemoryOwners, owners_for
from interest_bot.plugins.interest.config import PluginConfig
from interest_bot.plugins.interest.plugin import InterestPlugin

USERS = 10_000


def test_profile_states_and_impressions_stay_bounded(prepared_data_dir: Path, encoder) -> None:
    config = PluginConfig(data_dir=prepared_data_dir, max_cached_users=300, max_impressions=2_000)
    plugin = InterestPlugin.open(config=config, encoder=encoder)
    try:
        plugin.observe("kept-user", "I love westerns")
        for i in range(USERS):
            uid = f"visitor-{i}"
            assert plugin.profile(uid).n_signals == 0  # a read of someone unknown
            if i % 10 == 0:
                plugin.record_impressions(uid, plugin.recommend(uid, k=5))
            assert plugin.memory.cached_users() <= 300
        shown = sum(v["impressions"] for v in plugin.impressions.click_through().values())
        assert 2_000 <= shown < 2_000 + 1_000  # the newest max_impressions, trimmed every 1,000 added
        # the user evicted long ago is read back whole from Chroma
        assert "Western" in plugin.profile("kept-user").categories
    finally:
        plugin.close()


def test_in_process_threads_and_owners_stay_bounded() -> None:
    saver = BoundedMemorySaver(max_threads=100)
    owners = owners_for(saver)
    assert isinstance(owners, MemoryOwners) and owners.max_threads == 200
    model = GenericFakeChatModel(messages=iter(AIMessage(f"reply {i}") for i in range(USERS + 1)))
    agent = create_agent(model, tools=[], checkpointer=saver)
    for i in range(USERS):
        user, thread = f"u{i}", f"t{i % 7}"
        owners.claim(user, thread)
        agent.invoke({"messages": [{"role": "user", "content": "hello"}]}, {"configurable": {"thread_id": f"{user}::{thread}"}})
    assert len(saver.threads()) == 100 and len(saver.storage) == 100 and owners.thread_count() == 100
    last = f"u{USERS - 1}::t{(USERS - 1) % 7}"
    assert last in saver.threads() and saver.get_tuple({"configurable": {"thread_id": last}}) is not None
    assert saver.get_tuple({"configurable": {"thread_id": "u0::t0"}}) is None  # the oldest went first
    assert owners.threads(f"u{USERS - 1}") == [f"t{(USERS - 1) % 7}"] and owners.threads("u0") == []
    # a visitor's history lookup on a thread never written creates nothing
    assert saver.get_tuple({"configurable": {"thread_id": "nobody::default"}}) is None and len(saver.storage) == 100
    assert list(saver.list({"configurable": {"thread_id": "nobody::default"}})) == [] and len(saver.storage) == 100


def test_a_long_in_process_conversation_keeps_only_its_latest_checkpoints() -> None:
    saver = BoundedMemorySaver(max_threads=10)
    model = GenericFakeChatModel(messages=iter(AIMessage(f"reply {i}") for i in range(200)))
    agent = create_agent(model, tools=[], checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "talker::default"}}
    for i in range(60):
        agent.invoke({"messages": [{"role": "user", "content": f"message {i}"}]}, config)
    assert len(saver.storage["talker::default"][""]) == KEEP_CHECKPOINTS
    assert len(saver.blobs) <= 2 * KEEP_CHECKPOINTS * 4  # a few channels per kept checkpoint, not one per step
    state = agent.get_state(config)
    assert len(state.values["messages"]) == 120 and state.values["messages"][-1].text == "reply 59"
