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
