"""The n-gram features' negation marks: a negated liking or disliking verb, and a negation cancelled by a second one."""

from __future__ import annotations

import pytest

from interest_bot.plugins.interest.understanding.heads import grams


def _marks(text: str) -> set[str]:
    return {g for g, _ in grams(text) if g.startswith("not_")}


@pytest.mark.parametrize(
    "text",
    ["I do not like westerns", "I didn't like Titanic", "i dont like musicals", "I never really liked war films", "I didn't enjoy it one bit",
     "we did not love it", "No, I do not enjoy war films", "I have never liked musicals", "Never liked musicals", "Not a fan, never liked them",
     "I'd never enjoy musicals"],
)
def test_a_negated_liking_verb_is_marked(text: str) -> None:
    assert "not_liking" in _marks(text)


@pytest.mark.parametrize(
    "text",
    ["there is nothing like a good western", "it's not like I'd ever turn it down", "it is not like I care", "It wasn't like anything I'd seen",
     "It isn't likely I'll watch it", "who doesn't love a good heist movie", "Don't you love westerns?", "I don't care what genre",
     "not that I don't like comedies"],
)
def test_like_as_a_preposition_a_question_or_another_word_is_not(text: str) -> None:
    assert "not_liking" not in _marks(text)


@pytest.mark.parametrize("text", ["didn't hate la la land", "I never regret watching a western", "I don't mind musicals", "I'm never tired of westerns"])
def test_a_negated_disliking_verb_has_a_mark_of_its_own(text: str) -> None:
    assert "not_disliking" in _marks(text)
    assert "not_liking" not in _marks(text)


def test_a_negator_in_the_same_phrase_as_another_cancels_it() -> None:
    assert "not_like" not in _marks("not that I don't like comedies")  # double negation: "like" reads plain
    assert _marks("I can't not like it") == set()
    assert "not_like" in _marks("I don't like comedies")
    assert _marks("I don't like westerns and I don't like war films") >= {"not_westerns", "not_war"}  # two scopes of their own


@pytest.mark.parametrize(
    ("text", "kept"),
    [("No, I do not enjoy war films", "not_enjoy"), ("it doesn't matter, I don't mind", "not_mind"), ("I like neither westerns nor musicals", "not_musicals"),
     ("Oh no, not another horror movie", "not_horror")],
)
def test_a_negation_repeated_after_a_comma_or_a_no_is_not_undone(text: str, kept: str) -> None:
    assert kept in _marks(text)
