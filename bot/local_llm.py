"""A LangChain chat model over a local Hugging Face causal LM, with token streaming."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict


class _WhenSet:
    """A transformers stopping criterion: stop as soon as the event is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


MIN_REUSED_TOKENS = 16

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "user"}


def to_chat_template(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as the role/content dicts a tokenizer's chat template takes."""
    out: list[dict[str, str]] = []
    for message in messages:
        content = message.content if isinstance(message.content, str) else str(message.text)
        out.append({"role": _ROLES.get(message.type, "user"), "content": content})
    return out


class LocalChatModel(BaseChatModel):
    """Greedy generation on a local model; one generation at a time, so concurrent callers queue."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hf_model: Any
    tokenizer: Any
    model_name: str = "local"
    max_new_tokens: int = 96
    # Repetition controls: no 4-token sequence twice (prompt included), and a mild penalty on repeated tokens.
    no_repeat_ngram_size: int = 4
    repetition_penalty: float = 1.15
    # Small CPU models run faster on one thread here; the encoder keeps the other core.
    num_threads: int | None = 1
    lock: Any = None
    # The token ids of the last call and their keys/values: the next prompt reuses their common opening
    # (system prompt, worked examples, earlier turns) instead of computing it again.
    prefix: Any = None

    def model_post_init(self, __context: Any) -> None:
        """Create the generation lock."""
        self.lock = threading.Lock()

    def drop_cache(self) -> None:
        """Forget the last call's tokens and keys/values (they hold that conversation's words)."""
        with self.lock:
            self.prefix = None

    def _reusable_cache(self, input_ids: Any) -> Any:
        """A copy of the last call's cache, cut to the opening it shares with these ids (None when too short)."""
        if self.prefix is None:
            return None
        previous, cache = self.prefix
        n = min(len(previous), input_ids.shape[1] - 1)
        same = (previous[:n] == input_ids[0, :n]).int().cumprod(0).sum().item() if n > 0 else 0
        if same < MIN_REUSED_TOKENS:
            return None
        reused = copy.deepcopy(cache)
        try:
            reused.crop(int(same) - reused.get_seq_length())  # a negative count: tokens to drop from the end
        except RuntimeError:
            # A sliding-window cache (Gemma 3) past its window cannot be cut back: the prompt is computed afresh.
            return None
        return reused

    @property
    def _llm_type(self) -> str:
        return "interest-bot-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "max_new_tokens": self.max_new_tokens}

    def bind_tools(self, tools: Any, **kwargs: Any) -> LocalChatModel:
        """Small local models cannot call tools reliably: the interest middleware injects results instead."""
        return self

    def _inputs(self, messages: list[BaseMessage]) -> Any:
        # A final assistant message is the start of the reply: the model continues it rather than answering it.
        opened = bool(messages) and isinstance(messages[-1], AIMessage)
        return self.tokenizer.apply_chat_template(
            to_chat_template(messages),
            add_generation_prompt=not opened,
            continue_final_message=opened,
            return_tensors="pt",
            return_dict=True,
        ).to(self.hf_model.device)

    def _generate_kwargs(self, inputs: Any) -> dict[str, Any]:
        return {
            **inputs,
            "max_new_tokens": self.max_new_tokens,
            "do_sample": False,
            "repetition_penalty": self.repetition_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "pad_token_id": self.tokenizer.eos_token_id,
        }

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        """Stream tokens as the model produces them."""
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        with self.lock:
            inputs = self._inputs(messages)
            streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
            errors: list[BaseException] = []
            stop_event = threading.Event()

            cache = self._reusable_cache(inputs["input_ids"])

            def run() -> None:
                try:
                    if self.num_threads:
                        torch.set_num_threads(self.num_threads)
                    with torch.inference_mode():
                        out = self.hf_model.generate(
                            **self._generate_kwargs(inputs),
                            streamer=streamer,
                            stopping_criteria=StoppingCriteriaList([_WhenSet(stop_event)]),
                            cache=cache,
                            return_dict_in_generate=True,
                        )
                    kept = out.cache
                    self.prefix = (out.sequences[0, : kept.get_seq_length()].clone(), kept)
                except BaseException as exc:  # surfaced to the caller below
                    errors.append(exc)
                    streamer.end()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                for text in streamer:
                    if not text:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            finally:
                # The caller stopped reading (the guard has its reply): stop decoding before the lock is released.
                stop_event.set()
                worker.join()
            if errors:
                raise errors[0]

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> ChatResult:
        """Generate the whole reply."""
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text.strip()))])
