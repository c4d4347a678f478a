"""The HTTP API under /v1 (FastAPI): chat, capture-only observe, profile, recommendations, feedback, export, forget."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount, Route, WebSocketRoute

from interest_bot.memory.errors import InvalidInputError
from interest_bot.memory.interests import UnknownInterestError
from interest_bot.plugins.interest.plugin import InterestPlugin

from .api_models import (
    ChatResponse,
    ExportResponse,
    FeedbackResponse,
    ForgetInterestResponse,
    ForgetResponse,
    ObserveResponse,
    ProfileResponse,
    RecommendationOut,
    RecommendationsResponse,
    SignalOut,
    error_responses,
)

log = logging.getLogger(__name__)
CHAT_RETRY_AFTER_S = 5

USER_ID_PATTERN = r"^[A-Za-z0-9_.@:\-]{1,128}$"
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, description="user id: 1-128 of A-Z a-z 0-9 _ . @ : -")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="a key the client picks per feedback action: a retry with the same key records nothing twice and returns the same event id",
    ),
]


# The schema says what `_check_text` enforces: some character that is not whitespace. Only declared, not validated by
# pydantic: its regex engine's \s is narrower than str.isspace ("\x1e"), and the server's check gives the clearer 422.
_MESSAGE = Field(
    min_length=1,
    json_schema_extra={"pattern": r"\S"},
    description="not blank; at most IBOT_MAX_MESSAGE_CHARS characters (413 beyond)",
    examples=["I love heist movies but can't stand romcoms"],
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatRequest(_Strict):
    """One user message for the agent."""

    user_id: StrictStr = Field(pattern=USER_ID_PATTERN, description="whose memory to use", examples=["alice"])
    message: StrictStr = _MESSAGE
    catalog: StrictStr | None = Field(default=None, description="an ingested catalog; default: the server's")
    thread: StrictStr = Field(default="default", pattern=r"^[A-Za-z0-9_\-]{1,64}$")


class ObserveRequest(_Strict):
    """A message from a bot that brings its own LLM: capture interests only."""

    user_id: StrictStr = Field(pattern=USER_ID_PATTERN, examples=["alice"])
    message: StrictStr = _MESSAGE
    catalog: StrictStr | None = None
    # What the bot showed right before this message: a reply such as "seen it" or "not that one" is feedback on these.
    shown: list[StrictStr] | None = Field(default=None, max_length=50)


class FeedbackRequest(_Strict):
    """A reaction to one recommended item: liked true (👍) / false (👎), or null for "seen it" (watched, no rating)."""

    item_id: StrictStr = Field(min_length=1, max_length=200, examples=["50", "movielens-100k:50"])
    liked: StrictBool | None = None
    catalog: str | None = Field(None, description="the catalog the item belongs to (default: IBOT_CATALOG)")


def _once(action: Callable[[], object]) -> Callable[[], None]:
    """A callable that runs `action` the first time it is called and does nothing after."""
    done = threading.Lock()

    def run() -> None:
        if done.acquire(blocking=False):
            action()

    return run


def _check_text(text: str, limit: int) -> str:
    if not text.strip():
        raise HTTPException(422, "message is empty")
    if len(text) > limit:
        raise HTTPException(413, f"message is longer than {limit} characters")
    return text


def _common_errors(mode: str) -> tuple[int, ...]:
    """The error statuses any /v1 route may answer in this auth mode."""
    auth = {"none": (403,), "service": (401,), "user": (401, 403)}[mode]
    return (400, *auth, 413, 422, 500)


def _auth_dependencies(services: Any, mode: str) -> list[Any]:
    """The /v1 credential check; under service and user it also declares the bearer scheme in the OpenAPI schema."""
    if mode == "none":
        return [Depends(services.authorize)]
    scheme = HTTPBearer(auto_error=False, description="IBOT_API_KEY" if mode == "service" else "a user token (`interest-bot token USER`)")

    def authorize(request: Request, _: HTTPAuthorizationCredentials | None = Depends(scheme)) -> None:
        services.authorize(request)  # reads the header itself: the scheme is here for the schema

    return [Depends(authorize)]


def _route_path(request: Request) -> str:
    """The matched route's path template (a metrics label that does not grow with ids), "unmatched" without one."""
    route = request.scope.get("route")
    return route.path if isinstance(route, Route | Mount | WebSocketRoute) else "unmatched"


