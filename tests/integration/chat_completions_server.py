"""A small but real OpenAI-compatible chat-completions server (JSON and SSE streaming) for backend tests."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


def make_app(received: list[dict[str, Any]]) -> FastAPI:
    """The server remembers every request body it got, so tests can read what the bot sent."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        received.append(body)
        last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        words = ["Thanks", "for", "telling", "me:", *str(last).split()[:6]]
        created, model = int(time.time()), body.get("model", "stub")
        if not body.get("stream"):
            return JSONResponse({
                "id": "cmpl-1", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(words)}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)},
            })

        def events():
            for i, word in enumerate(words):
                delta = {"role": "assistant", "content": ("" if i == 0 else " ") + word}
                chunk = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": created, "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            end = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}}
            yield f"data: {json.dumps(end)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


class ChatCompletionsServer:
    """Runs the app with uvicorn on a loopback port in a background thread."""

    def __init__(self, port: int) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = f"http://127.0.0.1:{port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(make_app(self.received), host="127.0.0.1", port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ChatCompletionsServer:
        self._thread.start()
        deadline = time.time() + 30
        while not self._server.started:
            assert time.time() < deadline, "chat-completions server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
