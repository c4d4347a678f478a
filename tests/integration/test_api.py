"""The /v1 API on a real plugin (no LLM needed for these routes): validation, feedback, export, forget, auth."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services

# Under IBOT_AUTH=none the server answers loopback hosts and clients only (bot/loopback.py).
LOOPBACK_URL, LOOPBACK_CLIENT = "http://127.0.0.1:7860", ("127.0.0.1", 50000)


@pytest.fixture
def api(plugin, prepared_data_dir: Path) -> TestClient:
    services = Services(Settings(data_dir=prepared_data_dir, device="cpu"), plugin=plugin)
    return TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT)


def test_observe_profile_recommend_feedback_forget(api: TestClient) -> None:
    r = api.post("/v1/observe", json={"user_id": "ann", "message": "I adore westerns but musicals put me to sleep"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["event_ids"]) == len(body["signals"]) >= 2
    profile = api.get("/v1/users/ann/profile").json()
    assert profile["categories"]["Western"]["score"] > 0 > profile["categories"]["Musical"]["score"]
    recs = api.get("/v1/users/ann/recommendations", params={"k": 5}).json()["recommendations"]
    assert len(recs) == 5 and not any("Musical" in r["categories"] for r in recs)
    first = recs[0]["item_id"]
    assert api.post("/v1/users/ann/feedback", json={"item_id": first, "liked": False}).status_code == 200
    again = [r["item_id"] for r in api.get("/v1/users/ann/recommendations", params={"k": 5}).json()["recommendations"]]
    assert first not in again  # rated items are never recommended again
    assert api.delete("/v1/users/ann/interests/Western").status_code == 200
    assert api.get("/v1/users/ann/profile").json()["categories"].get("Western", {"score": 0})["score"] == 0
    assert api.delete("/v1/users/ann").status_code == 200
    export = api.get("/v1/users/ann/export").json()
    assert export["events"] == []


@pytest.mark.parametrize(
    "payload,status",
    [
        ({"user_id": "bob", "message": ""}, 422),
        ({"user_id": "bob", "message": "   "}, 422),
        ({"user_id": "bob", "message": "x" * 5000}, 413),
        ({"user_id": "bob", "message": 42}, 422),
        ({"user_id": "../../etc/passwd", "message": "hi"}, 422),
        ({"user_id": "u" * 10_000, "message": "hi"}, 422),
        ({"user_id": "bob"}, 422),
        ({"user_id": "bob", "message": "I like westerns", "catalog": "nope"}, 404),
    ],
)
def test_bad_requests_get_clear_4xx_and_write_nothing(api: TestClient, plugin, payload: dict, status: int) -> None:
    before = len(plugin.memory.users())
    r = api.post("/v1/observe", json=payload)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    assert len(plugin.memory.users()) == before
    assert api.get("/healthz").status_code == 200


def test_invalid_json_and_unknown_item(api: TestClient) -> None:
    r = api.post("/v1/observe", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = api.post("/v1/users/bob/feedback", json={"item_id": "movielens-100k:999999", "liked": True})
    assert r.status_code == 404 and "unknown item" in r.json()["detail"]
    r = api.post("/v1/users/bob/feedback", json={"item_id": "50", "liked": "yes"})
    assert r.status_code == 422


def test_bearer_key(plugin, prepared_data_dir: Path) -> None:
    services = Services(Settings(data_dir=prepared_data_dir, device="cpu", api_key="s3cret"), plugin=plugin)
    client = TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT)
    assert client.get("/v1/users/bob/profile").status_code == 401
    assert client.get("/v1/users/bob/profile", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/users/bob/profile", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_openapi_documents_every_route(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for route in ["/v1/chat", "/v1/chat/stream", "/v1/observe", "/v1/users/{user_id}/profile", "/v1/users/{user_id}/recommendations",
                  "/v1/users/{user_id}/feedback", "/v1/users/{user_id}/export", "/v1/users/{user_id}", "/v1/users/{user_id}/interests/{interest}"]:
        assert route in paths, route


def test_observe_with_shown_turns_a_reply_into_feedback_on_those_items(api: TestClient) -> None:
    # The host bot says what it displayed; "sounds good" then records a like of exactly that item.
    recs = api.get("/v1/users/sam/recommendations", params={"k": 3}).json()["recommendations"]
    shown = [recs[1]["item_id"]]
    r = api.post("/v1/observe", json={"user_id": "sam", "message": "sounds good, I'll watch it", "shown": shown})
    assert r.status_code == 200, r.text
    signals = r.json()["signals"]
    assert [s["item_id"] for s in signals] == shown and signals[0]["polarity"] > 0
    exported = api.get("/v1/users/sam/export").json()
    assert shown[0] in {e.get("item_id") for e in exported["events"]}
    # Not a list of strings, or too many ids: a clear 422, nothing recorded.
    for bad in ({"shown": "x"}, {"shown": [1, 2]}, {"shown": ["i"] * 51}):
        r = api.post("/v1/observe", json={"user_id": "sam2", "message": "seen it", **bad})
        assert r.status_code == 422, (bad, r.text)
    assert api.get("/v1/users/sam2/export").json()["events"] == []


def test_forgetting_an_unknown_interest_is_a_json_404(api: TestClient) -> None:
    """Hardening item 18: it was a plain-text 500."""
    assert api.post("/v1/observe", json={"user_id": "fi", "message": "I adore westerns"}).status_code == 200
    r = api.delete("/v1/users/fi/interests/NoSuchInterest")
    assert r.status_code == 404 and "NoSuchInterest" in r.json()["detail"]
    # A category may hold a slash ("Home/Garden"): the route reaches the handler, not the router's bare "Not Found".
    for path in ("/v1/users/fi/interests/Home/Garden", "/v1/users/fi/interests/Home%2FGarden"):
        r = api.delete(path)
        assert r.status_code == 404 and "Home/Garden" in r.json()["detail"], (path, r.text)
    assert api.delete("/v1/users/fi/interests/Western").status_code == 200


def test_an_unhandled_error_is_json_and_counted(plugin, prepared_data_dir: Path, monkeypatch) -> None:
    """Hardening item 18: unhandled 5xx were not counted in ibot_errors_total."""
    services = Services(Settings(data_dir=prepared_data_dir, device="cpu"), plugin=plugin)
    client = TestClient(create_app(services=services, ui=False), base_url=LOOPBACK_URL, client=LOOPBACK_CLIENT, raise_server_exceptions=False)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(plugin, "profile_dict", broken)
    r = client.get("/v1/users/err/profile")
    assert r.status_code == 500 and r.json()["detail"] == "internal error" and "fire" not in r.text
    metrics = client.get("/metrics").text
    assert 'ibot_errors_total{route="/v1/users/{user_id}/profile",status="500"} 1.0' in metrics

    def broken_value(*args, **kwargs):
        raise ValueError("internal: chroma collection /srv/data/chroma for err broken")

    # A ValueError from inside is no fault of the client's: a logged 500, its text (paths, user data) not echoed.
    monkeypatch.setattr(plugin, "profile_dict", broken_value)
    r = client.get("/v1/users/err/profile")
    assert r.status_code == 500 and r.json()["detail"] == "internal error" and "chroma" not in r.text
    # Input the client can fix still gets a 422 that says why.
    r = client.post("/v1/users/err/feedback", json={"item_id": "bbc-news:50", "liked": True})
    assert r.status_code == 422 and "belongs to catalog" in r.json()["detail"], r.text


def test_feedback_takes_liked_and_a_catalog_not_a_dead_seen_flag(api: TestClient) -> None:
    """Hardening item 18: `seen` was accepted and ignored (liked=None already means seen it), and feedback always
    went to the default catalog."""
    assert api.post("/v1/users/fb/feedback", json={"item_id": "50", "seen": True}).status_code == 422
    assert api.post("/v1/users/fb/feedback", json={"item_id": "50", "liked": None}).status_code == 200
    r = api.post("/v1/users/fb/feedback", json={"item_id": "50", "liked": True, "catalog": "nope"})
    assert r.status_code == 404 and "unknown catalog" in r.json()["detail"]
    assert "movielens-100k" not in r.text  # the ingested catalogs are the operator's to list, not any caller's
    r = api.post("/v1/users/fb/feedback", json={"item_id": "50", "liked": True, "catalog": "movielens-100k"})
    assert r.status_code == 200 and r.json()["event_ids"]
