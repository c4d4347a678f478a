"""Comparisons in one clause become two tastes with opposite signs (or one, when a side names nothing)."""

import pytest

from interest_bot.plugins.interest.understanding.comparison import read_comparison
from interest_bot.plugins.interest.understanding.text import preprocess


@pytest.mark.parametrize(
    ("clause", "left", "right", "direction"),
    [
        ("I'd take a western over sci-fi", "I'd take a western", "sci-fi", 1),
        ("Cop movies are way better than musicals", "Cop movies are", "musicals", 1),
        ("Slashers are way worse than soap operas", "Slashers are", "soap operas", -1),
        ("I liked Babe far more than the sequels", "I liked Babe", "the sequels", 1),
        ("I'd happily rewatch Heat before I'd sit through Ronin again", "I'd happily rewatch Heat", "I'd sit through Ronin again", 1),
        ("noir >> superhero stuff", "noir", "superhero stuff", 1),
        ("cartoons < documentaries", "cartoons", "documentaries", -1),
        ("Zombie flicks beat period dramas", "Zombie flicks", "period dramas", 1),
        ("I prefer war films to romance", "I prefer war films", "romance", 1),
        ("Westerns I prefer above musicals", "Westerns I prefer", "musicals", 1),
        ("Thrillers over romcoms", "Thrillers", "romcoms", 1),
        ("Ghost stories are creepier than slashers", "Ghost stories are", "slashers", 0),
        ("Rear Window is a far better picture than Psycho", "Rear Window is a", "Psycho", 1),
        ("Heat wipes the floor with Ronin", "Heat", "Ronin", 1),
        ("Annie Hall runs circles around slapstick nonsense", "Annie Hall", "slapstick nonsense", 1),
        ("Heat knocks spots off Ronin", "Heat", "Ronin", 1),
    ],
)
def test_two_sided_comparisons(clause: str, left: str, right: str, direction: int) -> None:
    found = read_comparison(clause)
    assert found is not None
    assert (found.left, found.right, found.direction, found.right_same_sign) == (left, right, direction, False)


def test_anything_and_nothing_keep_only_the_named_side() -> None:
    anything = read_comparison("Anything is better than a musical")
    assert anything is not None and anything.left is None and anything.right == "a musical" and not anything.right_same_sign
    nothing = read_comparison("Nothing beats a good heist movie")
    assert nothing is not None and nothing.left is None and nothing.right_same_sign
    but = read_comparison("anything but horror tonight")
    assert but is not None and but.left is None and but.right == "horror tonight"


@pytest.mark.parametrize(
    ("clause", "left", "right", "direction"),
    [
        ("Slashers are even worse than soap operas", "Slashers are", "soap operas", -1),
        ("Heat is even better than Ronin", "Heat is", "Ronin", 1),
        ("I liked Babe even more than Heat", "I liked Babe", "Heat", 1),
    ],
)
def test_even_gives_both_sides_one_sign(clause: str, left: str, right: str, direction: int) -> None:
    # "even worse than soap operas": soap operas are bad too.
    found = read_comparison(clause)
    assert found is not None
    assert (found.left, found.right, found.direction, found.right_same_sign) == (left, right, direction, True)


def test_nothing_on_earth_is_an_empty_side() -> None:
    found = read_comparison("Nothing on earth is duller than a three-hour opera")
    assert found is not None and found.left is None and found.right == "a three-hour opera" and found.direction == -1 and found.right_same_sign


def test_anything_but_stays_one_clause() -> None:
    # The contrast splitter must not cut "anything but X" into "anything" and "X".
    assert preprocess("Anything but westerns, please") == ["Anything but westerns, please"]


@pytest.mark.parametrize(
    "clause",
    [
        "I watched it over the weekend", "We saw Alien over and over", "I love sci-fi", "Is there anything else to watch", "It was longer than I expected", "I liked it more than I expected", "I love it more than anything",
        "Heat is a better movie to watch with your dad",  # a noun before "to" is no comparison
        "I'd watch it before bed",
        "I'd watch Alien then Aliens",
        "I'd rewatch Heat over and over",
        "I'd like more than one recommendation",
        "I like movies that are more than two hours",
        "I enjoy more than just horror",
        "Movies like Heat are more than entertainment",
        "I like Heat more than my wife does",
        "I liked it more than the first time",
    ],
)
def test_not_comparisons(clause: str) -> None:
    assert read_comparison(clause) is None


def test_a_comparison_after_i_would_watch_keeps_its_own_connector() -> None:
    # "I'd watch" is no preference by itself: the comparative decides ("way worse than Ronin": Ronin preferred).
    found = read_comparison("I'd watch Cats again, it's way worse than Ronin")
    assert found is not None and found.right == "Ronin" and found.direction == -1


def test_not_even_is_no_shared_sign() -> None:
    found = read_comparison("Cats isn't even worse than Dogs")
    assert found is not None and not found.right_same_sign


@pytest.mark.parametrize("hostile", [("dig " * 333 + "far " * 667).strip(), "like " * 267 + "much " * 533])
def test_long_repetitive_clauses_make_no_comparison(hostile: str) -> None:
    # 4,000 characters of taste verbs and intensifiers without a "than": no comparison, read in one pass over the text.
    assert read_comparison(hostile) is None
