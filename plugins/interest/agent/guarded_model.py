"""A chat model wrapper that sends the inner model's text through the reply guard before anyone sees it.

The middleware swaps it in for each model call, so every path a reply takes (invoke, stream, the agent's
`stream_mode="messages"`) carries only guarded text: a sentence is held back until it is complete and checked.
The inner model's own tokens are tagged `nostream`, so LangGraph never streams them past the guard.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel, agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.constants import TAG_NOSTREAM
from pydantic import ConfigDict

from .reply_guard import GuardedStream, ReplyGuard

# No callbacks reach the inner call (its tokens are unguarded); the guarded model's own run reports the checked ones.
_INNER_CONFIG: RunnableConfig = {"callbacks": [], "tags": [TAG_NOSTREAM]}


class _Filter:
    """Turns the inner model's chunks into guarded chunks; knows when to stop asking for more."""

    def __init__(self, guard: ReplyGuard, max_sentences: int, fallback: str) -> None:
        self.stream = GuardedStream(guard, max_sentences=max_sentences)
        self.fallback = fallback
        self.raw = ""
        self.tool_calls = False
        self.finished_naturally = False

    def chunks(self, chunk: BaseMessage) -> list[ChatGenerationChunk]:
        """Guarded chunks for one inner chunk (tool-call chunks pass through untouched)."""
        out = []
        if isinstance(chunk, AIMessageChunk) and chunk.tool_call_chunks:
            self.tool_calls = True
            out.append(ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunk.tool_call_chunks)))
        if chunk.response_metadata.get("finish_reason") == "stop":
            self.finished_naturally = True  # the backend says the model ended its reply here (not the token limit)
        text = chunk.text
        if text:
            self.raw += text
            out += [ChatGenerationChunk(message=AIMessageChunk(content=piece)) for piece in self.stream.feed(text)]
        return out

    def prime(self, opening: str) -> list[ChatGenerationChunk]:
        """Start the reply with words the model is asked to continue (they pass the guard like its own)."""
        self.raw += opening
        return [ChatGenerationChunk(message=AIMessageChunk(content=piece)) for piece in self.stream.feed(opening)]

    def finish(self) -> list[ChatGenerationChunk]:
        """The rest of the reply, the fallback if nothing passed, and what the guard did (in response_metadata)."""
        out = [ChatGenerationChunk(message=AIMessageChunk(content=piece)) for piece in self.stream.finish(self.finished_naturally)]
        fallback = not self.stream.kept and not self.tool_calls
        if fallback:
            out.append(ChatGenerationChunk(message=AIMessageChunk(content=self.fallback)))
        report = {"fallback": fallback, "raw": self.raw, "dropped": [{"text": t, "why": why} for t, why in self.stream.dropped]}
        out.append(ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"reply_guard": report})))
        return out


class GuardedChatModel(BaseChatModel):
    """The inner chat model, its text filtered by a ReplyGuard a sentence at a time."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    guard: ReplyGuard
    max_sentences: int = 2
    fallback: str = "Here are a few picks you might enjoy."
    # The reply's first words, given to the inner model as the start of its message to continue (a backend that
    # continues a final assistant message, such as LocalChatModel); empty for none.
    opening: str = ""
    bound_tools: Sequence[Any] = ()
    tool_kwargs: dict[str, Any] = {}

    @property
    def _llm_type(self) -> str:
        return "interest-bot-guarded"

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind the tools to the inner model at call time; the guard stays in front."""
        return self.model_copy(update={"bound_tools": list(tools), "tool_kwargs": kwargs})

    def _runnable(self) -> Runnable[LanguageModelInput, AIMessage]:
        return self.inner.bind_tools(self.bound_tools, **self.tool_kwargs) if self.bound_tools else self.inner

    def _filter(self) -> _Filter:
        return _Filter(self.guard, self.max_sentences, self.fallback)

    def _primed(self, messages: list[BaseMessage], filt: _Filter) -> tuple[list[BaseMessage], list[ChatGenerationChunk]]:
        """The messages with the opening as an unfinished assistant message, and what the opening releases."""
        if not self.opening:
            return messages, []
        return [*messages, AIMessage(content=self.opening)], filt.prime(self.opening)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        """Stream guarded sentences; stop the inner model once the reply is complete or starts to loop."""
        filt = self._filter()
        messages, released = self._primed(messages, filt)
        yield from released
        inner = self._runnable().stream(messages, _INNER_CONFIG, stop=stop, **kwargs)
        try:
            for chunk in inner:
                for out in filt.chunks(chunk):
                    if run_manager and out.text:
                        run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
                if filt.stream.done:
                    break
        finally:
            if isinstance(inner, Generator):
                inner.close()  # closing the inner stream stops its decoding now
        for out in filt.finish():
            if run_manager and out.text:
                run_manager.on_llm_new_token(out.text, chunk=out)
            yield out

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Async variant of _stream."""
        filt = self._filter()
        messages, released = self._primed(messages, filt)
        for out in released:
            yield out
        inner = self._runnable().astream(messages, _INNER_CONFIG, stop=stop, **kwargs)
        try:
            async for chunk in inner:
                for out in filt.chunks(chunk):
                    if run_manager and out.text:
                        await run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
                if filt.stream.done:
                    break
        finally:
            # Runnable.astream is typed as an AsyncIterator; every implementation is an async generator, closed here.
            if isinstance(inner, AsyncGenerator):
                await inner.aclose()
        for out in filt.finish():
            if run_manager and out.text:
                await run_manager.on_llm_new_token(out.text, chunk=out)
            yield out

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> ChatResult:
        """The whole guarded reply."""
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> ChatResult:
        """Async variant of _generate."""
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
