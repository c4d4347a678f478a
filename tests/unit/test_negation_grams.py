"""The n-gram features' negation marks: a negated liking or disliking verb, and a negation cancelled by a second one."""

from __future__ import annotations

import pytest

from interest_bot.plugins.interest.understanding.heads import grams


def _marks(text: str) -> set[str]:
    return {g for g, _ in grams(text) if g.startswith("not_")}


@pytest.mark.parametrize(
    "text",
    ["I do not like westerns", "I didn't like Titanic", "i dont like musicals", "I never really liked war films", "I didn't enjoy it one bit",
     "I don't really care for romance", "we did not love it"],
)
def test_a_negated_liking_verb_is_marked(text: str) -> None:
    assert "not_liking" in _marks(text)


@pytest.mark.parametrize(
    "text",
    ["there is nothing like a good western", "it's not like I'd ever turn it down", "it is not like I care", "no one does comfort like Pixar",
     "I like westerns", "I really hate musicals"],
)
def test_like_as_a_preposition_or_unnegated_is_not(text: str) -> None:
    assert "not_liking" not in _marks(text)


@pytest.mark.parametrize("text", ["didn't hate la la land", "I never regret watching a western", "I don't mind musicals", "I never tire of noir"])
def test_a_negated_disliking_verb_has_a_mark_of_its_own(text: str) -> None:
    assert "not_disliking" in _marks(text)
    assert "not_liking" not in _marks(text)


def test_a_negator_inside_another_ones_scope_cancels_it() -> None:
    assert "not_like" not in _marks("not that I don't like comedies")  # double negation: "like" reads plain
    assert "not_like" in _marks("I don't like comedies")
    assert _marks("I don't like westerns and I don't like war films") >= {"not_westerns", "not_war"}  # two scopes of their own
