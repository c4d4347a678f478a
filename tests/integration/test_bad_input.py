"""Bad input over the HTTP API (in process and over real HTTP), the UI's endpoints and the plugin.

Each case gets a 4xx with a clear message or is handled safely (HTML kept as inert text); the server
keeps serving (healthz after each); nothing is written for a rejected request (users and events are
compared before and after).
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services
from interest_bot.memory.userid import InvalidUserIdError
from interest_bot.plugins.interest.plugin import InterestPlugin

if TYPE_CHECKING:
    import httpx2  # the client library TestClient is built on (starlette types its responses as httpx2's)

# Under IBOT_AUTH=none the server answers loopback hosts and clients only (bot/loopback.py).
LOOPBACK_URL, LOOPBACK_CLIENT = "http://127.0.0.1:7860", ("127.0.0.1", 50000)

LONG_ID = "u" * 10_000
PASSWD = "../../etc/passwd"
MB = "a" * 1_000_000
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)> I love westerns'
CTRL = "I love westerns\x00\x01\x07\x08\x1b[31m\x7f\u202e and film noir\r\n"


@pytest.fixture(scope="module")
def mod_plugin(catalog_template: Path, encoder, tmp_path_factory: pytest.TempPathFactory):
    """One real plugin for the module's in-process API cases (a private copy of the ingested catalog)."""
    data = tmp_path_factory.mktemp("badinput") / "data"
    shutil.copytree(catalog_template, data, ignore=shutil.ignore_patterns(".complete", ".interest-bot.lock"))
    plugin = InterestPlugin.open(data_dir=data, encoder=encoder)
    yield plugin
    plugin.close()


@pytest.fixture(scope="module")
def api(mod_plugin) -> TestClient:
    services = Services(Settings.without_env_file(data_dir=mod_plugin.config.data_dir, device="cpu"), plugin=mod_plugin)
    return TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT)


def snapshot(plugin) -> tuple[list[str], dict[str, int]]:
    users = sorted(plugin.memory.users())
    return users, {u: len(plugin.export(u)["events"]) for u in users}


def detail_text(r: httpx2.Response) -> str:
    detail = r.json()["detail"]
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail)
    return str(detail)


