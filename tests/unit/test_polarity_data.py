"""The chat training templates: kept by author, merged for training, each a single clause."""

from __future__ import annotations

import pytest

from interest_bot.plugins.interest.understanding import polarity_data
from interest_bot.plugins.interest.understanding.text import preprocess

CATEGORIES = ["Comedy", "Horror", "Western"]


def test_templates_are_kept_by_author_and_merged_in_order() -> None:
    authors = polarity_data.template_authors()
    assert authors[0] == "project" and len(authors) >= 3
    merged = polarity_data.templates()
    for key in ("positive", "negative", "things"):
        assert merged[key] == [t for a in authors for t in polarity_data.templates([a])[key]]
        assert len(set(map(str.lower, merged[key]))) == len(merged[key]), f"duplicate {key} template"


def test_no_template_is_both_positive_and_negative() -> None:
    merged = polarity_data.templates()
    assert not {t.lower() for t in merged["positive"]} & {t.lower() for t in merged["negative"]}


def test_each_template_has_one_slot_and_stays_one_clause() -> None:
    merged = polarity_data.templates()
    for template in merged["positive"] + merged["negative"]:
        assert template.count("{x}") == 1, template
        assert len(preprocess(template.replace("{x}", "old westerns"))) == 1, template
    assert all("{x}" not in thing for thing in merged["things"])


def test_chat_clauses_use_only_the_chosen_authors() -> None:
    own = polarity_data.templates(["project"])
    frames = [tuple(t.lower().split("{x}")) for t in own["positive"] + own["negative"]]
    clauses = polarity_data.chat_clauses(CATEGORIES, per_category=30, authors=["project"])
    assert clauses and {c.polarity for c in clauses} == {1, -1}
    for clause in clauses:
        text = clause.text.lower()
        assert any(text.startswith(head) and text.endswith(tail) for head, tail in frames), clause.text
    everyone = polarity_data.chat_clauses(CATEGORIES, per_category=30)
    assert {c.text for c in everyone} - {c.text for c in clauses}


def test_unknown_author_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown template authors"):
        polarity_data.templates(["nobody"])


def test_two_opposite_tastes_in_one_clause_are_cut_kept_or_left_out() -> None:
    """A clause the splitter left whole never trains the polarity head both ways, unless it is a comparison."""
    from interest_bot.plugins.interest.understanding.polarity_data import ChatClause, _opposed_in_one_clause

    def both(text: str, liked: str, disliked: str) -> list[tuple[ChatClause, str]]:
        return [(ChatClause(text, 1, ["Action"]), liked), (ChatClause(text, -1, ["Comedy"]), disliked)]

    cut = _opposed_in_one_clause(both("Speed rocks, Con Air was a pile of nonsense", "Speed", "Con Air"))
    assert [(c.text, c.polarity, c.categories) for c in cut] == [("Speed rocks", 1, ["Action"]), ("Con Air was a pile of nonsense", -1, ["Comedy"])]
    compared = both("I'd take a western over any musical", "western", "musical")
    assert _opposed_in_one_clause(compared) == [c for c, _ in compared]  # analyze reads a comparison whole
    assert _opposed_in_one_clause(both("action movies are fire rom coms tho", "action movies", "rom coms")) == []  # no comma to cut at
    # A training line: cut at its comma, "Con Air" would be labelled a dislike with nothing said of it.
    assert _opposed_in_one_clause(both("Speed rocks, Con Air", "Speed", "Con Air")) == []


def test_no_labelled_line_teaches_one_plain_clause_both_ways() -> None:
    from interest_bot.plugins.interest.understanding.comparison import read_comparison

    tastes, _ = polarity_data.line_examples(["Action", "Comedy", "Drama", "Horror", "Romance", "Western"])
    signs: dict[str, set[int]] = {}
    for c in tastes:
        signs.setdefault(c.text, set()).add(c.polarity)
    # Short texts may recur across lines ("Titanic"); a whole line's clause labelled both ways is what must not happen.
    both = [t for t, s in signs.items() if len(s) > 1 and len(t.split()) > 2 and read_comparison(t) is None]
    assert both == []
