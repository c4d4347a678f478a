"""Preprocessing and clause splitting of chat text (no model)."""

from __future__ import annotations

import re

import pytest

from interest_bot.plugins.interest.understanding.text import (
    MAX_CHARS,
    comma_statements,
    normalize,
    preprocess,
    read_clauses,
    split_clauses,
    verdict_after,
    verdict_tail,
)


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("I love sci-fi but I hate horror", ["I love sci-fi", "I hate horror"]),
        ("I love sci-fi but not horror.", ["I love sci-fi", "I don't like horror"]),
        ("Westerns are great. However, musicals bore me!", ["Westerns are great", "musicals bore me"]),
        ("I adore westerns, and I also like war movies", ["I adore westerns", "I also like war movies"]),
        ("I like comedies and dramas", ["I like comedies and dramas"]),
        ("Cartoons are fun; documentaries are dull", ["Cartoons are fun", "documentaries are dull"]),
        ("Although I like thrillers, gore bothers me", ["I like thrillers, gore bothers me"]),
        ("hello, how are you?", ["hello, how are you"]),
        # A contrast word set off by commas after a bare subject stays inside its statement.
        ("Mamma Mia is joy. Les Mis, on the other hand, was misery.", ["Mamma Mia is joy", "Les Mis was misery"]),
        ("Westerns, however, bore me to tears", ["Westerns bore me to tears"]),
        ("I like horror, however, I hate gore", ["I like horror", "I hate gore"]),  # a statement before it: a real split
        ("Horror bores me, however, comedies are great", ["Horror bores me", "comedies are great"]),
        ("Great plot, however, the acting was wooden", ["Great plot", "the acting was wooden"]),  # a subject of its own after it
        ("Westerns, however, musicals, though, are fine", ["Westerns", "musicals are fine"]),  # nothing is dropped
        ("I love comedies, but, honestly, romance bores me", ["I love comedies", "honestly, romance bores me"]),
    ],
)
def test_split_clauses(text: str, clauses: list[str]) -> None:
    """Contrast words and punctuation split clauses; plain conjunctions of objects do not."""
    assert split_clauses(normalize(text)) == clauses


def test_normalize_cleans_text() -> None:
    """NFKC, zero-width and control characters gone, URLs stripped, spaces collapsed."""
    raw = "I\u200b love\u00a0\u00a0ｓｃｉ-ｆｉ\x07 see https://example.com/x?y=1 and www.foo.org  now"
    assert normalize(raw) == "I love sci-fi see and now"


def test_normalize_caps_length_at_a_word_boundary() -> None:
    """A 100,000-character message is truncated, not rejected."""
    text = normalize("word " * 20_000)
    assert 0 < len(text) <= MAX_CHARS
    assert text.endswith("word")


@pytest.mark.parametrize(
    "bad",
    ["", "   \n\t ", "\u200b\u200c\u200d\ufeff", "😀🎬🍿", "!!! ??? ...", None, b"\x00\xff\xfe\x01", "\x00" * 1000],
)
def test_wordless_input_gives_no_clauses(bad: object) -> None:
    """Empty, whitespace, zero-width, emoji-only, punctuation-only and binary input: no clause, no error."""
    assert preprocess(bad) == []


def test_right_to_left_and_mixed_text_survive() -> None:
    """Right-to-left text keeps its words (bidi marks removed) and gives a clause."""
    clauses = preprocess("\u202bאני אוהב סרטי מדע בדיוני\u202c")
    assert clauses == ["אני אוהב סרטי מדע בדיוני"]


def test_clause_count_is_bounded() -> None:
    """A message of many sentences yields at most 32 clauses (one bounded encoder batch)."""
    assert len(preprocess("I like it. " * 500)) == 32


@pytest.mark.parametrize(
    ("clause", "tail"),
    [
        ("Scary movies terrify me in a fun way, I love them", "I love them"),
        ("Musicals put me to sleep, I hate that", "I hate that"),
        ("Westerns, I can't get enough of them!", "I can't get enough of them!"),
        ("I love sci-fi", None),
        ("I love them", None),  # nothing before it to judge
        ("Comedies, especially the old ones with slapstick", None),
    ],
)
def test_verdict_tail(clause: str, tail: str | None) -> None:
    """A trailing first-person verdict on "it/them/that" is found; other clauses have none."""
    assert verdict_tail(clause) == tail


@pytest.mark.parametrize(
    ("clause", "pieces"),
    [
        ("braveheart is a banger, rob roy was pure shite tho", ["braveheart is a banger", "rob roy was pure shite tho"]),
        ("loved pulp fiction, hated reservoir dogs, dunno why", ["loved pulp fiction", "hated reservoir dogs", "dunno why"]),
        ("Schindler's List was magnificent, and Forrest Gump was dull", ["Schindler's List was magnificent", "Forrest Gump was dull"]),
        ("Westerns, I can't stand them", ["Westerns, I can't stand them"]),  # a one-word side is no statement
        ("I like action, comedy, and horror", ["I like action, comedy, and horror"]),
        ("I love sci-fi", ["I love sci-fi"]),
        ("I love westerns, :: ::, I hate musicals", ["I love westerns", "I hate musicals"]),  # symbols are no statement
        ("I love westerns, 😡 😡", ["I love westerns, 😡 😡"]),
        ("Crime films, that is really my cup of tea", ["Crime films, that is really my cup of tea"]),  # "that" is the crime films
        ("Old westerns, they're my comfort viewing", ["Old westerns, they're my comfort viewing"]),
    ],
)
def test_comma_statements(clause: str, pieces: list[str]) -> None:
    """Where a comma could join two statements (the classifier cuts there only when they disagree)."""
    assert comma_statements(clause) == pieces