J = "application/json"
# name, method, path, request kwargs, expected status, a word the message must contain
REJECTED: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("empty message", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": ""}}, 422, "message"),
    ("blank message", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": " \n\t "}}, 422, "empty"),
    ("1 MB message", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": MB}}, 413, "larger"),
    ("1 MB chat message", "POST", "/v1/chat", {"json": {"user_id": "eve", "message": MB}}, 413, "larger"),
    ("message over the cap", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": "x" * 4001}}, 413, "4000"),
    ("invalid JSON", "POST", "/v1/observe", {"content": b'{"user_id": "eve", "message": ', "headers": {"content-type": J}}, 422, "JSON"),
    ("JSON list body", "POST", "/v1/observe", {"json": ["eve", "hi"]}, 422, "body"),
    ("message is a number", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": 42}}, 422, "message"),
    ("message is an object", "POST", "/v1/chat", {"json": {"user_id": "eve", "message": {"$gt": ""}}}, 422, "message"),
    ("user id is a number", "POST", "/v1/observe", {"json": {"user_id": 7, "message": "I love westerns"}}, 422, "user_id"),
    ("user id is null", "POST", "/v1/observe", {"json": {"user_id": None, "message": "I love westerns"}}, 422, "user_id"),
    ("missing message", "POST", "/v1/observe", {"json": {"user_id": "eve"}}, 422, "message"),
    ("extra field", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": "I love westerns", "admin": True}}, 422, "admin"),
    ("catalog is a number", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": "I love westerns", "catalog": 5}}, 422, "catalog"),
    ("liked is a string", "POST", "/v1/users/eve/feedback", {"json": {"item_id": "50", "liked": "yes"}}, 422, "liked"),
    ("k is text", "GET", "/v1/users/eve/recommendations?k=ten", {}, 422, "k"),
    ("k is huge", "GET", "/v1/users/eve/recommendations?k=100000", {}, 422, "k"),
    ("invalid UTF-8", "POST", "/v1/observe", {"content": b'{"user_id": "eve", "message": "I love \xff\xfe westerns"}', "headers": {"content-type": J}}, 400, "UTF-8"),
    ("control characters in user id", "POST", "/v1/observe", {"json": {"user_id": "eve\x00\n", "message": "I love westerns"}}, 422, "user_id"),
    ("10,000-character user id", "POST", "/v1/observe", {"json": {"user_id": LONG_ID, "message": "I love westerns"}}, 422, "user_id"),
    ("10,000-character user id in the path", "GET", f"/v1/users/{LONG_ID}/profile", {}, 422, "user_id"),
    ("path user id", "POST", "/v1/observe", {"json": {"user_id": PASSWD, "message": "I love westerns"}}, 422, "user_id"),
    ("path user id in the path", "GET", f"/v1/users/{quote(PASSWD, safe='')}/export", {}, 404, "Not Found"),
    ("dotdot user id in the path", "DELETE", "/v1/users/..", {}, 404, "Not Found"),
    ("HTML user id", "POST", "/v1/observe", {"json": {"user_id": "<script>", "message": "I love westerns"}}, 422, "user_id"),
    ("unknown catalog", "POST", "/v1/observe", {"json": {"user_id": "eve", "message": "I love westerns", "catalog": "nope"}}, 404, "unknown catalog"),
    ("unknown catalog in chat", "POST", "/v1/chat", {"json": {"user_id": "eve", "message": "I love westerns", "catalog": "../nope"}}, 404, "unknown catalog"),
    ("unknown catalog for recommendations", "GET", "/v1/users/eve/recommendations?catalog=nope", {}, 404, "unknown catalog"),
    ("unknown item", "POST", "/v1/users/eve/feedback", {"json": {"item_id": "<b>nope</b>", "liked": True}}, 404, "unknown item"),
    ("10,000-character interest", "DELETE", f"/v1/users/eve/interests/{'x' * 10_000}", {}, 422, "interest"),
]


@pytest.mark.parametrize("name,method,path,kwargs,status,word", REJECTED, ids=[c[0] for c in REJECTED])
def test_api_rejects_with_clear_4xx_and_writes_nothing(api: TestClient, mod_plugin, name: str, method: str, path: str, kwargs: dict, status: int, word: str) -> None:
    before = snapshot(mod_plugin)
    r = api.request(method, path, **kwargs)
    assert r.status_code == status, (name, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    message = detail_text(r)
    assert word.lower() in message.lower(), message
    assert len(r.text) < 2000  # the offending input is not echoed back
    assert snapshot(mod_plugin) == before
    assert api.get("/healthz").status_code == 200


SAFE = [("control characters", CTRL), ("HTML and script", HTML), ("emoji and RTL", "I love westerns 😀🎬 \u05e9\u05dc\u05d5\u05dd"), ("SQL-ish", "I love westerns'; DROP TABLE events; --")]


@pytest.mark.parametrize("name,message", SAFE, ids=[c[0] for c in SAFE])
def test_odd_text_is_handled_safely(api: TestClient, mod_plugin, name: str, message: str) -> None:
    user = "safe-" + str(abs(hash(name)) % 10**6)
    r = api.post("/v1/observe", json={"user_id": user, "message": message})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")  # never served as HTML
    assert r.json()["signals"], "the westerns clause is still understood"
    export = api.get(f"/v1/users/{user}/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/json")
    texts = [e["text"] for e in export.json()["events"]]
    assert texts and all(isinstance(t, str) for t in texts)
    assert not any("\x00" in t or "\x1b" in t for t in texts)  # control characters are not stored
    profile = api.get(f"/v1/users/{user}/profile")
    assert profile.status_code == 200
    assert profile.json()["categories"].get("Western", {"score": 0})["score"] > 0
    assert api.delete(f"/v1/users/{user}").status_code == 200
    assert api.get("/healthz").status_code == 200


# -- the plugin ----------------------------------------------------------------------------------------------
ODD_TEXTS = ["", "   ", MB, CTRL, "\x00" * 100, "I love \ud800 westerns", HTML, "😀" * 1000, "\u202e" * 50]
BAD_IDS = ["", LONG_ID, PASSWD, "..", "a\x00b", "eve\n", "<script>", None, 42]


def test_plugin_odd_text_never_raises(mod_plugin) -> None:
    for text in ODD_TEXTS:
        signals = mod_plugin.observe("plugin-odd", text)
        assert isinstance(signals, list)
        for s in signals:
            assert "\x00" not in (s.text or "")
    with pytest.raises(TypeError):
        mod_plugin.observe("plugin-odd", None)
    with pytest.raises(TypeError):
        mod_plugin.observe("plugin-odd", b"I love westerns")
    mod_plugin.forget("plugin-odd")


def test_plugin_bad_ids_raise_a_clear_value_error_and_write_nothing(mod_plugin) -> None:
    before = snapshot(mod_plugin)
    recs = mod_plugin.recommend("someone", k=2)
    calls = {
        "observe": lambda u: mod_plugin.observe(u, "I love westerns"),
        "feedback": lambda u: mod_plugin.feedback(u, recs[0].item_id, liked=True),
        "recommend": lambda u: mod_plugin.recommend(u, k=3),
        "profile": lambda u: mod_plugin.profile(u),
        "export": lambda u: mod_plugin.export(u),
        "forget": lambda u: mod_plugin.forget(u),
        "forget_interest": lambda u: mod_plugin.forget_interest(u, "Western"),
        "record_impressions": lambda u: mod_plugin.record_impressions(u, recs),
        "record_reply": lambda u: mod_plugin.record_reply(u, "You might like Star Wars (1977)"),
    }
    impressions = mod_plugin.impressions.click_through()
    for bad in BAD_IDS:
        for name, fn in calls.items():
            with pytest.raises(InvalidUserIdError) as info:
                fn(bad)
            assert isinstance(info.value, ValueError)
            assert "user id" in str(info.value), (name, str(info.value))
            assert len(str(info.value)) < 300  # a 10,000-character id is not repeated whole
    assert snapshot(mod_plugin) == before
    assert mod_plugin.impressions.click_through() == impressions


# -- over real HTTP: raw bytes, the UI's endpoints ---------------------------------------------------------
def raw_http(url: str, payload: bytes) -> tuple[int, bytes]:
    """Send raw bytes to the server; return the status code and the body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as s:
        s.sendall(payload)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def post_raw(url: str, body: bytes, extra: str = "") -> tuple[int, bytes]:
    return raw_http(url, (f"POST /v1/observe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n").encode() + body)


def test_real_server_bad_bytes_and_ui_endpoints(running_server: str) -> None:
    from gradio_client import Client

    url = running_server
    http = httpx.Client(base_url=url, timeout=300)

    def events(user: str) -> list[dict]:
        r = http.get(f"/v1/users/{user}/export")
        assert r.status_code == 200, r.text
        return r.json()["events"]

    def healthy() -> None:
        assert http.get("/healthz").json() == {"status": "ok"}

    # Raw HTTP: invalid UTF-8, invalid JSON, a 1 MB body, a chunked body over the limit, a lying Content-Length.
    status, body = post_raw(url, b'{"user_id": "raw", "message": "I love \xff\xfe westerns"}')
    assert status == 400 and b"UTF-8" in body, body
    healthy()
    status, body = post_raw(url, b'{"user_id": "raw", "message": "I love westerns"')
    assert status == 422 and b"JSON" in body, body
    healthy()
    # 1 MB, announced: a client that waits for `100 Continue` gets the 413 before sending the body.
    big = json.dumps({"user_id": "raw", "message": MB}).encode()
    status, body = raw_http(url, f"POST /v1/observe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(big)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".encode())
    assert status == 413 and b"larger" in body, body
    healthy()
    # 1 MB sent whole by a client that does not wait: refused (413, or the connection closed on it), server unharmed.
    try:
        r = httpx.post(url + "/v1/observe", content=big, headers={"content-type": "application/json"}, timeout=60)
        assert r.status_code == 413, r.text[:300]
    except httpx.TransportError:
        pass
    healthy()
    # Chunked (no Content-Length) and over the limit: the server stops reading at the limit and answers 413.
    piece = b'{"user_id": "raw", "message": "' + b"a" * 40_000
    chunked = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in (piece, b"a" * 40_000))
    status, body = raw_http(url, b"POST /v1/observe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)
    assert status == 413 and b"larger" in body, body
    healthy()
    status, body = post_raw(url, b"{}", extra="X-Padding: " + "a" * 100 + "\r\n")
    assert status == 422
    status, body = raw_http(url, b"POST /v1/observe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: -5\r\nConnection: close\r\n\r\n{}")
    assert 400 <= status < 500
    healthy()
    assert events("raw") == []  # nothing was written for any rejected request

    # The UI's endpoints, as any HTTP client can call them.
    ui = Client(url + "/", verbose=False)
    try:
        token = ui.predict(None, None, api_name="/identify")[0]
        uid = token["uid"]
        assert events(uid) == []

        def chat(message: Any, tok: Any = token, catalog: Any = "movielens-100k") -> tuple:
            return ui.predict(message, tok, [], catalog, api_name="/chat")

        chat("")  # empty: nothing happens
        out = chat(MB)  # 1 MB: refused with a message in the conversation
        assert "longer than" in str(out[1])
        healthy()
        assert events(uid) == []
        for wrong_token in [42, "web-x", {"uid": uid}, [uid]]:  # wrong types and forgeries: no identity, nothing written
            out = chat("I love westerns", tok=wrong_token)
            assert "no identity" in str(out[1])
        assert events(uid) == []
        # The catalog is server-side session state: a client-sent unknown catalog cannot select anything.
        out = chat("I love westerns", catalog="nope")
        healthy()
        assert all(e["text"] == "I love westerns" for e in events(uid))
        assert http.delete(f"/v1/users/{uid}").status_code == 200 and events(uid) == []
        # The forget revoked that identity: the page load hands out a fresh one, used from here on.
        assert "no identity" in str(chat("I love westerns")[1])
        token = ui.predict(token, None, api_name="/identify")[0]
        assert token["uid"] != uid
        uid = token["uid"]
        # HTML and script payloads are rendered as text; the model's reply cannot inject markup either.
        out = chat(HTML, tok=token)
        conversation = str(out[1])
        assert "<script>alert" not in conversation and "onerror=alert(1)>" not in conversation
        assert "&lt;script&gt;" in conversation
        healthy()
        stored = [e["text"] for e in events(uid)]
        assert any("westerns" in t for t in stored)  # handled: the taste in the HTML message was still learned
        out = chat(CTRL, tok=token)
        assert "film noir" in str(out[1]) and "<script" not in str(out[1])  # shown as escaped text, turn completed
        healthy()
        assert not any("\x00" in e["text"] for e in events(uid))
        exported = ui.predict(["not", "a", "token"], None, api_name="/export")
        assert not (isinstance(exported, dict) and exported.get("value"))
        healthy()
        assert http.delete(f"/v1/users/{uid}").status_code == 200
    finally:
        ui.close()
        http.close()
