"""The `openai:<model>` backend end to end against a real local chat-completions server."""

from __future__ import annotations

from pathlib import Path

from chat_completions_server import ChatCompletionsServer

from interest_bot.bot.config import Settings
from interest_bot.bot.services import Services


def test_openai_backend_streams_and_gets_tools(plugin, prepared_data_dir: Path, port: int) -> None:
    with ChatCompletionsServer(port) as server:
        settings = Settings(data_dir=prepared_data_dir, chat_backend="openai:stub-model", openai_base_url=server.url, openai_api_key="k")
        chat = Services(settings, plugin=plugin).chat_for(plugin)
        turn = chat.reply("oa-user", "I love film-noir detectives")
        assert turn.reply.startswith("Thanks for telling me: I love film-noir detectives")
        assert "Recommended for you" in turn.reply and turn.recommendations
        sent = server.received[-1]
        assert sent["model"] == "stub-model"
        system = next(m["content"] for m in sent["messages"] if m["role"] == "system")
        assert "The user likes:" in system and "Film-Noir" in system
        # tool-capable backends also get the `recommend` tool
        assert any(t["function"]["name"] == "recommend" for t in sent.get("tools", []))
        events = list(chat.stream("oa-user", "and I enjoy westerns"))
        tokens = [e["text"] for e in events if e["type"] == "token"]
        # the backend streams; the client gets the guarded sentences as each is checked, then the card block
        assert len(tokens) >= 2 and events[-1]["type"] == "done"
        assert "".join(tokens).strip() == events[-1]["reply"].strip()
        assert server.received[-1]["stream"] is True
