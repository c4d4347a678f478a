"""The UI's own endpoints never reach another user's memory: identity is a server-signed token or the login.

These tests launch the real Gradio app (over a small in-test plugin that records which user each
call acted for) and call its endpoints the way any HTTP client can, with forged tokens.
"""

from __future__ import annotations

import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
from gradio_client import Client

from interest_bot.ui import identity
from interest_bot.ui.app import build_ui, launch_options

SECRET = b"test-secret-0123456789abcdef0123456789"


@dataclass
class Rec:
    item_id: str
    title: str
    categories: list[str] = field(default_factory=list)
    score: float = 0.5
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ITEMS = [Rec(f"fake:{i}", f"Movie {i} (199{i % 10})", ["Sci-Fi" if i % 2 else "Comedy"], 1 - i / 100, ["because you like it"]) for i in range(30)]


class FakePlugin:
    """Just enough of InterestPlugin: per-user categories and signals, recording every user it served."""

    catalog_name = "fake-movies"

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []

    def _user(self, user_id: str) -> dict[str, Any]:
        return self.users.setdefault(user_id, {"categories": {}, "signals": [], "feedback": []})

    def observe(self, user_id: str, text: str) -> None:
        self.calls.append(("observe", user_id))
        user = self._user(user_id)
        cat = "Horror" if "horror" in text.lower() else "Sci-Fi"
        pol = -1.0 if "hate" in text.lower() else 1.0
        c = user["categories"].setdefault(cat, {"short": 0.0, "long": 0.0, "score": 0.0})
        c["short"] += 0.6 * pol
        c["long"] += 0.3 * pol
        c["score"] += 0.45 * pol
        user["signals"].append({"text": text, "top_category": cat, "categories": {cat: 0.9}, "polarity": pol, "preference": 0.8, "item_id": None, "event_id": f"e{len(user['signals'])}", "ts": time.time()})

    def recommend(self, user_id: str, k: int = 5, exclude: Any = ()) -> list[Rec]:
        self.calls.append(("recommend", user_id))
        gone = {f["item_id"] for f in self._user(user_id)["feedback"]}
        return [r for r in ITEMS if r.item_id not in gone][:k]

    def feedback(self, user_id: str, item_id: str, liked: bool | None) -> list[str]:
        self.calls.append(("feedback", user_id))
        user = self._user(user_id)
        user["feedback"].append({"item_id": item_id, "liked": liked})
        if liked is False:
            c = user["categories"].setdefault("Comedy", {"short": 0.0, "long": 0.0, "score": 0.0})
            c["short"] -= 0.5
            c["score"] -= 0.3
        return ["f1"]

    def profile_dict(self, user_id: str) -> dict[str, Any]:
        self.calls.append(("profile", user_id))
        user = self.users.get(user_id, {"categories": {}, "signals": []})
        return {"user_id": user_id, "categories": user["categories"], "recent_signals": user["signals"], "n_signals": len(user["signals"])}

    def explain(self, text: str) -> list[tuple[str, float]]:
        return [(w, 0.5 if "love" in w else 0.05) for w in text.split()]

    def forget_interest(self, user_id: str, category: str) -> None:
        self.calls.append(("forget_interest", user_id))
        self._user(user_id)["categories"].pop(category, None)

    def forget(self, user_id: str) -> None:
        self.calls.append(("forget", user_id))
        self.users.pop(user_id, None)

    def export(self, user_id: str) -> dict[str, Any]:
        self.calls.append(("export", user_id))
        return {"user_id": user_id, **self.users.get(user_id, {})}

    def cold_start_hint(self, user_id: str) -> str | None:
        return None if self.users.get(user_id, {}).get("signals") else "new user"


def fake_chat(plugin: FakePlugin):
    def chat_stream(user_id: str, message: str, catalog: str | None):
        plugin.observe(user_id, message)
        reply = f"Noted! You said: {message}"
        for word in reply.split(" "):
            yield {"type": "token", "text": word + " "}
            time.sleep(0.01)
        recs = [r.to_dict() for r in plugin.recommend(user_id, k=4)]
        yield {"type": "done", "reply": reply + "\n\n**Recommended for you**\n- x", "recommendations": recs, "signals": []}

    return chat_stream


def text_of(out: Any) -> str:
    """The export's JSON text: from the download link's data URL, or from a file (empty when there is neither)."""
    if isinstance(out, dict):
        out = out.get("value")
    if isinstance(out, dict):
        out = out.get("path")
    if isinstance(out, str) and "data:application/json;base64," in out:
        import base64
        import html
        import re

        found = re.search(r'data:application/json;base64,([^"\']+)', out)
        assert found is not None
        encoded = found.group(1)
        return base64.b64decode(html.unescape(encoded)).decode("utf-8")
    return open(out, encoding="utf-8").read() if out else ""


