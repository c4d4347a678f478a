"""No credentialed cross-origin calls, a cap on uploads, and ops routes that follow the auth mode (hardening, item 3).

A real `interest-bot serve` under IBOT_AUTH=service with the UI: Gradio used to echo any Origin, with
`Access-Control-Allow-Credentials: true`, whenever the Host was not a localhost name; `/gradio_api/upload`
took files of any size; `/metrics`, `/docs` and `/openapi.json` answered anyone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from bench.server_process import serve
from interest_bot.bot.auth import issue_token
from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services

KEY = "ops-key-" + "3c4d5e6f7a8b9c0d" * 2
SECRET = "ops-secret-" + "9a8b7c6d5e4f3a2b" * 3
EVIL = "https://evil.example"
# A name that is not localhost: Gradio's CORS check only held back foreign origins for localhost hosts.
PUBLIC_HOST = {"Host": "bot.example:7860"}
OPS_ROUTES = ("/metrics", "/docs", "/redoc", "/openapi.json")
BIG = 8 * 1024 * 1024  # far over any upload the UI could need (it takes none)


def assert_not_shared_with(response: httpx.Response, origin: str) -> None:
    """The response lets no other origin read it with the user's credentials."""
    allowed = response.headers.get("access-control-allow-origin")
    credentials = response.headers.get("access-control-allow-credentials")
    assert allowed not in {origin, "*"} and credentials != "true", (response.request.url, allowed, credentials)


def multipart(size: int, boundary: str = "ibot-boundary") -> Iterator[bytes]:
    """A multipart upload of one file of `size` bytes, streamed (no Content-Length)."""
    yield f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    chunk = b"x" * 65536
    for _ in range(size // len(chunk)):
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def test_cross_origin_uploads_and_ops_routes_on_a_real_server(prepared_data_dir: Path, port: int, tmp_path: Path) -> None:
    with serve(prepared_data_dir, port, tmp_path / "server.log", IBOT_AUTH="service", IBOT_API_KEY=KEY) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        key = {"Authorization": f"Bearer {KEY}"}
        # -- cross-origin: simple requests and preflights, UI and API, never shared with a foreign origin ------
        for path in ("/", "/gradio_api/info", "/healthz", "/v1/users/x/profile"):
            assert_not_shared_with(http.get(path, headers={**PUBLIC_HOST, "Origin": EVIL}), EVIL)
        for path in ("/gradio_api/upload", "/gradio_api/queue/join", "/v1/observe"):
            preflight = {**PUBLIC_HOST, "Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
            assert_not_shared_with(http.options(path, headers=preflight), EVIL)
        assert http.get("/", headers=PUBLIC_HOST).status_code == 200  # the page itself still loads

        # -- uploads: capped, by Content-Length and while streaming; the answer is JSON with a message ------------
        r = http.post("/gradio_api/upload", files={"files": ("big.bin", b"x" * BIG)})
        assert r.status_code == 413 and r.json()["detail"], r.text
        r = http.post("/gradio_api/upload", content=multipart(BIG), headers={"Content-Type": "multipart/form-data; boundary=ibot-boundary"})
        assert r.status_code == 413 and r.json()["detail"], r.text
        assert http.post("/gradio_api/upload", files={"files": ("small.txt", b"hello")}).status_code == 200

        # -- ops routes: the service key, like /v1; liveness stays open ----------------------------------------------
        for path in OPS_ROUTES:
            r = http.get(path)
            assert r.status_code == 401 and r.json()["detail"] and r.headers.get("www-authenticate") == "Bearer", (path, r.status_code)
            assert http.get(path, headers={"Authorization": "Bearer wrong-key-0123456789"}).status_code == 401
            assert http.get(path, headers=key).status_code == 200, path
        assert "ibot_" in http.get("/metrics", headers=key).text
        assert "/v1/observe" in http.get("/openapi.json", headers=key).json()["paths"]
        assert http.get("/healthz").json() == {"status": "ok"}


class ScriptedModel(GenericFakeChatModel):
    """Always answers the same (no route here reaches the model)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def client_for(plugin, data_dir: Path, **settings: Any) -> TestClient:
    services = Services(Settings.without_env_file(data_dir=data_dir, device="cpu", **settings), plugin=plugin, chat_model=ScriptedModel(messages=itertools.repeat("ok")))
    return TestClient(create_app(services=services, ui=False), base_url="http://bot.example:7860")


def test_ops_routes_follow_each_auth_mode_unless_a_setting_opens_them(plugin, prepared_data_dir: Path) -> None:
    key = {"Authorization": f"Bearer {KEY}"}
    # user mode: a user's token is no key to the operator's routes; IBOT_API_KEY, when set, is.
    user = client_for(plugin, prepared_data_dir, auth="user", auth_secret=SECRET, api_key=KEY)
    token = {"Authorization": f"Bearer {issue_token(SECRET, 'alice')}"}
    for path in OPS_ROUTES:
        assert user.get(path).status_code == 401
        assert user.get(path, headers=token).status_code == 401
        assert user.get(path, headers=key).status_code == 200
    assert user.get("/v1/users/alice/profile", headers=token).status_code == 200
    keyless = client_for(plugin, prepared_data_dir, auth="user", auth_secret=SECRET)
    assert all(keyless.get(path, headers=token).status_code == 401 for path in OPS_ROUTES)
    # The documented settings open each group on purpose.
    opened = client_for(plugin, prepared_data_dir, auth="service", api_key=KEY, metrics_public=True, docs_public=True)
    assert all(opened.get(path).status_code == 200 for path in OPS_ROUTES)
    metrics_only = client_for(plugin, prepared_data_dir, auth="service", api_key=KEY, metrics_public=True)
    assert metrics_only.get("/metrics").status_code == 200 and metrics_only.get("/docs").status_code == 401
    assert metrics_only.get("/openapi.json").status_code == 401
