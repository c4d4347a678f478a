"""A short verdict judging the unsure taste clause before it (the rule alone, on given scores: no model)."""

from __future__ import annotations

import numpy as np
import pytest

from interest_bot.plugins.interest.understanding.classifier import VERDICT_SURE, VERDICT_TASTE, VERDICT_UNSURE, InterestClassifier, _Part


def _part(text: str, contrasted: bool = False, judged_by: str | None = None) -> _Part:
    return _Part(text, judged_by, 0, 0.0, contrasted=contrasted)


def _follow(parts: list[_Part], polarity: list[float], preference: list[float], first: int = 0) -> list[float]:
    scores = {"polarity": np.array(polarity, np.float64), "preference": np.array(preference, np.float64)}
    InterestClassifier._verdicts_follow(parts, scores, first)
    return scores["polarity"].tolist()


def test_an_unsure_taste_clause_takes_the_verdicts_polarity() -> None:
    assert _follow([_part("I watched Titanic last week"), _part("Loved it")], [0.1, 0.9], [0.9, 0.3]) == [0.9, 0.9]


@pytest.mark.parametrize(
    ("parts", "polarity", "preference"),
    [
        ([_part("I watched Titanic"), _part("Cats was awful", contrasted=True)], [0.1, -0.9], [0.9, 0.9]),  # after "but", or a question
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


def _oppose(parts: list[_Part], polarity: list[float], preference: list[float]) -> list[float]:
    scores = {"polarity": np.array(polarity, np.float64), "preference": np.array(preference, np.float64)}
    InterestClassifier._contrasts_oppose(parts, scores, 0)
    return scores["polarity"].tolist()


def _contrast(text: str, judged_by: str | None = None, asks: bool = False, opposed: bool = True) -> _Part:
    return _Part(text, judged_by, 0, 0.0, contrasted=True, asks=asks, opposed=opposed)


def test_an_unsure_side_of_a_contrast_leans_the_other_way() -> None:
    # "I enjoy war movies but westerns make me sleepy": the second side reads unsure on its own words.
    assert _oppose([_part("I enjoy war movies"), _contrast("westerns make me sleepy")], [0.9, 0.1], [0.9, 0.9]) == [0.9, -VERDICT_UNSURE]
    # "mysteries are where it's at, but fantasy bores me": the first side is the unsure one.
    assert _oppose([_part("mysteries are where it's at"), _contrast("fantasy bores me")], [-0.2, -0.95], [0.9, 0.9]) == [VERDICT_UNSURE, -0.95]


def test_a_lean_does_not_feed_the_next_contrast() -> None:
    parts = [_part("I love noir"), _contrast("westerns are a different story"), _contrast("musicals are another")]
    assert _oppose(parts, [0.9, 0.1, 0.1], [0.9, 0.9, 0.9]) == [0.9, -VERDICT_UNSURE, 0.1]  # the third meets an unsure one


@pytest.mark.parametrize(
    ("parts", "polarity", "preference"),
    [
        ([_part("I like action"), _part("comedy is fun too")], [0.9, 0.1], [0.9, 0.9]),  # no contrast word
        ([_part("I love popcorn"), _contrast("watching horror movies", opposed=False)], [0.9, 0.1], [0.9, 0.9]),  # "while"
        ([_part("it was good"), _contrast("a bit long")], [0.9, -0.6], [0.9, 0.9]),  # both sides read a sign already
        ([_part("I like action"), _contrast("my brother watched it")], [0.9, 0.1], [0.9, VERDICT_TASTE - 0.1]),  # names no taste
        ([_part("I started Alien"), _contrast("fell asleep")], [0.1, -0.9], [0.9, VERDICT_TASTE - 0.1]),  # the sure side names none
        ([_part("We watched Dune"), _contrast("it was too long")], [0.2, -0.9], [0.9, 0.9]),  # points back: one film
        ([_part("Heat was amazing"), _contrast("Ronin was good too")], [0.95, 0.45], [0.9, 0.9]),  # sides with it
        ([_part("westerns are alright"), _contrast("a bit slow")], [0.3, -VERDICT_SURE + 0.1], [0.9, 0.9]),  # neither is sure
        ([_part("Is there anything like 2001"), _contrast("a bit shorter", asks=True)], [0.9, 0.1], [0.9, 0.9]),  # a question
        ([_part("I love noir", judged_by="I love noir more than westerns"), _contrast("westerns")], [0.9, 0.1], [0.9, 0.9]),  # a comparison side
    ],
)
def test_no_opposition(parts: list[_Part], polarity: list[float], preference: list[float]) -> None:
    assert _oppose(parts, polarity, preference) == polarity
