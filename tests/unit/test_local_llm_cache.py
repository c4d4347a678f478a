"""The local model reuses the last call's keys/values for a shared prompt opening, and computes afresh when the
cache cannot be cut back (a sliding-window cache past its window, as Gemma 3's)."""

from __future__ import annotations

import torch

from interest_bot.bot.local_llm import MIN_REUSED_TOKENS, LocalChatModel


class _Cache:
    def __init__(self, length: int, croppable: bool = True) -> None:
        self.length, self.croppable = length, croppable

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, count: int) -> None:
        if not self.croppable:
            raise RuntimeError("`crop` was called, but the current layer does not track past states")
        self.length += count


def _model(cache: _Cache) -> LocalChatModel:
    return LocalChatModel(hf_model=None, tokenizer=None, prefix=(torch.arange(40), cache))


def test_a_shared_opening_reuses_a_copy_of_the_cache_cut_to_it() -> None:
    cache = _Cache(40)
    ids = torch.cat([torch.arange(30), torch.full((10,), 999)]).unsqueeze(0)
    reused = _model(cache)._reusable_cache(ids)
    assert reused is not None and reused.get_seq_length() == 30 and cache.length == 40  # the original is untouched
    assert 30 >= MIN_REUSED_TOKENS


def test_a_cache_that_cannot_be_cut_back_is_not_reused() -> None:
    ids = torch.cat([torch.arange(30), torch.full((10,), 999)]).unsqueeze(0)
    assert _model(_Cache(40, croppable=False))._reusable_cache(ids) is None
