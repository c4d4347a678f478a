"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (Schemathesis), in each auth mode.

A real uvicorn server in this process (the app `serve` builds, UI included) on a real plugin (real MiniLM, real
Chroma); the chat routes run the real agent and middleware with a scripted chat model, since the fuzzing is about
the HTTP layer and the real SmolLM2 would spend seconds per generated case. Every route, every Schemathesis check
(no 5xx, status codes, content types, headers and bodies as declared, undeclared methods 405, auth enforced), plus
one of ours: a 4xx body is JSON with a message. Examples are bounded and derandomized so the run fits CI.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from requests.structures import CaseInsensitiveDict
from schemathesis import Case
from schemathesis.core.failures import Failure

from interest_bot.bot.auth import issue_token
from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services
from interest_bot.memory.userid import validate_user_id

KEY = "fuzz-key-" + "5e1f0a9b3c7d2e48" * 2
SECRET = "fuzz-secret-" + "9a8b7c6d5e4f3a2b" * 3
FALLBACK_USER = "fuzz-user"
MODES = ["none", "service", "user"]
# Generated cases per operation and auth mode (Schemathesis' example and coverage phases add their own): the three
# modes take about 75 s on the 2-core CI machine.
MAX_EXAMPLES = 50


class ScriptedModel(GenericFakeChatModel):
    """Always answers the same sentence (the agent and middleware around it are real)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def _free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A uvicorn server on a free port in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def _settings(mode: str, data_dir: Path) -> Settings:
    """The server settings of one auth mode."""
    extra: dict[str, Any] = {"none": {}, "service": {"auth": "service", "api_key": KEY}, "user": {"auth": "user", "auth_secret": SECRET, "api_key": KEY}}[mode]
    return Settings.without_env_file(data_dir=data_dir, device="cpu", **extra)


def _published_schema(mode: str) -> dict[str, Any]:
    """The OpenAPI document an app in this mode publishes (built without opening a plugin: routes only)."""
    return create_app(services=Services(_settings(mode, Path("unused"))), ui=False).openapi()


@pytest.fixture(scope="module")
def servers(catalog_template: Path, encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One real server per auth mode (the app `serve` builds, UI included) over one real plugin; their URLs."""
    import shutil

    from interest_bot.plugins.interest.plugin import InterestPlugin

    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(catalog_template, data_dir, ignore=shutil.ignore_patterns(".complete", ".interest-bot.lock"))
    plugin = InterestPlugin.open(data_dir=data_dir, encoder=encoder)
    with contextlib.ExitStack() as stack:
        urls = {}
        for mode in MODES:
            model = ScriptedModel(messages=itertools.repeat("Noted, thanks."))
            services = Services(_settings(mode, data_dir), plugin=plugin, chat_model=model)
            urls[mode] = stack.enter_context(_Server(create_app(services=services), _free_port())).url
        yield urls
    plugin.close()


def _acting_user(case: Case) -> str:
    """The user a case acts for (path or body), when it is a valid id; else a fixed one."""
    body = case.body if isinstance(case.body, dict) else {}
    path_user = (case.path_parameters or {}).get("user_id")
    # Schemathesis keeps path parameters percent-encoded ("a%3Ab"); the server sees them decoded.
    for candidate in (unquote(path_user) if isinstance(path_user, str) else None, body.get("user_id")):
        if isinstance(candidate, str):
            try:
                return validate_user_id(candidate)
            except Exception:  # an invalid id is the fuzzer's business: the server must reject it
                continue
    return FALLBACK_USER


def _credential_for(mode: str) -> type:
    """A Schemathesis auth provider: the service key, or a token for the very user the case acts for (so the fuzzer
    reaches past the 403 for another user's id into the route itself)."""

    class Credential:
        def get(self, case: Case, context: Any) -> str | None:
            if mode == "service":
                return KEY
            if mode == "user":
                return issue_token(SECRET, _acting_user(case), ttl=600)
            return None

        def set(self, case: Case, data: str | None, context: Any) -> None:
            if data is not None:
                headers = CaseInsensitiveDict(case.headers or {})  # the type Case keeps its headers in
                headers["Authorization"] = f"Bearer {data}"
                case.headers = headers

    return Credential


