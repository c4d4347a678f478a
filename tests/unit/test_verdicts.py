"""A short verdict judging the unsure taste clause before it (the rule alone, on given scores: no model)."""

from __future__ import annotations

import numpy as np
import pytest

from interest_bot.plugins.interest.understanding.classifier import VERDICT_SURE, VERDICT_TASTE, VERDICT_UNSURE, InterestClassifier, _Part


def _part(text: str, may_judge: bool = True, judged_by: str | None = None) -> _Part:
    return _Part(text, judged_by, 0, 0.0, may_judge)


def _follow(parts: list[_Part], polarity: list[float], preference: list[float], first: int = 0) -> list[float]:
    scores = {"polarity": np.array(polarity, np.float64), "preference": np.array(preference, np.float64)}
    InterestClassifier._verdicts_follow(parts, scores, first)
    return scores["polarity"].tolist()


def test_an_unsure_taste_clause_takes_the_verdicts_polarity() -> None:
    assert _follow([_part("I watched Titanic last week"), _part("Loved it")], [0.1, 0.9], [0.9, 0.3]) == [0.9, 0.9]


@pytest.mark.parametrize(
    ("parts", "polarity", "preference"),
    [
        ([_part("I watched Titanic"), _part("Cats was awful", may_judge=False)], [0.1, -0.9], [0.9, 0.9]),  # after "but", or a question
        ([_part("I love Titanic"), _part("big yikes")], [VERDICT_UNSURE + 0.1, -0.9], [0.9, 0.1]),  # the clause is sure already
        ([_part("the library got my hold in"), _part("big yikes")], [0.1, -0.9], [VERDICT_TASTE - 0.1, 0.1]),  # names no taste
        ([_part("I watched Titanic"), _part("meh ok")], [0.1, VERDICT_SURE - 0.1], [0.9, 0.1]),  # the verdict is unsure too
        ([_part("I watched Titanic"), _part("we spent the whole evening arguing about the ending of the film")], [0.1, -0.9], [0.9, 0.9]),  # too long
        ([_part("Any good heist movies", judged_by="I love those"), _part("big yikes")], [0.1, -0.9], [0.9, 0.1]),  # judged already
    ],
)
def test_no_verdict(parts: list[_Part], polarity: list[float], preference: list[float]) -> None:
    assert _follow(parts, polarity, preference) == polarity


def test_a_verdict_reaches_only_within_its_message() -> None:
    # Rows 0-1 belong to the message before; this message's parts are rows 2-3.
    polarity = _follow([_part("I watched Titanic"), _part("Loved it")], [0.1, 0.2, 0.1, 0.9], [0.9, 0.9, 0.9, 0.3], first=2)
    assert polarity == [0.1, 0.2, 0.9, 0.9]
