"""Who may call /v1, and for which user: the three auth modes and the per-user tokens.

`IBOT_AUTH` selects the mode:

- `none` (default): no credential. The server must then listen on loopback only
  (`interest-bot serve --host 0.0.0.0` is refused). For one person on their own machine.
- `service`: one bearer key, `IBOT_API_KEY`. The caller is a trusted backend that passes the
  user id in the path or body. The server refuses to start without a key.
  (Setting only `IBOT_API_KEY`, with `IBOT_AUTH` unset, also means `service`.)
- `user`: each request carries a per-user token signed with `IBOT_AUTH_SECRET`
  (HMAC-SHA256, with an expiry). The user id comes from the token; a path or body user id
  that differs from it gets 403. Tokens come from `interest-bot token USER --ttl 3600` or
  from the host application:

      from interest_bot.bot.auth import issue_token
      token = issue_token(secret, "alice", ttl=3600)   # send as `Authorization: Bearer <token>`

Token format: `ibt1.<payload>.<signature>`, both parts base64url without padding; the
payload is JSON `{"sub": user_id, "iat": issued, "exp": expires, "ep": epoch}` (`iat`, `exp`
in seconds since the epoch; `ep` the issue time in milliseconds); the signature is HMAC-SHA256
over `ibt1.<payload>` with a key derived from the secret (so the secret itself is never used
directly as a MAC key for anything else).

Revocation: forgetting a user (`DELETE /v1/users/{id}`, "Forget me", `interest-bot memory forget`)
stores when it happened (memory/forget_log.py); a token whose `ep` is at or before that moment no
longer proves the user (401), one issued afterwards does. Issuers need to know nothing about it.
A token without `ep` (issued before this claim existed) counts from the start of its `iat` second.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import time
from datetime import timedelta
from typing import Any, Literal

from interest_bot.memory.userid import validate_user_id

from .config import Settings

log = logging.getLogger(__name__)

AuthMode = Literal["none", "service", "user"]
TOKEN_VERSION = "ibt1"
MIN_SECRET_CHARS = 32
MIN_API_KEY_CHARS = 16
DEFAULT_TTL_S = 24 * 3600
MAX_TTL_S = 366 * 24 * 3600
MAX_TOKEN_CHARS = 1024
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class AuthConfigError(RuntimeError):
    """The auth settings are unsafe or incomplete; the message says what to set."""


class TokenError(ValueError):
    """A user token that is malformed, forged or signed with another secret."""


class TokenExpiredError(TokenError):
    """A user token whose expiry has passed."""


# -- tokens ------------------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) % 4 == 1 or not all(c.isalnum() or c in "-_" for c in text):
        raise TokenError("token is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("token is not base64url") from exc


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_SECRET_CHARS:
        raise AuthConfigError(f"the token secret must be at least {MIN_SECRET_CHARS} characters (IBOT_AUTH_SECRET)")
    return hmac.new(raw, b"interest-bot user token v1", hashlib.sha256).digest()


def _sign(key: bytes, signing_input: str) -> str:
    return _b64(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())


def _ttl_seconds(ttl: float | int | timedelta) -> int:
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= MAX_TTL_S:
        raise ValueError(f"ttl must be between 1 second and {MAX_TTL_S // 86400} days, got {ttl!r}")
    return max(1, int(seconds))


def issue_token(secret: str | bytes, user_id: str, ttl: float | int | timedelta = DEFAULT_TTL_S, *, now: float | None = None) -> str:
    """A signed token that proves `user_id` until `now + ttl` (seconds, or a timedelta)."""
    validate_user_id(user_id)
    key = _key(secret)
    moment = time.time() if now is None else now
    issued = int(moment)
    claims = {"sub": user_id, "iat": issued, "exp": issued + _ttl_seconds(ttl), "ep": int(moment * 1000)}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{TOKEN_VERSION}.{payload}"
    return f"{signing_input}.{_sign(key, signing_input)}"


def token_claims(secret: str | bytes, token: str, *, now: float | None = None) -> dict[str, Any]:
    """The verified claims of a token (`sub`, `iat`, `exp`); TokenError when it does not verify."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenError("token is missing or too long")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise TokenError("token is not an interest-bot user token")
    signing_input = f"{parts[0]}.{parts[1]}"
    try:
        expected = _sign(_key(secret), signing_input)
    except UnicodeEncodeError as exc:
        raise TokenError("token is not ASCII") from exc
    if not hmac.compare_digest(expected.encode(), parts[2].encode("ascii", "replace")):
        raise TokenError("token signature does not verify")
    try:
        claims = json.loads(_unb64(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenError("token payload is not JSON") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str) or not isinstance(claims.get("exp"), int):
        raise TokenError("token payload lacks sub/exp")
    validate_user_id(claims["sub"])
    if (time.time() if now is None else now) >= claims["exp"]:
        raise TokenExpiredError("token has expired")
    return claims


def issued_before(claims: dict[str, Any], forgotten_at: float | None) -> bool:
    """True when a token with these claims was issued at or before the user's last forget (it is then revoked)."""
    if forgotten_at is None:
        return False
    epoch = claims.get("ep")
    if isinstance(epoch, int) and not isinstance(epoch, bool):
        return epoch / 1000 <= forgotten_at
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, (int, float)):
        return True  # nothing shows it was issued after the forget: refuse it
    return issued <= forgotten_at  # whole seconds: a token of the forget's own second is refused too