def create_api(services: Any) -> APIRouter:
    """The /v1 routes over the services the server composed (plugin, chat, settings, metrics, auth)."""
    mode = services.check_auth()  # refuse to build an API whose auth mode lacks its key or secret
    router = APIRouter(prefix="/v1", dependencies=_auth_dependencies(services, mode), responses=error_responses(*_common_errors(mode)))
    limit = services.settings.max_message_chars
    chat_slots = threading.BoundedSemaphore(services.settings.chat_queue)

    def admit_chat() -> None:
        if not chat_slots.acquire(blocking=False):
            raise HTTPException(
                429,
                f"busy: {services.settings.chat_queue} chats are already in progress here; retry shortly",
                headers={"Retry-After": str(CHAT_RETRY_AFTER_S)},
            )

    def plugin_for(catalog: str | None) -> InterestPlugin:
        try:
            return services.plugin_for(catalog)
        except KeyError:
            # The ingested names are the operator's to know (`interest-bot catalog list`), not every caller's.
            raise HTTPException(404, f"unknown catalog {catalog!r}") from None

    def user(request: Request, user_id: str) -> str:
        return services.resolve_user(request, user_id)

    @router.post("/chat", response_model=ChatResponse, summary="One chat turn through the agent", responses=error_responses(404, 429))
    def chat(body: ChatRequest, request: Request) -> ChatResponse:
        uid = user(request, body.user_id)
        _check_text(body.message, limit)
        chat_service = services.chat_for(plugin_for(body.catalog))
        admit_chat()
        try:
            with services.turn_lock(uid):
                turn = chat_service.reply(uid, body.message, body.thread)
        finally:
            chat_slots.release()
        return ChatResponse(reply=turn.reply, recommendations=turn.recommendations, signals=turn.signals)

    @router.post(
        "/chat/stream",
        summary="One chat turn, streamed as NDJSON events (token…, done)",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}, "description": "one JSON event a line"}, **error_responses(404, 429)},
    )
    def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
        uid = user(request, body.user_id)
        _check_text(body.message, limit)
        chat_service = services.chat_for(plugin_for(body.catalog))
        admit_chat()
        turn_lock = services.turn_lock(uid)
        turn_lock.acquire()
        def release_both() -> None:
            turn_lock.release()
            chat_slots.release()

        release = _once(release_both)

        def events() -> Generator[bytes, None, None]:
            try:
                for event in chat_service.stream(uid, body.message, body.thread):
                    yield (json.dumps(event) + "\n").encode()
            except Exception as exc:  # the status line is sent: the client learns of it in-band
                log.exception("chat stream failed")
                services.metrics.errors.labels(route="/v1/chat/stream", status="stream_error").inc()
                yield (json.dumps({"type": "error", "message": f"the reply failed ({type(exc).__name__}); please try again"}) + "\n").encode()
            finally:
                release()  # also when the client went away and the stream was closed

        stream = events()

        def close_then_release() -> None:
            try:
                stream.close()  # a client that left: end the turn here (it runs its cleanup) before its locks are freed
            except ValueError:
                pass  # still inside a step in another thread: its finally frees them when the generator is finalized
            else:
                release()

        # Runs after the response, or when the client went away (even before the first byte).
        return StreamingResponse(stream, media_type="application/x-ndjson", background=BackgroundTask(close_then_release))

    @router.post("/observe", summary="Capture interests from a message (no LLM)", responses=error_responses(404))
    def observe(body: ObserveRequest, request: Request) -> ObserveResponse:
        uid = user(request, body.user_id)
        _check_text(body.message, limit)
        plugin = plugin_for(body.catalog)
        signals = plugin.observe(uid, body.message, shown=body.shown)
        return ObserveResponse(user_id=uid, signals=[SignalOut.model_validate(plugin.signal_to_dict(s)) for s in signals], event_ids=[s.event_id for s in signals if s.event_id])

    @router.get("/users/{user_id}/profile", summary="What was learned about a user")
    def profile(user_id: UserId, request: Request) -> ProfileResponse:
        return ProfileResponse(**services.plugin.profile_dict(user(request, user_id)))

    @router.get("/users/{user_id}/recommendations", summary="Ranked, explained recommendations", responses=error_responses(404))
    def recommendations(
        user_id: UserId,
        request: Request,
        k: int = Query(5, ge=1, le=50),
        catalog: str | None = Query(None),
    ) -> RecommendationsResponse:
        uid = user(request, user_id)
        plugin = plugin_for(catalog)
        recs = plugin.recommend(uid, k=k)
        plugin.record_impressions(uid, recs)
        return RecommendationsResponse(user_id=uid, recommendations=[RecommendationOut.model_validate(r.to_dict()) for r in recs], hint=plugin.cold_start_hint(uid))

    @router.post("/users/{user_id}/feedback", summary="👍 / 👎 / seen on an item", responses=error_responses(404))
    def feedback(user_id: UserId, body: FeedbackRequest, request: Request, idempotency_key: IdempotencyKey = None) -> FeedbackResponse:
        uid = user(request, user_id)
        try:
            event_ids = plugin_for(body.catalog).feedback(uid, body.item_id, liked=body.liked, key=idempotency_key)
        except KeyError as exc:
            raise HTTPException(404, f"unknown item {body.item_id!r}") from exc
        return FeedbackResponse(user_id=uid, event_ids=event_ids)

    @router.get("/users/{user_id}/export", summary="Everything stored about a user, as JSON")
    def export(user_id: UserId, request: Request) -> ExportResponse:
        uid = user(request, user_id)
        return ExportResponse(**services.plugin.export(uid), conversations=services.conversations(uid))

    @router.delete("/users/{user_id}", summary="Forget a user: memory, counts contribution, conversations")
    def forget(user_id: UserId, request: Request) -> ForgetResponse:
        uid = user(request, user_id)
        return ForgetResponse(user_id=uid, forgotten=True, threads_deleted=services.forget_user(uid))

    @router.delete("/users/{user_id}/interests/{interest:path}", summary="Forget one interest (a category or an event id; it may hold a slash)", responses=error_responses(404))
    def forget_interest(user_id: UserId, interest: Annotated[str, Path(min_length=1, max_length=200)], request: Request) -> ForgetInterestResponse:
        uid = user(request, user_id)
        try:
            services.plugin.forget_interest(uid, interest)
        except UnknownInterestError as exc:
            raise HTTPException(404, str(exc)) from exc
        return ForgetInterestResponse(user_id=uid, forgotten=interest)

    return router


