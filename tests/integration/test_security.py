"""Auth over every /v1 route in service and user modes, on a real plugin (real MiniLM, real Chroma).

The chat routes run the real agent and middleware with a scripted chat model (auth does not depend on
which LLM answers). Also here: no message text or key in a real server's INFO logs, and the A/B test's
variants in the recommendations and in /metrics.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from bench.server_process import serve
from interest_bot.bot.auth import issue_token
from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services
from interest_bot.plugins.interest.ranking.experiments import DEFAULT_EXPERIMENT, assign

if TYPE_CHECKING:
    import httpx2  # the client library TestClient is built on (starlette types its responses as httpx2's)

# Under IBOT_AUTH=none the server answers loopback hosts and clients only (bot/loopback.py).
LOOPBACK_URL, LOOPBACK_CLIENT = "http://127.0.0.1:7860", ("127.0.0.1", 50000)

KEY = "svc-key-" + "7f3a9c1e5b2d4f60" * 2
SECRET = "user-secret-" + "0c1d2e3f4a5b6c7d" * 3


class ScriptedModel(GenericFakeChatModel):
    """Always answers "ok" (the agent and middleware around it are real)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def scripted() -> ScriptedModel:
    return ScriptedModel(messages=itertools.repeat("Noted, thanks."))


def routes(user: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every /v1 route, acting for `user` (forget last: it deletes the memory the others read)."""
    return [
        ("POST", "/v1/observe", {"user_id": user, "message": "I adore westerns but musicals put me to sleep"}),
        ("POST", "/v1/chat", {"user_id": user, "message": "I love film noir"}),
        ("POST", "/v1/chat/stream", {"user_id": user, "message": "and space operas"}),
        ("GET", f"/v1/users/{user}/profile", None),
        ("GET", f"/v1/users/{user}/recommendations?k=3", None),
        ("POST", f"/v1/users/{user}/feedback", {"item_id": "50", "liked": True}),
        ("GET", f"/v1/users/{user}/export", None),
        ("DELETE", f"/v1/users/{user}/interests/Western", None),
        ("DELETE", f"/v1/users/{user}", None),
    ]


ROUTE_TEMPLATES = {
    ("POST", "/v1/observe"), ("POST", "/v1/chat"), ("POST", "/v1/chat/stream"),
    ("GET", "/v1/users/{user_id}/profile"), ("GET", "/v1/users/{user_id}/recommendations"),
    ("POST", "/v1/users/{user_id}/feedback"), ("GET", "/v1/users/{user_id}/export"),
    ("DELETE", "/v1/users/{user_id}/interests/{interest}"), ("DELETE", "/v1/users/{user_id}"),
}


def call(client: TestClient, method: str, path: str, body: dict | None, token: str | None = None, raw_header: str | None = None) -> httpx2.Response:
    headers = {}
    if raw_header is not None:
        headers["Authorization"] = raw_header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(method, path, json=body, headers=headers)


def app_for(plugin, data_dir: Path, **settings: Any) -> tuple[TestClient, Services]:
    services = Services(Settings.without_env_file(data_dir=data_dir, device="cpu", **settings), plugin=plugin, chat_model=scripted())
    return TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT), services


def stored(plugin, user: str) -> tuple[int, list[str]]:
    """How much memory the user has: event count and the event texts."""
    events = plugin.export(user).get("events", [])
    return len(events), sorted(str(e.get("text")) for e in events)


def test_every_v1_route_is_covered(plugin, prepared_data_dir: Path) -> None:
    client, _ = app_for(plugin, prepared_data_dir, auth="service", api_key=KEY)
    paths = client.get("/openapi.json", headers={"Authorization": f"Bearer {KEY}"}).json()["paths"]
    found = {(method.upper(), path) for path, ops in paths.items() if path.startswith("/v1") for method in ops}
    assert found == ROUTE_TEMPLATES, "a /v1 route was added or removed: cover it in routes() and ROUTE_TEMPLATES"
    assert len(routes("x")) == len(ROUTE_TEMPLATES)


def test_service_mode_every_route(plugin, prepared_data_dir: Path) -> None:
    client, services = app_for(plugin, prepared_data_dir, auth="service", api_key=KEY)
    assert services.auth_mode == "service"
    users_before = sorted(plugin.memory.users())
    bad_credentials = [None, "Bearer", "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x", f"Bearer {KEY[:-1]}", f"Bearer {issue_token(SECRET, 'carol')}"]
    for method, path, body in routes("carol"):
        for header in bad_credentials:
            r = call(client, method, path, body, raw_header=header)
            assert r.status_code == 401, (method, path, header, r.status_code, r.text)
            assert r.headers.get("www-authenticate") == "Bearer"
            assert KEY not in r.text
    assert sorted(plugin.memory.users()) == users_before  # nothing written by rejected requests
    assert stored(plugin, "carol")[0] == 0
    # The trusted backend acts for any user id it passes.
    for user in ("carol", "dave"):
        for method, path, body in routes(user):
            r = call(client, method, path, body, token=KEY)
            assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text)
            if path == "/v1/chat/stream":
                assert '"type": "done"' in r.text
    assert stored(plugin, "carol")[0] == 0  # its last call forgot carol
    assert client.get("/healthz").status_code == 200  # liveness stays open; /metrics takes the key (item 3)
    assert client.get("/metrics").status_code == 401 and client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_user_mode_tokens_bind_the_user(plugin, prepared_data_dir: Path) -> None:
    client, services = app_for(plugin, prepared_data_dir, auth="user", auth_secret=SECRET, api_key=KEY)
    assert services.auth_mode == "user"
    alice, bob = issue_token(SECRET, "alice", ttl=600), issue_token(SECRET, "bob", ttl=600)
    r = call(client, "POST", "/v1/observe", {"user_id": "alice", "message": "I love secret-marker-noir detective films"}, token=alice)
    assert r.status_code == 200, r.text
    alice_before = stored(plugin, "alice")
    assert alice_before[0] >= 1
    users_before = sorted(plugin.memory.users())

    # 401: no token, the service key (user mode takes user tokens only), another secret, expired, garbage.
    bad = [
        None,
        f"Bearer {KEY}",
        f"Bearer {issue_token('x' * 40, 'alice')}",
        f"Bearer {issue_token(SECRET, 'alice', ttl=1, now=time.time() - 60)}",
        f"Bearer {alice[:-3]}abc",
        "Bearer ibt1.e30.AAAA",
        f"Token {alice}",
    ]
    for method, path, body in routes("alice"):
        for header in bad:
            r = call(client, method, path, body, raw_header=header)
            assert r.status_code == 401, (method, path, header, r.status_code, r.text)
        # 403: bob's valid token on alice's routes, with alice's id in the path or the body.
        r = call(client, method, path, body, token=bob)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "another user" in r.json()["detail"]
        assert "secret-marker-noir" not in r.text
    assert stored(plugin, "alice") == alice_before  # bob could not read, change or delete alice's memory
    assert sorted(plugin.memory.users()) == users_before
    assert stored(plugin, "bob")[0] == 0

    # 2xx: alice's own token on every route; her export holds her text, then she forgets herself.
    for method, path, body in routes("alice"):
        r = call(client, method, path, body, token=alice)
        assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text)
        if path.endswith("/export"):
            assert "secret-marker-noir" in r.text
    assert stored(plugin, "alice")[0] == 0
    # bob's token works for bob.
    assert call(client, "GET", "/v1/users/bob/profile", None, token=bob).status_code == 200


def test_no_text_or_key_in_info_logs(prepared_data_dir: Path, port: int, tmp_path: Path) -> None:
    """A real server (service mode, INFO logs): observe and fail requests carrying a marker and the key, grep the log."""
    marker = "zqxmarker" + os.urandom(4).hex()
    log_path = tmp_path / "server.log"
    with serve(prepared_data_dir, port, log_path, IBOT_AUTH="service", IBOT_API_KEY=KEY) as server:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=server.url, timeout=120) as http:
            r = http.post("/v1/observe", json={"user_id": "logger", "message": f"I love {marker} westerns"}, headers=auth)
            assert r.status_code == 200, r.text
            assert http.post("/v1/observe", json={"user_id": "logger", "message": f"{marker} " * 2000}, headers=auth).status_code == 413
            assert http.post("/v1/observe", json={"user_id": f"bad/{marker}", "message": marker}, headers=auth).status_code == 422
            assert http.post("/v1/observe", content=f'{{"user_id": "logger", "message": "{marker}'.encode(), headers={**auth, "content-type": "application/json"}).status_code == 422
            assert http.post("/v1/observe", json={"user_id": "logger", "message": marker}, headers={"Authorization": f"Bearer {KEY}-{marker}"}).status_code == 401
            assert http.post("/v1/observe", json={"user_id": "logger", "message": marker, "catalog": "nope"}, headers=auth).status_code == 404
            assert http.get("/v1/users/logger/export", headers=auth).status_code == 200
            assert marker in http.get("/v1/users/logger/export", headers=auth).text  # the text was really stored
    text = log_path.read_text(errors="replace")
    assert "POST /v1/observe" in text and "INFO" in text  # the log really is captured, at INFO
    assert marker not in text
    assert KEY not in text and KEY[8:24] not in text


def test_ab_variants_rank_differently_and_label_metrics(plugin, prepared_data_dir: Path) -> None:
    client, services = app_for(plugin, prepared_data_dir, ab_test=True)
    users = {assign(f"ab-{i}", DEFAULT_EXPERIMENT.name): f"ab-{i}" for i in range(40)}
    assert set(users) == {"A", "B"}
    assert {plugin.variant(u) for u in users.values()} == {"A", "B"}
    assert all(plugin.variant(u) == v for v, u in users.items())
    message = "I love sci-fi space adventures and clever heist comedies, but not horror"
    recs = {}
    for variant, user in users.items():
        assert client.post("/v1/observe", json={"user_id": user, "message": message}).status_code == 200
        r = client.get(f"/v1/users/{user}/recommendations", params={"k": 10})
        assert r.status_code == 200
        recs[variant] = [x["item_id"] for x in r.json()["recommendations"]]
    # Same words, two configurations: the rankings differ.
    assert recs["A"] != recs["B"], recs
    # And for one and the same profile, the two variant recommenders rank differently.
    a, b = plugin._ab[1]["A"], plugin._ab[1]["B"]
    profile = plugin.profile(users["A"])
    assert [x.item_id for x in a.recommend(profile, k=10)] != [x.item_id for x in b.recommend(profile, k=10)]
    # Feedback: a like on a shown item (a click) and a dislike, per variant.
    for variant, user in users.items():
        assert client.post(f"/v1/users/{user}/feedback", json={"item_id": recs[variant][0], "liked": True}).status_code == 200
        assert client.post(f"/v1/users/{user}/feedback", json={"item_id": recs[variant][1], "liked": False}).status_code == 200
    metrics = client.get("/metrics").text

    def value(name: str, **labels: str) -> float:
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in metrics.splitlines():
            if line.startswith(name + "{"):
                got = line[len(name) + 1 : line.index("}")]
                if all(part in got.split(",") for part in want.split(",")):
                    return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{name}{{{want}}} not in /metrics")

    for variant in ("A", "B"):
        assert value("ibot_impressions_total", variant=variant) == 10
        assert value("ibot_feedback_total", variant=variant, kind="liked") == 1
        assert value("ibot_feedback_total", variant=variant, kind="disliked") == 1
        assert value("ibot_ab_impressions", variant=variant) == 10
        assert value("ibot_ab_clicks", variant=variant) == 1
        assert value("ibot_click_through_ratio", variant=variant) == pytest.approx(0.1)
    assert re.search(r'ibot_click_through_ratio\{variant="B"\}', metrics)


def test_ab_off_means_one_variant(plugin, prepared_data_dir: Path) -> None:
    client, _ = app_for(plugin, prepared_data_dir)
    assert {plugin.variant(f"u{i}") for i in range(50)} == {"A"}
    client.get("/v1/users/solo/recommendations", params={"k": 3})
    assert 'ibot_impressions_total{variant="A"} 3.0' in client.get("/metrics").text
    assert 'variant="B"' not in client.get("/metrics").text


def test_auth_none_serves_only_loopback_hosts_and_clients(plugin, prepared_data_dir: Path) -> None:
    """DNS rebinding or a local proxy must not reach every user's data when no credential is asked (item 2)."""
    services = Services(Settings.without_env_file(data_dir=prepared_data_dir, device="cpu"), plugin=plugin, chat_model=scripted())
    app = create_app(services=services, ui=False)
    local = TestClient(app, base_url="http://127.0.0.1:7860", client=("127.0.0.1", 50000))
    assert local.get("/v1/users/local-user/export").status_code == 200
    assert TestClient(app, base_url="http://localhost:7860", client=("::1", 50000)).get("/healthz").status_code == 200
    rebound = TestClient(app, base_url="http://attacker.example:7860", client=("127.0.0.1", 50000))
    r = rebound.get("/v1/users/local-user/export")
    assert r.status_code in {400, 403} and "loopback" in r.json()["detail"]
    proxied = TestClient(app, base_url="http://127.0.0.1:7860", client=("203.0.113.7", 50000))
    assert proxied.get("/v1/users/local-user/export").status_code == 403
    assert proxied.get("/metrics").status_code == 403


class FailsMidway(ScriptedModel):
    """Streams one sentence, then the backend dies."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        yield ChatGenerationChunk(message=AIMessageChunk(content="Westerns are great. "))
        raise ConnectionError("backend went away")


def test_a_stream_that_fails_midway_ends_with_an_error_event(plugin, prepared_data_dir: Path) -> None:
    """Item 15: the client learns the turn failed instead of reading a cut-off stream."""
    services = Services(Settings.without_env_file(data_dir=prepared_data_dir, device="cpu"), plugin=plugin, chat_model=FailsMidway(messages=iter([])))
    client = TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT, raise_server_exceptions=False)
    with client.stream("POST", "/v1/chat/stream", json={"user_id": "midway", "message": "I love westerns"}) as response:
        assert response.status_code == 200
        events = [json.loads(line) for line in response.iter_lines() if line]
    assert events and events[-1]["type"] == "error", events
    assert "ConnectionError" in events[-1]["message"] and "backend went away" not in events[-1]["message"]


def test_the_data_dir_is_owner_only(running_server: str, prepared_data_dir: Path) -> None:
    """Item 5: the data dir and everything in it are 0700 / 0600 (they were 0755 / 0644, the lock file too)."""
    import stat

    with httpx.Client(base_url=running_server, timeout=300) as http:
        assert http.post("/v1/chat", json={"user_id": "modes", "message": "I love westerns"}).status_code == 200
        assert http.get("/").status_code == 200  # the UI's secret exists by now
    loose = []
    for path in [prepared_data_dir, *prepared_data_dir.rglob("*")]:
        if path.is_symlink() or "models" in path.relative_to(prepared_data_dir).parts[:1]:
            continue  # the shared prepared chat model is linked in by the test fixture
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            loose.append(f"{path.relative_to(prepared_data_dir)}: {oct(mode)}")
    assert not loose, loose[:20]
    assert (prepared_data_dir / "conversations.sqlite").exists() and (prepared_data_dir / "ui_secret").exists()