def test_read_clauses_says_which_clauses_follow_a_contrast_or_ask() -> None:
    """A clause opened by a contrast word is marked contrasted; every clause of a question sentence asks."""
    clauses = read_clauses(normalize("Any westerns like Tombstone? I love those, but musicals bore me. Seen Heat"))
    assert [(c.text, c.contrasted, c.asks) for c in clauses] == [
        ("Any westerns like Tombstone", False, True),
        ("I love those", False, False),
        ("musicals bore me", True, False),
        ("Seen Heat", False, False),
    ]
    assert [c.text for c in clauses] == split_clauses(normalize("Any westerns like Tombstone? I love those, but musicals bore me. Seen Heat"))


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Any good heist movies (the clever kind)?", [True, True]),  # a bracket inside the question
        ("Watched Titanic - total snooze - any better romances?", [False, False, True]),  # dashes end sentences in chat
        ("I hate musicals (sorry mum). What else?", [False, False, True]),  # the question is the next sentence
    ],
)
def test_a_question_mark_reaches_back_over_brackets(text: str, asks: list[bool]) -> None:
    assert [c.asks for c in read_clauses(normalize(text))] == asks


@pytest.mark.parametrize(
    ("text", "opposed"),
    [
        ("I love noir but westerns bore me", [False, True]),
        ("I love popcorn while watching horror movies", [False, False]),  # "while" only joins
        ("I like horror, though not gore", [False, True]),
    ],
)
def test_which_contrast_words_set_the_sides_against_each_other(text: str, opposed: list[bool]) -> None:
    clauses = read_clauses(normalize(text))
    assert [c.opposed for c in clauses] == opposed and all(c.contrasted for c in clauses[1:])


def test_many_brackets_are_read_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import interest_bot.plugins.interest.understanding.text as text_module

    calls = 0
    inner = text_module._INNER_BREAK

    class Counting:
        def fullmatch(self, s: str) -> re.Match[str] | None:
            nonlocal calls
            calls += 1
            return inner.fullmatch(s)

    monkeypatch.setattr(text_module, "_INNER_BREAK", Counting())
    clauses = read_clauses("a ( " * 2000 + "?", max_clauses=10_000)
    assert len(clauses) == 2000 and all(c.asks for c in clauses)  # every piece belongs to the one question
    assert calls <= 2001  # each break looked at once, not once per piece after it


def test_a_run_of_commas_before_a_contrast_is_no_clause() -> None:
    assert [c.text for c in read_clauses(", " * 3000 + "I love noir, but westerns bore me")] == ["I love noir", "westerns bore me"]


@pytest.mark.parametrize(
    ("clause", "verdict"),
    [
        ("loved it", True),
        ("total snooze 😴", True),
        ("i was bored out of my mind", True),  # seven words, the speaker's reaction
        ("Cats was awful", False),  # names its own subject
        ("I think that horror is the best genre of all", False),
        ("I still think it's one of the sharpest comedies ever written", True),  # longer, but it points back
        ("my sister and I spent the whole evening arguing about the ending of the film", False),
        ("we spent the whole evening arguing about the ending of the film", False),  # twelve words, nothing points back
    ],
)
def test_verdict_after(clause: str, verdict: bool) -> None:
    """Short clauses, or clauses that point back, may be verdicts on the clause before them."""
    assert verdict_after(clause) is verdict


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("I dont like war films", "I don't like war films"),
        ("CANT stand musicals, wont watch them, isnt my thing", "CAN'T stand musicals, won't watch them, isn't my thing"),
        ("I want it, the font is nice", "I want it, the font is nice"),  # words that only end like a negation stay
    ],
)
def test_a_negation_typed_without_its_apostrophe_gets_it_back(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


def test_a_parenthetical_contrast_marks_its_statement_contrasted() -> None:
    """"Titanic, though, was awful" is one statement set against the one before it."""
    clauses = read_clauses(normalize("I love comedies. Titanic, though, was awful."))
    assert [(c.text, c.contrasted, c.opposed) for c in clauses] == [("I love comedies", False, False), ("Titanic was awful", True, True)]


@pytest.mark.parametrize(
    ("clause", "tail"),
    [
        ("Last year it was Dirty Dancing, which I adore", "which I adore"),
        ("It was Jaws, which I love since I was a boy", "which I love since I was a boy"),
        ("Heat, which I really hated", "which I really hated"),
        ("We rented Heat, which we watched twice", None),  # a relative clause that judges nothing
        ("Heat, which is long", None),
        ("I really disliked Titanic, which I was so excited for", None),  # it would overrule the clause's own verdict
        ("Titanic, which I found on sale", None),
    ],
)
def test_a_relative_clause_of_the_speakers_judgement_is_a_verdict_tail(clause: str, tail: str | None) -> None:
    """", which I adore" judges what the clause named, as ", I love them" does."""
    assert verdict_tail(clause) == tail
