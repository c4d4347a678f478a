"""One ASGI app: the HTTP API under /v1, /healthz, /metrics and the Gradio UI at `/`."""

from __future__ import annotations

from typing import Any, Iterator

from fastapi import FastAPI
from fastapi.responses import Response

from .api import create_api, install_error_handlers
from .auth import effective_mode
from .config import Settings
from .loopback import LoopbackOnly
from .services import Services


def _mount_ui(app: FastAPI, services: Services) -> None:
    """Hand the UI the plugin and a chat function; it builds no models itself."""
    from interest_bot.ui.app import mount_ui
    from interest_bot.ui.identity import load_or_create_secret

    def chat_stream(user_id: str, message: str, catalog: str | None) -> Iterator[dict[str, Any]]:
        with services.turn_lock(user_id):
            yield from services.chat_for(services.plugin_for(catalog)).stream(user_id, message)

    def forget_user(user_id: str) -> None:
        services.forget_user(user_id)

    def export_user(user_id: str) -> dict[str, Any]:
        data = services.plugin.export(user_id)
        data["conversations"] = services.conversations(user_id)
        return data

    mount_ui(
        app,
        plugin_for=services.plugin_for,
        chat_stream=chat_stream,
        catalogs=services.catalogs,
        secret=load_or_create_secret(services.settings.data_dir),
        auth=services.settings.ui_auth or None,
        forget_user=forget_user,
        export_user=export_user,
        history=services.conversations,
        max_message_chars=services.settings.max_message_chars,
        turns_per_minute=services.settings.ui_turns_per_minute if services.settings.ui_public else None,
        forgotten_at=lambda user_id: services.plugin.forgotten_at(user_id),
    )


def create_app(settings: Settings | None = None, services: Services | None = None, ui: bool = True) -> FastAPI:
    """Build the server's ASGI app from settings (or from services composed by the caller)."""
    settings = settings or (services.settings if services else Settings())
    services = services or Services(settings)
    app = FastAPI(
        title="interest-bot",
        version="0.1.0",
        description="Interest capture and explained recommendations for chatbots. All user routes are under /v1.",
    )
    app.state.services = services
    if effective_mode(settings) == "none":
        app.add_middleware(LoopbackOnly)
    install_error_handlers(app, services)
    app.include_router(create_api(services))

    # Both run on the event loop, not in the worker threads that chats occupy: they answer while chats queue.
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    if ui:
        _mount_ui(app, services)
    return app
