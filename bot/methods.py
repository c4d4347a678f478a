"""405 for a declared path called with a method it does not take, although the UI is mounted at `/`.

Starlette hands a request whose path matches a route but whose method does not to the next route that matches in
full, and the UI's mount at `/` matches everything: `PUT /v1/observe` got the UI's 404 instead of a 405."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Mount

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> set[str] | None:
    """The methods a request's path takes when no route takes its method; None when a route does, or none has the path."""
    partial = []
    for route in routes:
        if isinstance(route, Mount):
            continue  # a mount (the UI) takes any method: it is what hid the 405
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return None
        if match == Match.PARTIAL:
            partial.append(route)
    # Asked of each route by matching, not read from `route.methods`: FastAPI's included routers do not expose it.
    allowed = {m for route in partial for m in _METHODS if route.matches({**scope, "method": m})[0] == Match.FULL}
    return allowed or None


class UndeclaredMethods:
    """ASGI middleware: a JSON 405 with an `Allow` header for a known path and an undeclared method."""

    def __init__(self, app: Any, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        allowed = allowed_methods(self.routes(), scope) if scope["type"] == "http" else None
        if allowed is None:
            return await self.app(scope, receive, send)
        detail = f"{scope['method']} is not allowed here; allowed: {', '.join(sorted(allowed))}"
        await JSONResponse({"detail": detail}, status_code=405, headers={"Allow": ", ".join(sorted(allowed))})(scope, receive, send)