def body_limit(max_message_chars: int) -> int:
    """The largest /v1 request body accepted: a full-length message even if every character is JSON-escaped."""
    return max(64 * 1024, 12 * max_message_chars + 4096)


class BodyLimitMiddleware:
    """413 for a request body under `prefix` over the limit, by Content-Length or while it streams in (never buffered whole)."""

    def __init__(self, app: Any, limit: int, prefix: str = "/v1") -> None:
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = JSONResponse({"detail": f"request body is larger than {self.limit} bytes"}, status_code=413)
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await (too_big if length.isdigit() else JSONResponse({"detail": "bad Content-Length"}, status_code=400))(scope, receive, send)
            return
        seen = 0
        refused = started = False

        async def limited_receive() -> dict:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # a chunked body with no Content-Length: stop reading it and answer here
                    refused = True
                    if not started:
                        await too_big(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading as if the client had left
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer: whatever the app makes of the cut-off body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # Raising inside receive would reach the app wrapped in task groups (a 500); an app that fails on the
            # cut-off body after the 413 went out has nothing left to tell the client.
            if not refused:
                raise


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the offending input echoed back (it may be 1 MB, or someone's text)."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid value"))
        if err.get("type") == "json_invalid":
            msg = "request body is not valid JSON"
        out.append({"loc": loc, "msg": msg[:300], "type": err.get("type", "value_error")})
    return out


def install_error_handlers(app: FastAPI, services: Any) -> None:
    """Map the plugin's input errors to clear 4xx answers and time every route."""

    app.add_middleware(BodyLimitMiddleware, limit=body_limit(services.settings.max_message_chars))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body", said clearly
            return JSONResponse({"detail": "request body is not valid UTF-8 JSON"}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(InvalidInputError)
    async def invalid_input(request: Request, exc: InvalidInputError) -> JSONResponse:
        # Only input the caller can fix is answered with its message; any other ValueError is an internal error.
        return JSONResponse({"detail": str(exc)[:500]}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its trace; the client gets JSON without the exception's text (it may hold user data).
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.middleware("http")
    async def timing(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            services.metrics.errors.labels(_route_path(request), "500").inc()
            raise
        name = _route_path(request)
        services.metrics.request_seconds.labels(name).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            services.metrics.errors.labels(name, str(response.status_code)).inc()
        return response
