"""One ASGI app: the HTTP API under /v1, /healthz, /metrics and the Gradio UI at `/`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from .api import create_api, install_error_handlers
from .config import Settings
from .services import Services

PLACEHOLDER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>interest-bot</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>interest-bot is running</h1>
<p>The HTTP API is at <a href="/docs">/docs</a>; the health check at <a href="/healthz">/healthz</a>.</p>
</body></html>"""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the server's ASGI app from settings (or from services composed by the caller)."""
    settings = settings or (services.settings if services else Settings())
    services = services or Services(settings)
    app = FastAPI(
        title="interest-bot",
        version="0.1.0",
        description="Interest capture and explained recommendations for chatbots. All user routes are under /v1.",
    )
    app.state.services = services
    install_error_handlers(app, services)
    app.include_router(create_api(services))

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        """Prometheus metrics."""
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return PLACEHOLDER_PAGE

    return app
