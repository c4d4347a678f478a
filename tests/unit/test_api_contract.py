"""The HTTP API keeps the promises its OpenAPI schema makes: what the schema fuzzer (tests/integration/test_api_fuzz.py)
found, pinned one test per finding, plus the declarations that make its conformance checks mean something."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from interest_bot.bot.config import Settings

# Under IBOT_AUTH=none the server answers loopback hosts and clients only (bot/loopback.py).
LOOPBACK: dict[str, Any] = {"base_url": "http://127.0.0.1:7860", "client": ("127.0.0.1", 50000)}
MODES: dict[str, dict[str, Any]] = {  # Settings arguments
    "none": {},
    "service": {"auth": "service", "api_key": "k" * 32},
    "user": {"auth": "user", "auth_secret": "s" * 40},
}
# Blank by Python's str.isspace (what the server checks), including characters JSON Schema's \s does not cover.
BLANKS = ["\x1e", " \t\n", "\u3000", "\x85", "\x1c\x1d"]


def _app(data_dir: Path, ui: bool = False, **settings: Any) -> FastAPI:
    """The server's app on an empty data dir (no plugin is opened: these requests never reach one)."""
    from interest_bot.bot.server import create_app
    from interest_bot.bot.services import Services

    return create_app(services=Services(Settings.without_env_file(data_dir=data_dir, device="cpu", **settings)), ui=ui)


def _spec(data_dir: Path, mode: str) -> dict[str, Any]:
    # The schema the app publishes (under service and user auth /openapi.json asks for the operator's key).
    return _app(data_dir, **MODES[mode]).openapi()


def test_undeclared_methods_get_405_even_with_the_ui_mounted(tmp_path: Path) -> None:
    """Found by the fuzzer: with the UI mounted at `/`, `TRACE /v1/chat` or `POST /healthz` got the UI's 404."""
    client = TestClient(_app(tmp_path, ui=True), **LOOPBACK)
    cases = [
        ("TRACE", "/v1/chat", "POST"),
        ("PUT", "/v1/observe", "POST"),
        ("GET", "/v1/users/alice", "DELETE"),
        ("PATCH", "/v1/users/alice/profile", "GET"),
        ("POST", "/healthz", "GET"),
        ("DELETE", "/metrics", "GET"),
    ]
    for method, path, allow in cases:
        r = client.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code, r.text[:200])
        assert r.headers["allow"] == allow
        assert r.json()["detail"]
    assert client.get("/healthz").json() == {"status": "ok"}  # declared methods still reach their routes
    assert client.get("/").status_code == 200  # and everything else the UI


def test_a_message_the_server_calls_empty_is_invalid_by_its_schema(tmp_path: Path) -> None:
    """Found by the fuzzer: the schema accepted any non-empty message, the server answered 422 to "\\x1e"."""
    client = TestClient(_app(tmp_path), **LOOPBACK)
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("ChatRequest", "ObserveRequest"):
        pattern = schemas[model]["properties"]["message"]["pattern"]
        assert all(re.search(pattern, blank) is None for blank in BLANKS), model
        assert re.search(pattern, "I love westerns")
    for blank in BLANKS:
        r = client.post("/v1/observe", json={"user_id": "blank", "message": blank})
        assert r.status_code == 422 and r.json()["detail"], (blank, r.status_code, r.text)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_route_declares_its_response_model_and_error_statuses(tmp_path: Path, mode: str) -> None:
    """Found by the fuzzer: 404 (unknown catalog, item, interest) and 403 (another user's id) were undeclared."""
    spec = _spec(tmp_path, mode)
    errors = {"#/components/schemas/ErrorResponse", "#/components/schemas/ValidationErrorResponse"}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            ok = op["responses"]["200"]["content"]
            assert any(body.get("schema") for body in ok.values()), f"{where}: 200 has no schema"
            for status, response in op["responses"].items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"]["$ref"] in errors, (where, status)
            if path.startswith("/v1"):
                declared = set(op["responses"])
                want = {"400", "413", "422", "500"} | {"none": {"403"}, "service": {"401"}, "user": {"401", "403"}}[mode]
                assert want <= declared, (where, sorted(want - declared))
                assert (op.get("security") is not None) == (mode != "none"), where
    paths = spec["paths"]
    for path, method in [("/v1/observe", "post"), ("/v1/chat", "post"), ("/v1/chat/stream", "post"),
                         ("/v1/users/{user_id}/recommendations", "get"), ("/v1/users/{user_id}/feedback", "post"),
                         ("/v1/users/{user_id}/interests/{interest}", "delete")]:
        assert "404" in paths[path][method]["responses"], path
    for path in ("/v1/chat", "/v1/chat/stream"):
        assert "Retry-After" in paths[path]["post"]["responses"]["429"]["headers"]
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert list(paths["/v1/chat/stream"]["post"]["responses"]["200"]["content"]) == ["application/x-ndjson"]
