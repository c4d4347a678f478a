"""Slow chats cannot starve the server: a real uvicorn server in this process, a chat
model that blocks until released, 60 concurrent chats."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from interest_bot.bot.config import Settings
from interest_bot.bot.server import create_app
from interest_bot.bot.services import Services

RELEASE = threading.Event()
STARTED = threading.Semaphore(0)


class BlockingModel(GenericFakeChatModel):
    """Answers only once the test releases it."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> BlockingModel:
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        STARTED.release()
        RELEASE.wait(120)
        return super()._generate(messages, stop, run_manager, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sixty_blocked_chats_leave_health_and_metrics_answering(plugin, prepared_data_dir: Path) -> None:
    import itertools

    model = BlockingModel(messages=itertools.repeat("Fine."))
    settings = Settings.without_env_file(data_dir=prepared_data_dir, device="cpu", chat_queue=8)
    app = create_app(services=Services(settings, plugin=plugin, chat_model=model), ui=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    while not server.started:
        time.sleep(0.05)
    try:
        def chat(i: int) -> httpx.Response:
            return httpx.post(url + "/v1/chat", json={"user_id": f"slow-{i}", "message": "I love westerns"}, timeout=180)

        with ThreadPoolExecutor(60) as pool:
            futures = [pool.submit(chat, i) for i in range(60)]
            assert STARTED.acquire(timeout=120), "no chat reached the model"
            # Every admitted chat is blocked now; overflow answers at once, health and metrics still answer.
            overflow = [f for f in futures if f.done()]
            deadline = time.monotonic() + 60
            while len([f for f in futures if f.done()]) < 52 and time.monotonic() < deadline:
                time.sleep(0.1)
            done = [f.result() for f in futures if f.done()]
            assert len(done) >= 52, f"only {len(done)} of the 52 over the queue were refused"
            assert all(r.status_code in {429, 503} and r.headers.get("Retry-After") for r in done), {r.status_code for r in done}
            assert all(r.json()["detail"] for r in done)
            assert httpx.get(url + "/healthz", timeout=10).json() == {"status": "ok"}
            assert httpx.get(url + "/metrics", timeout=10).status_code == 200
            RELEASE.set()
            results = [f.result() for f in futures]
        assert sum(r.status_code == 200 for r in results) == 8
        del overflow
    finally:
        RELEASE.set()
        server.should_exit = True
        thread.join(30)
