"""Title linking on the real ML-100k titles: finds mentioned items, links nothing in title-free chat."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.ml100k import load_items
from interest_bot.plugins.interest.ranking.titles import TitleIndex, title_variants

NO_TITLES = [
    "I love it when it rains in the morning", "The heat today is unbearable", "Can you help me with my homework?",
    "My friends and I went home early", "What time is it?", "I think it is going to be a long day",
    "Tell me something interesting", "I had pasta for dinner", "We should go out this weekend", "Is it cold outside?",
    "I really like spending time with my family", "My sister is visiting next week", "I need a new phone",
    "How are you doing today?", "That sounds like a good plan", "I'm so tired after work", "Let's talk about music",
    "I went for a run in the park", "My brother plays the guitar", "The game last night was amazing",
    "I can't stand waiting in line", "I prefer tea over coffee", "She bought a red dress", "We watched the sunset together",
    "Do you know any good recipes?", "I'm thinking about learning French", "The traffic was terrible",
    "I love the smell of fresh bread", "My dog loves playing fetch", "Summer is my favourite season",
    "I saw a bird on the window", "He is always late", "Money can't buy happiness", "I hate it when that happens",
    "Life is good right now", "I want to travel to Japan", "It was a dark and stormy night", "Let me know what you think",
    "I watched the news this morning", "The kids are playing outside", "I'm looking for something fun to do",
    "We had a big party for my birthday", "Speed matters a lot in this job", "I enjoyed the concert last night",
    "My mother makes the best soup", "I liked the weather yesterday", "Do you have any suggestions for me?",
    "I'm in love with this song", "The fire alarm went off again", "Free time is rare these days",
]


@pytest.fixture(scope="module")
def index() -> tuple[TitleIndex, dict]:
    items = load_items()
    ids = sorted(items, key=int)
    years = [int(items[i]["year"]) if items[i]["year"].isdigit() else None for i in ids]
    return TitleIndex(ids, [items[i]["title"] for i in ids], years), items


def test_fifty_title_free_sentences_link_nothing(index) -> None:
    ti, items = index
    assert len(NO_TITLES) == 50
    linked = {s: [items[i]["title"] for i in ti.link(s)] for s in NO_TITLES}
    assert {s: t for s, t in linked.items() if t} == {}


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I just watched Star Wars, loved it", "Star Wars"),
        ("the godfather was great", "Godfather, The"),
        ("Godfather, The is a classic", "Godfather, The"),
        ("I saw Heat last night and it was tense", "Heat"),
        ("we rewatched Toy Story (1995) yesterday", "Toy Story"),
        ("Honestly Fargo is my favourite", "Fargo"),
    ],
)
def test_mentioned_title_is_found(index, text: str, title: str) -> None:
    ti, items = index
    assert [items[i]["title"] for i in ti.link(text)][:1] == [title]


def test_common_word_title_needs_strong_evidence(index) -> None:
    ti, _ = index
    assert ti.link("the heat is on") == []
    assert ti.link("I saw Heat last night") != []


def test_variants_move_and_drop_leading_articles() -> None:
    assert {"godfather", "the godfather"} <= set(title_variants("Godfather, The (1972)"))


def test_sentence_start_capital_is_no_evidence_for_a_one_word_title() -> None:
    ti = TitleIndex(["1", "2"], ["Yes", "Enchanted"], [2004, 2007])
    assert ti.link("Yes I have seen it, great movie") == []
    assert ti.link("I watched Enchanted and loved it") == ["2"]
    assert ti.link("Yes (2004) was a great movie") == ["1"]  # a year after it makes it a title again


def test_written_year_steers_away_from_same_named_items_of_another_year() -> None:
    ti = TitleIndex(["old", "new"], ["The Black Panther", "Black Panther"], [1921, None], [5.0, 1.0])
    assert ti.link("i just watched Black Panther (2018) and loved it") == ["new"]
    assert ti.link("have you seen the Black Panther (2018)?") == ["new"]
