"""What the HTTP API answers, as pydantic models: every route's 200 body and the error bodies it declares.

The OpenAPI schema is built from these, and the schema fuzzer (tests/integration/test_api_fuzz.py) checks every
response against it, so a field added here or there without the other fails the build.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx body: what went wrong, in words."""

    detail: str


class ValidationIssue(BaseModel):
    """One field a request got wrong (the input itself is never echoed back)."""

    loc: list[str]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    """A 422: the request parsed but a value is wrong: one issue per field, or one message."""

    detail: list[ValidationIssue] | str


class SignalOut(BaseModel):
    """One interest signal a message or a reaction produced (its top categories only)."""

    text: str | None
    top_category: str | None
    categories: dict[str, float]
    polarity: float
    preference: float
    source: str
    item_id: str | None
    event_id: str | None


class RecommendationOut(BaseModel):
    """One ranked catalog item and why it was picked."""

    item_id: str
    title: str
    categories: list[str]
    score: float
    reasons: list[str]


class ChatResponse(BaseModel):
    """The reply, the recommendations it carries and the signals the turn produced."""

    reply: str
    recommendations: list[RecommendationOut]
    signals: list[SignalOut]


class ObserveResponse(BaseModel):
    """The signals a message produced and the ids of the events stored for them."""

    user_id: str
    signals: list[SignalOut]
    event_ids: list[str]


class ProfileResponse(BaseModel):
    """What was learned about a user: category scores, interest clusters, recent items and signals."""

    user_id: str
    categories: dict[str, dict[str, float]] = Field(description="category -> short, long and blended score")
    positive: list[dict[str, Any]] = Field(description="interests, heaviest first")
    negative: list[dict[str, Any]] = Field(description="aversions, heaviest first")
    recent_items: list[dict[str, Any]]
    n_signals: int
    last_update: float | None
    now: float
    recent_signals: list[dict[str, Any]]


class RecommendationsResponse(BaseModel):
    """Ranked, explained items, and a hint for the bot when the user is new."""

    user_id: str
    recommendations: list[RecommendationOut]
    hint: str | None


class FeedbackResponse(BaseModel):
    """The ids of the events the reaction stored."""

    user_id: str
    event_ids: list[str]


class ConversationThread(BaseModel):
    """One conversation thread of the user and its messages, oldest first."""

    thread: str
    messages: list[dict[str, str]]


class ExportResponse(BaseModel):
    """Everything stored about a user, conversations included."""

    user_id: str
    exported_at: float
    store_text: bool
    events: list[dict[str, Any]]
    profile: dict[str, Any]
    profile_records: list[dict[str, Any]]
    counts: dict[str, Any] | None
    impressions: list[dict[str, Any]] = Field(description="what was shown to the user: item, A/B variant, when shown and clicked")
    conversations: list[ConversationThread]


class ForgetResponse(BaseModel):
    """The user is forgotten; how many conversation threads went with them."""

    user_id: str
    forgotten: bool
    threads_deleted: int


class ForgetInterestResponse(BaseModel):
    """The interest (a category or an event id) is forgotten."""

    user_id: str
    forgotten: str


class HealthResponse(BaseModel):
    """Liveness."""

    status: str


_ERROR_DESCRIPTIONS = {
    400: "the body is not valid UTF-8, or its Content-Length is malformed",
    401: "missing, wrong or expired credential",
    403: "not allowed: another user's id under IBOT_AUTH=user, or a non-loopback host or client under IBOT_AUTH=none",
    404: "unknown catalog, item or interest",
    413: "the body or the message is longer than allowed (IBOT_MAX_MESSAGE_CHARS)",
    422: "a value in the request is invalid",
    429: "too many chats in progress; retry after Retry-After seconds",
    500: "an internal error (logged; the body never carries its text)",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry for these error statuses: their body model, description and headers."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ValidationErrorResponse if status == 422 else ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        out[status] = entry
    return out
