"""One ASGI app: the HTTP API and (once built) the Gradio UI mounted at `/`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from .config import Settings

PLACEHOLDER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>interest-bot</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>interest-bot is running</h1>
<p>The server is up. The chat UI is not built yet; the health check is at <a href="/healthz">/healthz</a>.</p>
</body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the server's ASGI app from settings."""
    settings = settings or Settings()
    app = FastAPI(title="interest-bot", version="0.1.0", description="Interest capture and recommendations for chatbots.")
    app.state.settings = settings

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return PLACEHOLDER_PAGE

    return app
