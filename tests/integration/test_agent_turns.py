"""The acceptance conversation with the real SmolLM2 and real Chroma: in process and through a running server."""

from __future__ import annotations

from pathlib import Path

import httpx

from interest_bot.bot.config import Settings
from interest_bot.bot.services import Services

TURNS = ["I love sci-fi space adventures", "but I can't stand horror", "what should I watch tonight?"]


def _check_third_reply(reply: str, recommendations: list[dict]) -> None:
    assert len(recommendations) >= 3
    for rec in recommendations:
        assert "Horror" not in rec["categories"], rec
        assert rec["reasons"] and all(r.strip() for r in rec["reasons"])
        assert rec["title"] in reply  # the block is in the reply itself, not only in the JSON
    assert "Recommended for you" in reply


def test_three_turns_through_the_agent(prepared_data_dir: Path, encoder) -> None:
    from interest_bot.plugins.interest.plugin import InterestPlugin

    plugin = InterestPlugin.open(data_dir=prepared_data_dir, encoder=encoder)
    services = Services(Settings(data_dir=prepared_data_dir, device="cpu"), plugin=plugin)
    chat = services.chat_for(plugin)
    turns = [chat.reply("trio", text) for text in TURNS]
    likes, dislikes = plugin.top_interests("trio", n=5)
    assert "Sci-Fi" in likes and "Horror" in dislikes
    assert plugin.profile("trio").score("Horror") < 0 < plugin.profile("trio").score("Sci-Fi")
    _check_third_reply(turns[2].reply, turns[2].recommendations)
    # the conversation persists in SQLite in the data dir
    history = chat.history("trio")
    assert [m["content"] for m in history if m["role"] == "user"] == TURNS
    plugin.close()


def test_three_turns_through_the_http_api_then_delete(running_server: str) -> None:
    with httpx.Client(base_url=running_server, timeout=300) as http:
        replies = []
        for text in TURNS:
            r = http.post("/v1/chat", json={"user_id": "api-trio", "message": text})
            assert r.status_code == 200, r.text
            replies.append(r.json())
        assert replies[0]["signals"] and replies[0]["signals"][0]["top_category"] == "Sci-Fi"
        _check_third_reply(replies[2]["reply"], replies[2]["recommendations"])
        profile = http.get("/v1/users/api-trio/profile").json()
        assert profile["categories"]["Sci-Fi"]["score"] > 0 > profile["categories"]["Horror"]["score"]
        # streaming variant: tokens first, then one done event
        with http.stream("POST", "/v1/chat/stream", json={"user_id": "api-trio", "message": "any comedies?"}) as stream:
            import json

            events = [json.loads(line) for line in stream.iter_lines() if line]
        assert events[-1]["type"] == "done" and sum(e["type"] == "token" for e in events) > 1
        export = http.get("/v1/users/api-trio/export").json()
        assert export["events"] and export["conversations"]
        assert http.delete("/v1/users/api-trio").status_code == 200
        after = http.get("/v1/users/api-trio/export").json()
        assert after["events"] == [] and after["conversations"] == []
        assert http.get("/v1/users/api-trio/profile").json()["n_signals"] == 0
        metrics = http.get("/metrics").text
        assert 'ibot_stage_seconds_count{stage="analyze"}' in metrics
