"""Who a browser is: a server-signed user id kept in the browser, or the login name under auth.

The browser stores `{"uid": ..., "sig": HMAC(secret, uid)}` (a `gr.BrowserState`). Every
handler derives the user id from that token and verifies the signature first, so a client
cannot name another user's id: a forged, altered or foreign token gives no identity at all
(the page then issues a fresh one). A browser identity that was forgotten is never accepted
again: ids are random, so a forgotten browser simply gets a new one. With `IBOT_UI_AUTH` set,
the Gradio login name is the user id and the browser token is ignored (a login stays valid
after a forget: the password is the credential).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

UID_PREFIX = "web-"
SECRET_FILE = "ui_secret"


def _sign(secret: bytes, uid: str) -> str:
    return hmac.new(secret, uid.encode(), hashlib.sha256).hexdigest()


def issue(secret: bytes) -> dict[str, str]:
    """A new random identity for a browser that has none (or a bad one)."""
    uid = UID_PREFIX + secrets.token_urlsafe(12)
    return {"uid": uid, "sig": _sign(secret, uid)}


def verify(secret: bytes, token: Any) -> str | None:
    """The user id a token proves, or None when it is missing, malformed or forged."""
    if not isinstance(token, dict):
        return None
    uid, sig = token.get("uid"), token.get("sig")
    if not isinstance(uid, str) or not isinstance(sig, str) or not uid.startswith(UID_PREFIX) or len(uid) > 64:
        return None
    if not hmac.compare_digest(_sign(secret, uid), sig):
        return None
    return uid


def resolve(
    secret: bytes,
    token: Any,
    request: gr.Request | None = None,
    auth_enabled: bool = False,
    forgotten_at: Callable[[str], float | None] | None = None,
) -> str | None:
    """The user a request acts for: the login name under auth, else the verified browser token if never forgotten."""
    if auth_enabled:
        name = request.username if request is not None else None
        return login_user_id(name) if name else None
    uid = verify(secret, token)
    if uid is not None and forgotten_at is not None and forgotten_at(uid) is not None:
        return None  # revoked by a forget: whoever still holds the token acts for nobody
    return uid


def login_user_id(name: str) -> str:
    """The memory user id of a Gradio login: `login:<name>`, hashed when the name has unsafe characters."""
    if re.fullmatch(r"[A-Za-z0-9_.@\-]{1,100}", name):
        return f"login:{name}"
    return "login:h-" + hashlib.sha256(name.encode()).hexdigest()[:32]


def browser_secret(secret: bytes) -> str:
    """A stable key for Gradio's BrowserState encryption (derived, so tokens survive restarts)."""
    return hmac.new(secret, b"browser-state", hashlib.sha256).hexdigest()[:32]


def load_or_create_secret(data_dir: str | Path) -> bytes:
    """The server's signing secret, created once (mode 0600) in the data dir so identities survive restarts."""
    path = Path(data_dir) / SECRET_FILE
    damaged = False
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
        damaged = True
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_hex(32).encode()
    # Written whole to a private temp file, then linked into place: link fails if the name exists, so of
    # several replicas starting together exactly one secret wins and every one of them reads that one.
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        if damaged:  # a short secret: replace it whole
            os.replace(tmp, path)
            return data
        os.link(tmp, path)
        return data
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        tmp.unlink(missing_ok=True)


def parse_auth(value: str | list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
    """`user:pass,user2:pass2` (IBOT_UI_AUTH) as Gradio auth pairs; None when unset."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return value or None
    pairs = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        user, sep, password = part.partition(":")
        if not sep or not user or not password:
            raise ValueError("IBOT_UI_AUTH must look like `user:pass,user2:pass2`")
        pairs.append((user.strip(), password))
    return pairs or None
