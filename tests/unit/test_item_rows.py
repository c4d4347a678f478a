"""The SQL row store a large catalog's ranking reads: exact fields, float16 embeddings back as unit vectors, stamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interest_bot.memory.item_rows import ItemRow, ItemRowStore


def rows(n: int, seed: int = 0) -> list[tuple[str, ItemRow]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [(str(i), ItemRow(f"Film {i}", ["Drama", "Comedy"][: 1 + i % 2], float(i), 1990 + i if i % 3 else None, vectors[i])) for i in range(n)]


def test_rows_come_back_as_written_and_unknown_ids_are_left_out(tmp_path: Path) -> None:
    store = ItemRowStore.open(tmp_path / "s.sqlite")
    written = dict(rows(1200))
    assert store.stamp("films") is None
    assert store.replace("films", "stamp-1", written.items()) == 1200  # more than one insert chunk
    assert store.stamp("films") == "stamp-1"
    got = store.get("films", ["5", "nope", "1100", "5"])
    assert sorted(got) == ["1100", "5"]
    for item_id, row in got.items():
        want = written[item_id]
        assert (row.title, row.categories, row.popularity, row.year) == (want.title, want.categories, want.popularity, want.year)
        np.testing.assert_allclose(row.embedding, want.embedding, atol=2e-3)  # stored as float16
        assert abs(float(np.linalg.norm(row.embedding)) - 1.0) < 1e-5
    assert store.get("other", ["5"]) == {}


def test_replace_makes_the_rows_exactly_the_new_ones(tmp_path: Path) -> None:
    store = ItemRowStore.open(tmp_path / "s.sqlite")
    store.replace("films", "a", rows(10))
    store.replace("films", "b", rows(3, seed=1))
    assert store.stamp("films") == "b"
    assert sorted(store.get("films", [str(i) for i in range(10)])) == ["0", "1", "2"]
    store.drop("films")
    assert store.stamp("films") is None and store.get("films", ["0"]) == {}
