"""One ASGI app: the HTTP API under /v1, /healthz, /metrics and the Gradio UI at `/`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from .api import BodyLimitMiddleware, create_api, install_error_handlers
from .api_models import HealthResponse, error_responses
from .auth import effective_mode
from .config import Settings
from .loopback import LoopbackOnly
from .methods import UndeclaredMethods
from .services import Services


def _mount_ui(app: FastAPI, services: Services) -> None:
    """Hand the UI the plugin and a chat function; it builds no models itself."""
    from interest_bot.ui.app import MAX_UPLOAD_BYTES, mount_ui
    from interest_bot.ui.identity import load_or_create_secret

    # Every Gradio request body, uploads included, is capped before Gradio reads it (413 JSON, also for a
    # chunked body with no Content-Length); Gradio's own per-file cap (max_file_size) is the same size.
    app.add_middleware(BodyLimitMiddleware, limit=MAX_UPLOAD_BYTES, prefix="/gradio_api/")

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
        history=services.history,
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
        # The docs and the schema are served below, behind the operator's key like /metrics.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.services = services
    app.add_middleware(UndeclaredMethods, routes=lambda: app.router.routes)
    # No origin but the server's own may read its answers: browsers then refuse every cross-origin read and send no
    # credentialed cross-origin call past a preflight. Starlette's middleware here also makes Gradio's own CORS
    # stand aside, which echoed any Origin with Allow-Credentials whenever the Host was not a localhost name.
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    loopback_only = effective_mode(settings) == "none"
    if loopback_only:
        app.add_middleware(LoopbackOnly)
    ops_errors = error_responses(403) if loopback_only else {}
    install_error_handlers(app, services)
    app.include_router(create_api(services))

    # Both run on the event loop, not in the worker threads that chats occupy: they answer while chats queue.
    @app.get("/healthz", tags=["ops"], responses=ops_errors)
    async def healthz() -> HealthResponse:
        """Liveness: the process answers."""
        return HealthResponse(status="ok")

    # Async guards: checking a key is pure computation, so these routes never wait for a worker thread either.
    async def metrics_guard(request: Request) -> None:
        services.authorize_ops(request.headers.get("authorization"), settings.metrics_public, "IBOT_METRICS_PUBLIC")

    async def docs_guard(request: Request) -> None:
        services.authorize_ops(request.headers.get("authorization"), settings.docs_public, "IBOT_DOCS_PUBLIC")

    # A bare Response class: the 200 is declared as text/plain, while the errors stay JSON in the schema.
    text: dict[int | str, dict[str, Any]] = {200: {"description": "the text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}
    metrics_errors = ops_errors if loopback_only or settings.metrics_public else error_responses(401)

    @app.get("/metrics", tags=["ops"], response_class=Response, responses={**text, **metrics_errors}, dependencies=[Depends(metrics_guard)])
    async def metrics() -> Response:
        """Prometheus metrics (the bearer key IBOT_API_KEY under service and user auth, unless IBOT_METRICS_PUBLIC)."""
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(docs_guard)])
    async def openapi() -> JSONResponse:
        """The OpenAPI schema."""
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(docs_guard)])
    async def docs() -> HTMLResponse:
        """The interactive API page."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="interest-bot API")

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(docs_guard)])
    async def redoc() -> HTMLResponse:
        """The API reference page."""
        return get_redoc_html(openapi_url="/openapi.json", title="interest-bot API")

    if ui:
        _mount_ui(app, services)
    return app