class ErrorBodyFailure(Failure):
    """A 4xx whose body is not JSON, or has no message."""

    kind_title = "4xx body is not JSON with a message"


def _has_message(body: Any) -> bool:
    """True for `{"detail": "<words>"}` or `{"detail": [{"msg": "<words>", ...}, ...]}`."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return bool(detail.strip())
    return isinstance(detail, list) and bool(detail) and all(isinstance(d, dict) and str(d.get("msg", "")).strip() for d in detail)


def error_bodies_are_json_with_a_message(ctx: Any, response: Any, case: Case) -> bool | None:
    """A 4xx answer is a JSON object whose `detail` says what was wrong (a string, or validation issues with a msg)."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    try:
        body = response.json() if content_type.startswith("application/json") else None
    except ValueError:
        body = None
    if not _has_message(body):
        raise ErrorBodyFailure(operation=case.operation.label, message=f"{response.status_code} ({content_type}): {response.text[:300]}")
    return None


def _fuzz_test(mode: str) -> Any:
    """The Schemathesis test of one auth mode: one pytest item per operation of the schema that mode publishes.

    The schema is loaded at import (from the app, no server needed) rather than through `schemathesis.pytest.
    from_fixture`, whose lazy loader breaks on pytest 9.2 (it sets `Function._nodeid`, which pytest 9.2 removed);
    every case is still sent to a real server, and a test below checks that server publishes this very schema.
    """
    schema = schemathesis.openapi.from_dict(_published_schema(mode))
    # No caching: under `user` each case gets a token for its own user id.
    schema.auth(refresh_interval=None)(_credential_for(mode))

    @schema.parametrize()
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    def test(case: Case, servers: dict[str, str]) -> None:
        """No 5xx, every response as the schema declares it, every 4xx JSON with a message."""
        case.call_and_validate(base_url=servers[mode], additional_checks=[error_bodies_are_json_with_a_message])

    return test


test_fuzz_auth_none = _fuzz_test("none")
test_fuzz_auth_service = _fuzz_test("service")
test_fuzz_auth_user = _fuzz_test("user")


def test_the_error_body_check_fails_what_it_should() -> None:
    """Our check is not vacuous: plain text, JSON without a message and an empty detail fail; FastAPI's shapes pass."""
    case = SimpleNamespace(operation=SimpleNamespace(label="GET /x"))

    def response(status: int, text: str, content_type: str = "application/json") -> SimpleNamespace:
        return SimpleNamespace(status_code=status, text=text, headers={"content-type": [content_type]}, json=lambda: json.loads(text))

    for bad in [response(404, "Not Found", "text/plain"), response(400, "{}"), response(422, '{"detail": []}'), response(405, '{"detail": " "}')]:
        with pytest.raises(ErrorBodyFailure):
            error_bodies_are_json_with_a_message(None, bad, case)  # type: ignore[arg-type]  # a fake case: the label is all the check reads
    for good in [response(404, '{"detail": "unknown item"}'), response(422, '{"detail": [{"loc": ["body"], "msg": "bad", "type": "x"}]}'), response(200, "ok", "text/plain")]:
        assert error_bodies_are_json_with_a_message(None, good, case) is None  # type: ignore[arg-type]  # the same fake case


@pytest.mark.parametrize("mode", MODES)
def test_the_fuzzed_schema_is_the_one_the_server_publishes(servers: dict[str, str], mode: str) -> None:
    """The schemas above are built at import; the running servers must publish exactly these."""
    headers = {"Authorization": f"Bearer {KEY}"} if mode != "none" else {}  # the schema is behind the operator's key
    assert httpx.get(servers[mode] + "/openapi.json", headers=headers, timeout=30).json() == _published_schema(mode)
