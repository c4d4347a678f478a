"""The blind chat sets are frozen: a changed file is refused, and the scorer judges each taste on its own clause."""

import shutil
from pathlib import Path

import pytest

from bench import blind_chat
from interest_bot.memory.signals import InterestSignal
from interest_bot.plugins.interest.ranking.titles import TitleIndex


def test_frozen_sets_load_with_their_hashes() -> None:
    for name, digest in blind_chat.FROZEN.items():
        lines, found = blind_chat.load_blind(name)
        assert found == digest and lines
        assert all(t.span in line.text for line in lines for t in line.tastes)


def test_a_changed_set_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(blind_chat.BLIND_DIR / "eval.jsonl", tmp_path / "eval.jsonl")
    with (tmp_path / "eval.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"author": "x", "text": "hi", "kind": "none", "tastes": []}\n')
    monkeypatch.setattr(blind_chat, "BLIND_DIR", tmp_path)
    with pytest.raises(ValueError, match="changed since it was frozen"):
        blind_chat.load_blind("eval.jsonl")


def _signal(text: str, polarity: float, top: str, preference: float = 0.9) -> InterestSignal:
    import numpy as np

    return InterestSignal(text=text, embedding=np.zeros(3, np.float32), categories={top: 0.9, "Drama": 0.1}, polarity=polarity, preference=preference)


def test_each_taste_is_judged_on_the_clause_that_names_it() -> None:
    line = blind_chat.BlindLine(
        "x", "I love westerns but hate horror", "contrast",
        (
            blind_chat.Taste(1, "Western", "genre", frozenset({"Western"}), "westerns"),
            blind_chat.Taste(-1, "Horror", "genre", frozenset({"Horror"}), "horror"),
        ),
    )
    small_talk = blind_chat.BlindLine("x", "hello there", "none", ())
    titles = blind_chat.CatalogTitles(TitleIndex([], []), {})
    right = lambda text: [_signal("I love westerns", 0.9, "Western"), _signal("hate horror", -0.8, "Horror")] if "love" in text else [_signal(text, 0.1, "Drama", 0.2)]  # noqa: E731
    swapped = lambda text: [_signal("I love westerns", -0.9, "Western"), _signal("hate horror", 0.8, "Comedy")] if "love" in text else [_signal(text, 0.1, "Drama")]  # noqa: E731
    good = blind_chat.score_blind(right, [line, small_talk], titles)
    bad = blind_chat.score_blind(swapped, [line, small_talk], titles)
    assert good["polarity_acc"] == 1.0 and good["category_acc"] == 1.0
    assert bad["polarity_acc"] == 0.0 and bad["category_acc"] == 0.5
    assert good["preference_auc"] == 1.0
