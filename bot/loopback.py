"""Under IBOT_AUTH=none nothing asks for a credential, so nothing but loopback may be served: a request whose Host
names another machine (DNS rebinding) or that comes from a non-loopback client (a proxy) is refused."""

from __future__ import annotations

import json
from typing import Any

from .auth import is_loopback

Scope = dict[str, Any]


def host_name(host_header: str) -> str:
    """The host of a Host header, without its port ("[::1]:7860" -> "::1")."""
    host = host_header.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LoopbackOnly:
    """ASGI middleware: 403 with a JSON message unless both the Host and the client are loopback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in {"http", "websocket"}:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = (scope.get("client") or ("", 0))[0]
        if is_loopback(host_name(headers.get("host", ""))) and is_loopback(client):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        body = json.dumps({"detail": "IBOT_AUTH=none serves loopback hosts and clients only; set IBOT_AUTH to serve others"}).encode()
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