def verify_token(secret: str | bytes, token: str, *, now: float | None = None) -> str:
    """The user id a valid, unexpired token proves; TokenError (or TokenExpiredError) otherwise."""
    return token_claims(secret, token, now=now)["sub"]


# -- settings checks ---------------------------------------------------------------------------------------
def effective_mode(settings: Settings) -> AuthMode:
    """The mode in force: `IBOT_AUTH`, except that a bare `IBOT_API_KEY` under `none` means `service`."""
    if settings.auth == "none" and settings.api_key:
        return "service"
    return settings.auth


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual localhost names (never for 0.0.0.0 or ::)."""
    name = (host or "").strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_auth_settings(settings: Settings) -> AuthMode:
    """Raise AuthConfigError when the mode lacks its credential; return the effective mode."""
    mode = effective_mode(settings)
    if mode == "service":
        key = settings.api_key
        if not key:
            raise AuthConfigError("IBOT_AUTH=service needs a bearer key: set IBOT_API_KEY (e.g. `openssl rand -hex 32`).")
        if len(key) < MIN_API_KEY_CHARS:
            log.warning("IBOT_API_KEY is shorter than %d characters; use a long random key in production", MIN_API_KEY_CHARS)
    elif mode == "user":
        secret = settings.auth_secret
        if len(secret) < MIN_SECRET_CHARS:
            raise AuthConfigError(
                f"IBOT_AUTH=user needs IBOT_AUTH_SECRET of at least {MIN_SECRET_CHARS} random characters "
                "(e.g. `openssl rand -hex 32`); tokens are signed with it."
            )
    elif mode != "none":
        raise AuthConfigError(f"IBOT_AUTH must be none, service or user, not {mode!r}")
    return mode


def check_serve_settings(settings: Settings, host: str | None = None) -> AuthMode:
    """What `interest-bot serve` checks before binding: the credential, and loopback-only under `none`."""
    mode = check_auth_settings(settings)
    host = host if host is not None else settings.host
    if mode == "none" and not is_loopback(host):
        raise AuthConfigError(
            f"refusing to listen on {host!r} without authentication: IBOT_AUTH=none serves loopback only. "
            "Use --host 127.0.0.1, or set IBOT_AUTH=service with IBOT_API_KEY, or IBOT_AUTH=user with IBOT_AUTH_SECRET."
        )
    ui_open = settings.serve_ui and not settings.ui_auth and not settings.ui_public
    if not is_loopback(host) and ui_open:
        raise AuthConfigError(
            f"refusing to serve the chat UI on {host!r} to anyone who asks: the API needs a credential, the UI would "
            "not. Set IBOT_UI_AUTH=user:password, or IBOT_UI_PUBLIC=true to open it on purpose (each browser is then "
            "limited to IBOT_UI_TURNS_PER_MINUTE), or IBOT_SERVE_UI=false to serve the API only."
        )
    return mode


def bearer_token(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer <credential>` header ('' when absent)."""
    header = (authorization or "").strip()
    scheme, _, credential = header.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""
