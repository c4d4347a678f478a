"""Auth modes and user tokens (bot/auth.py): signing, expiry, forgery, settings checks, the CLI."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from interest_bot.bot.auth import (
    AuthConfigError,
    TokenError,
    TokenExpiredError,
    bearer_token,
    check_auth_settings,
    check_serve_settings,
    effective_mode,
    is_loopback,
    issue_token,
    token_claims,
    verify_token,
)
from interest_bot.bot.config import Settings
from interest_bot.memory.userid import InvalidUserIdError

SECRET = "s" * 16 + "0123456789abcdef0123"
OTHER = "o" * 40
CLI = Path(sys.executable).with_name("interest-bot")


def test_token_round_trip_and_claims() -> None:
    token = issue_token(SECRET, "alice@example.com", ttl=60)
    assert token.startswith("ibt1.") and token.count(".") == 2
    assert verify_token(SECRET, token) == "alice@example.com"
    claims = token_claims(SECRET, token)
    assert claims["exp"] - claims["iat"] == 60
    assert verify_token(SECRET.encode(), issue_token(SECRET.encode(), "bob", ttl=timedelta(hours=1))) == "bob"


def test_expired_token_is_rejected() -> None:
    token = issue_token(SECRET, "alice", ttl=10, now=1_000_000)
    assert verify_token(SECRET, token, now=1_000_009) == "alice"
    with pytest.raises(TokenExpiredError):
        verify_token(SECRET, token, now=1_000_010)
    with pytest.raises(TokenExpiredError):
        verify_token(SECRET, issue_token(SECRET, "alice", ttl=1, now=time.time() - 5))


def _swap_payload(token: str, **changes: object) -> str:
    version, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{version}.{forged}.{sig}"


def test_forged_and_malformed_tokens_are_rejected() -> None:
    token = issue_token(SECRET, "alice", ttl=60)
    forgeries = [
        _swap_payload(token, sub="bob"),  # another user, old signature
        _swap_payload(token, exp=int(time.time()) + 10**7),  # longer life, old signature
        issue_token(OTHER, "alice", ttl=60),  # another server's secret
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # altered signature
        token.replace("ibt1.", "ibt2.", 1),
        "alice",
        "",
        "a.b.c",
        "ibt1..",
        "ibt1.%%%.%%%",
        "ibt1.é.é",
        "x" * 5000,
    ]
    for bad in forgeries:
        with pytest.raises(TokenError):
            verify_token(SECRET, bad)
    with pytest.raises(TokenError):
        verify_token(SECRET, None)  # type: ignore[arg-type]


def test_issue_checks_user_id_ttl_and_secret() -> None:
    for bad_user in ["../../etc/passwd", "", "u" * 10_000, "a b", "x\x00y"]:
        with pytest.raises(InvalidUserIdError):
            issue_token(SECRET, bad_user)
    for ttl in [0, -5, 10**9, True]:
        with pytest.raises(ValueError):
            issue_token(SECRET, "alice", ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(AuthConfigError):
        issue_token("short", "alice")


def test_modes_and_settings_checks() -> None:
    assert effective_mode(Settings.without_env_file()) == "none"
    assert effective_mode(Settings.without_env_file(api_key="k" * 32)) == "service"  # a bare key means service
    assert effective_mode(Settings.without_env_file(auth="user", auth_secret=SECRET)) == "user"
    with pytest.raises(AuthConfigError, match="IBOT_API_KEY"):
        check_auth_settings(Settings.without_env_file(auth="service"))
    with pytest.raises(AuthConfigError, match="IBOT_AUTH_SECRET"):
        check_auth_settings(Settings.without_env_file(auth="user", auth_secret="too-short"))
    assert check_auth_settings(Settings.without_env_file(auth="service", api_key="k" * 32)) == "service"
    # none binds loopback only; the other modes may bind anywhere.
    for host in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]:
        assert check_serve_settings(Settings.without_env_file(host=host)) == "none"
    for host in ["0.0.0.0", "::", "192.168.1.10", "example.com", ""]:
        with pytest.raises(AuthConfigError, match="loopback"):
            check_serve_settings(Settings.without_env_file(host=host))
    assert check_serve_settings(Settings.without_env_file(host="0.0.0.0", auth="user", auth_secret=SECRET, ui_auth="ann:pw-1234")) == "user"
    assert not is_loopback("0.0.0.0") and is_loopback("127.0.0.1")


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token(None) == "" and bearer_token("") == "" and bearer_token("Bearer") == ""


def test_secrets_are_not_in_settings_repr() -> None:
    s = Settings.without_env_file(auth="user", auth_secret=SECRET, api_key="KEY-" + "k" * 30)
    assert SECRET not in repr(s) and "KEY-" not in repr(s)


def _cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("IBOT_")}
    return subprocess.run([str(CLI), *args], env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_cli_token_command(tmp_path: Path) -> None:
    out = _cli(["token", "alice", "--ttl", "120"], {"IBOT_AUTH_SECRET": SECRET}, tmp_path)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    claims = token_claims(SECRET, token)
    assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == 120
    bad = _cli(["token", "../../etc/passwd"], {"IBOT_AUTH_SECRET": SECRET}, tmp_path)
    assert bad.returncode != 0 and "user id" in bad.stderr
    nosecret = _cli(["token", "alice"], {}, tmp_path)
    assert nosecret.returncode != 0 and "IBOT_AUTH_SECRET" in nosecret.stderr


def test_serve_refuses_unsafe_configurations(tmp_path: Path) -> None:
    out = _cli(["serve", "--host", "0.0.0.0", "--port", "9"], {"IBOT_DATA_DIR": str(tmp_path)}, tmp_path)
    assert out.returncode == 2 and "loopback" in out.stderr and "IBOT_AUTH" in out.stderr
    out = _cli(["serve", "--port", "9"], {"IBOT_AUTH": "service", "IBOT_DATA_DIR": str(tmp_path)}, tmp_path)
    assert out.returncode == 2 and "IBOT_API_KEY" in out.stderr
    out = _cli(["serve", "--port", "9"], {"IBOT_AUTH": "user", "IBOT_AUTH_SECRET": "short", "IBOT_DATA_DIR": str(tmp_path)}, tmp_path)
    assert out.returncode == 2 and "IBOT_AUTH_SECRET" in out.stderr


def test_app_refuses_to_build_without_credential(tmp_path: Path) -> None:
    from interest_bot.bot.server import create_app

    with pytest.raises(AuthConfigError):
        create_app(Settings.without_env_file(data_dir=tmp_path, auth="service"), ui=False)
    with pytest.raises(AuthConfigError):
        create_app(Settings.without_env_file(data_dir=tmp_path, auth="user"), ui=False)


def test_an_open_ui_off_loopback_needs_the_operator_to_say_so() -> None:
    """Hardening item 1: under service or user auth, `/` and `/gradio_api/*` asked for nothing."""
    key: dict[str, Any] = {"auth": "service", "api_key": "k" * 32}  # Settings arguments
    with pytest.raises(AuthConfigError, match="IBOT_UI_PUBLIC"):
        check_serve_settings(Settings.without_env_file(host="0.0.0.0", **key))
    assert check_serve_settings(Settings.without_env_file(host="0.0.0.0", ui_auth="ann:pw-1234", **key)) == "service"
    assert check_serve_settings(Settings.without_env_file(host="0.0.0.0", ui_public=True, **key)) == "service"
    assert check_serve_settings(Settings.without_env_file(host="0.0.0.0", serve_ui=False, **key)) == "service"
    assert check_serve_settings(Settings.without_env_file(host="127.0.0.1", **key)) == "service"  # loopback: as before
    out = subprocess.run([str(CLI), "serve", "--host", "0.0.0.0", "--port", "9"], env={**os.environ, "IBOT_AUTH": "service", "IBOT_API_KEY": "k" * 32},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "IBOT_UI_PUBLIC" in out.stderr