def launch(plugin: FakePlugin, auth: Any = None) -> tuple[Any, str]:
    demo = build_ui(lambda catalog: plugin, fake_chat(plugin), lambda: ["fake-movies"], SECRET, auth=auth)
    options = launch_options(auth)
    options.pop("footer_links", None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **options)
    return demo, url


@pytest.fixture
def app():
    plugin = FakePlugin()
    demo, url = launch(plugin)
    yield plugin, url
    demo.close()


def test_tokens_verify_and_forgeries_fail() -> None:
    token = identity.issue(SECRET)
    assert identity.verify(SECRET, token) == token["uid"]
    assert identity.verify(SECRET, {"uid": "web-victim", "sig": token["sig"]}) is None
    assert identity.verify(SECRET, {"uid": token["uid"], "sig": "0" * 64}) is None
    assert identity.verify(b"another-secret-0123456789abcdef0123", token) is None
    assert identity.verify(SECRET, {"uid": "alice"}) is None
    assert identity.verify(SECRET, "web-anything") is None
    assert identity.verify(SECRET, None) is None
    assert identity.issue(SECRET)["uid"] != token["uid"]


def test_parse_auth() -> None:
    assert identity.parse_auth("alice:pw1, bob:p:w2") == [("alice", "pw1"), ("bob", "p:w2")]
    assert identity.parse_auth("") is None and identity.parse_auth(None) is None
    with pytest.raises(ValueError):
        identity.parse_auth("alice")


def test_secret_file_is_private_and_stable(tmp_path) -> None:
    first = identity.load_or_create_secret(tmp_path)
    assert identity.load_or_create_secret(tmp_path) == first and len(first) >= 32
    assert (tmp_path / identity.SECRET_FILE).stat().st_mode & 0o077 == 0


def test_endpoints_with_another_users_id_get_nothing_of_theirs(app) -> None:
    plugin, url = app
    client = Client(url, verbose=False)
    victim = client.predict(None, None, api_name="/identify")[0]
    assert identity.verify(SECRET, victim)
    victim_uid = victim["uid"]
    # The victim chats: their memory now holds a signal with private text.
    client.predict("I love secret-space-operas", victim, [], "fake-movies", api_name="/chat")
    assert plugin.users[victim_uid]["signals"]

    attacker = Client(url, verbose=False)
    forged = [
        {"uid": victim_uid},  # no signature
        {"uid": victim_uid, "sig": "0" * 64},  # wrong signature
        {"uid": victim_uid, "sig": identity.issue(SECRET)["sig"]},  # someone else's signature
        victim_uid,  # a bare id
    ]
    for token in forged:
        plugin.calls.clear()
        # export: the whole memory of "the user"
        out = attacker.predict(token, "fake-movies", api_name="/export")
        assert "secret-space-operas" not in text_of(out)
        # forget me and forget an interest must not touch the victim
        attacker.predict(token, "fake-movies", api_name="/forget_me")
        # a chat turn with a forged token is not recorded for the victim
        attacker.predict("I hate everything", token, [], "fake-movies", api_name="/chat")
        # the page load replaces the forged token with a fresh identity
        fresh = attacker.predict(token, None, api_name="/identify")
        assert fresh[0]["uid"] != victim_uid and identity.verify(SECRET, fresh[0])
        assert all(user != victim_uid for _, user in plugin.calls), plugin.calls
    assert plugin.users[victim_uid]["signals"][0]["text"] == "I love secret-space-operas"

    # The victim's own token still works and sees their memory.
    out = client.predict(victim, "fake-movies", api_name="/export")
    assert "secret-space-operas" in text_of(out)


def test_login_name_is_the_user_under_auth() -> None:
    plugin = FakePlugin()
    demo, url = launch(plugin, auth="alice:pw-a,bob:pw-b")
    try:
        alice = Client(url, auth=("alice", "pw-a"), verbose=False)
        bob = Client(url, auth=("bob", "pw-b"), verbose=False)
        # Alice's browser token names someone else: the login wins.
        token = identity.issue(SECRET)
        alice.predict("I love alice-only-films", token, [], "fake-movies", api_name="/chat")
        assert "login:alice" in plugin.users and token["uid"] not in plugin.users
        out = bob.predict(token, "fake-movies", api_name="/export")
        assert "alice-only-films" not in text_of(out)
        assert '"login:bob"' in text_of(out)
        with pytest.raises(Exception, match="Could not login"):
            Client(url, auth=("alice", "wrong"), verbose=False)
    finally:
        demo.close()
