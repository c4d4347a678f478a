"""Catalog against real Chroma, embedded and a real `chroma run` server, with the real encoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from chroma_server import chroma_server  # noqa: F401  (fixture)

from interest_bot.memory.catalog import Catalog, CatalogItem, CatalogNotFoundError, catalog_dir, drop_catalog, list_catalogs, validate_catalog_name
from interest_bot.memory.chroma import collection_space, open_client
from interest_bot.memory.sources import read_file

ITEMS = [
    CatalogItem("1", "Star Fleet", "Starships fight a galactic war between empires in deep space.", ["Sci-Fi", "Action"], 50.0, {"year": 1999}),
    CatalogItem("2", "The Haunting", "A family is terrorised by a ghost in a haunted house.", ["Horror"], 10.0, {"year": 1980}),
    CatalogItem("3", "Paris Hearts", "Two strangers fall in love in Paris.", ["Romance", "Comedy"], 30.0, {"year": 2005}),
    CatalogItem("4", "Bake Off", "A baking contest where amateur cooks make cakes and bread.", ["Documentary"], 5.0, {}),
    CatalogItem("5", "Stadium", "A football team fights its way to the championship final.", ["Sports", "Drama"], 20.0, {"tags": ["x", "y"]}),
]


@pytest.fixture(params=["embedded", "server"])
def client(request: pytest.FixtureRequest, data_dir: Path):
    """A real Chroma client in both deployment modes."""
    if request.param == "embedded":
        return open_client(data_dir)
    server = request.getfixturevalue("chroma_server")
    return open_client(data_dir, server.url)


def _unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Random unit vectors, for tests where the encoder is not the point."""
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _table_embed(table: dict[str, np.ndarray], calls: list[int]):
    """An embed function returning fixed vectors per text, counting the texts it was asked for."""

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.stack([table[t] for t in texts])

    return embed


def test_names_validated() -> None:
    for bad in ["ab", "Movies", "my catalog", "-abc", "abc-", "a" * 64, "x:y"]:
        with pytest.raises(ValueError):
            validate_catalog_name(bad)
    assert validate_catalog_name("movielens-100k") == "movielens-100k"
    assert validate_catalog_name("my_books") == "my_books"


def test_search_returns_real_neighbours(client, encoder) -> None:
    cat = Catalog(client, "films")
    report = cat.ingest(ITEMS, encoder.encode, batch_size=2, progress=False, source="test")
    assert (report.added, report.total) == (5, 5)
    assert collection_space(cat.collection) == "cosine"
    queries = encoder.encode(["I love movies about spaceships and interstellar battles", "ghost stories scare me"])
    hits = cat.search(queries, k=3)
    assert hits[0][0][0] == "films:1" and hits[1][0][0] == "films:2"
    assert len(hits[0]) == 3 and hits[0][0][1] > hits[0][1][1] > hits[0][2][1]
    # Scores are cosine similarities: the item's own embedding scores 1.
    own = cat.items().embeddings[cat.items().row["3"]]
    top = cat.search(own, k=1)[0][0]
    assert top[0] == "films:3" and top[1] == pytest.approx(1.0, abs=1e-4)
    # Filters reach Chroma: multi-label categories and scalar metadata.
    assert [i for i, _ in cat.search(queries[0], k=5, where={"categories": {"$contains": "Comedy"}})[0]] == ["films:3"]
    assert {i for i, _ in cat.search(queries[0], k=5, where={"year": {"$lt": 2000}})[0]} == {"films:1", "films:2"}
    assert cat.search(queries, k=0) == [[], []]
    assert len(cat.search(queries[0], k=50)[0]) == 5  # k above the catalog size is clamped


def test_items_arrays_get_and_meta(client, data_dir: Path) -> None:
    vecs = _unit_vectors(len(ITEMS))
    table = {it.text: 3 * v for it, v in zip(ITEMS, vecs)}  # not unit-length on purpose
    cat = Catalog(client, "arrays")
    cat.ingest(ITEMS, _table_embed(table, []), progress=False, source="unit")
    arr = cat.items()
    assert arr.ids == ["1", "2", "3", "4", "5"] and arr.qids[0] == "arrays:1"
    assert arr.embeddings.dtype == np.float32 and arr.embeddings.shape == (5, 32)
    assert np.allclose(np.linalg.norm(arr.embeddings, axis=1), 1.0, atol=1e-5)
    assert np.allclose(arr.embeddings, vecs, atol=1e-5)
    assert arr.categories[0] == ["Sci-Fi", "Action"] and arr.popularity.tolist() == [50, 10, 30, 5, 20]
    assert arr.row["arrays:4"] == arr.row["4"] == 3 and arr.item(4).metadata == {"tags": ["x", "y"]}
    got = cat.get(["arrays:5", "3", "missing"])
    assert [g.id for g in got] == ["5", "3"] and got[0] == ITEMS[4]
    with pytest.raises(ValueError, match="belongs to catalog 'films'"):
        cat.get(["films:1"])
    assert cat.categories() == sorted({c for it in ITEMS for c in it.categories})
    meta = cat.meta()
    assert meta["source"] == "unit" and meta["count"] == 5 and meta["ingested_at"]
    path = cat.write_meta_json(data_dir)
    assert path == catalog_dir(data_dir, "arrays") / "meta.json" and json.loads(path.read_text())["count"] == 5
    assert cat.unqualify(cat.qualify("x:1")) == "x:1"  # ids may hold colons


def test_ingest_idempotent_and_removes_dropped_items(client) -> None:
    vecs = _unit_vectors(len(ITEMS) + 1, seed=1)
    table = {it.text: v for it, v in zip(ITEMS, vecs)}
    calls: list[int] = []
    cat = Catalog(client, "idem")
    cat.ingest(ITEMS, _table_embed(table, calls), progress=False)
    assert sum(calls) == 5
    before = cat.items()

    again = cat.ingest(ITEMS, _table_embed(table, calls), progress=False)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 5, 0)
    assert sum(calls) == 5  # nothing re-embedded
    after = cat.items()
    assert after.ids == before.ids and np.allclose(after.embeddings, before.embeddings)

    changed = [
        ITEMS[0],
        CatalogItem("2", "The Haunting", ITEMS[1].text, ["Horror", "Thriller"], 99.0),  # metadata only
        CatalogItem("3", "Paris Hearts", "A new synopsis.", ["Romance"]),  # text changed: re-embedded
    ]
    table["A new synopsis."] = vecs[5]
    report = cat.ingest(changed, _table_embed(table, calls), progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 2, 1, 2)
    assert sum(calls) == 6
    arr = cat.items()
    assert arr.ids == ["1", "2", "3"] and cat.count() == 3
    assert arr.categories[1] == ["Horror", "Thriller"] and arr.popularity[1] == 99.0
    assert np.allclose(arr.embeddings[1], vecs[1], atol=1e-5) and np.allclose(arr.embeddings[2], vecs[5], atol=1e-5)
    assert {i for i, _ in cat.search(vecs[3], k=10)[0]} == {"idem:1", "idem:2", "idem:3"}
    dup = cat.ingest(changed + [changed[0]], _table_embed(table, calls), progress=False)
    assert dup.duplicates == ["1"] and dup.total == 3


def test_file_catalog_multilabel_and_qualified_ids(client, encoder, tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "sku,name,desc,tags\n"
        "a-1,Trail shoes,Running shoes for mountain trails,Sport|Outdoor\n"
        "a-2,Rain jacket,A waterproof jacket for hiking in the rain,Outdoor;Clothing\n"
        ",orphan,no id,Sport\n"
        "a-3,Silk scarf,An elegant silk scarf,Clothing\n"
    )
    items, errors = read_file(path, id_col="sku", title_col="name", text_col="desc", category_col="tags")
    assert [e.line for e in errors] == [4]
    cat = Catalog(client, "mine")
    cat.ingest(items, encoder.encode, progress=False, source=str(path))
    assert cat.categories() == ["Clothing", "Outdoor", "Sport"]
    outdoor = cat.search(encoder.encode(["something for a hike"]), k=3, where={"categories": {"$contains": "Outdoor"}})[0]
    assert {i for i, _ in outdoor} == {"mine:a-1", "mine:a-2"}
    assert cat.get(["mine:a-2"])[0].categories == ["Outdoor", "Clothing"]


def test_two_catalogs_never_collide_and_list(client) -> None:
    vecs = _unit_vectors(2, seed=3)
    a, b = Catalog(client, "cat-a"), Catalog(client, "cat-b")
    a.ingest([CatalogItem("1", "A one", "a1", ["X"])], lambda t: vecs[:1], progress=False, source="sa")
    b.ingest([CatalogItem("1", "B one", "b1", ["Y"])], lambda t: vecs[1:], progress=False, source="sb")
    assert a.search(vecs[0], 1)[0][0][0] == "cat-a:1" and b.search(vecs[0], 1)[0][0][0] == "cat-b:1"
    listed = {m["name"]: m for m in list_catalogs(client)}
    assert listed["cat-a"]["source"] == "sa" and listed["cat-b"]["categories"] == ["Y"] and listed["cat-b"]["count"] == 1
    drop_catalog(client, "cat-a")
    drop_catalog(client, "cat-a")  # dropping twice is fine
    assert "cat-a" not in {m["name"] for m in list_catalogs(client)}
    with pytest.raises(CatalogNotFoundError, match="interest-bot catalog ingest cat-a"):
        Catalog(client, "cat-a", create=False)
    assert Catalog(client, "cat-b", create=False).count() == 1


def test_rows_match_the_whole_arrays_and_the_row_cache_stays_bounded(client) -> None:
    vectors = _unit_vectors(40, seed=3)
    items = [CatalogItem(str(i), f"Film {i}", f"text {i}", [["Drama"], ["Comedy", "Drama"]][i % 2], float(i), {"year": 1990 + i}) for i in range(40)]
    table = {it.text: vectors[i] for i, it in enumerate(items)}
    cat = Catalog(client, "rowfilms", row_cache=5)
    cat.ingest(items, _table_embed(table, []), progress=False)
    arrays = cat.items()
    asked = ["rowfilms:7", "3", "missing", "rowfilms:39"] + [str(i) for i in range(20)]
    rows = cat.rows(asked)
    assert rows.ids[:3] == ["7", "3", "39"] and "missing" not in rows.row
    for r, item_id in enumerate(rows.ids):
        whole = arrays.row[item_id]
        np.testing.assert_allclose(rows.embeddings[r], arrays.embeddings[whole], atol=1e-6)
        assert rows.titles[r] == arrays.titles[whole] and rows.categories[r] == arrays.categories[whole]
        assert rows.popularity[r] == float(arrays.popularity[whole]) and rows.years[r] == 1990 + int(item_id)
    assert len(cat._rows) <= 5  # the cache never holds more than row_cache items, however many are asked for


def test_stats_are_stored_at_ingest_and_computed_for_an_older_catalog(client) -> None:
    items = [CatalogItem(str(i), f"Film {i}", f"text {i}", ["Horror"] if i < 3 else ["Comedy"], float(10 - i)) for i in range(8)]
    vectors = _unit_vectors(8, seed=4)
    cat = Catalog(client, "statfilms")
    cat.ingest(items, _table_embed({it.text: vectors[i] for i, it in enumerate(items)}, []), progress=False)
    stats = Catalog(client, "statfilms").stats()  # a new instance reads what ingest stored
    assert stats.count == 8 and stats.categories == ["Comedy", "Horror"]
    assert stats.popular[""][:3] == ["0", "1", "2"] and stats.popular["Comedy"][0] == "3" and stats.popularity_max == 10.0
    # A catalog ingested before the figures were stored: they are computed from its records, the same ones.
    meta = dict(cat.collection.metadata or {})
    meta.pop("stats_json")
    cat.collection.modify(metadata=meta)
    assert Catalog(client, "statfilms").stats() == stats


def test_a_row_store_serves_this_ingest_only(client, tmp_path: Path) -> None:
    from interest_bot.memory.item_rows import ItemRowStore

    vectors = _unit_vectors(30, seed=6)
    items = [CatalogItem(str(i), f"Film {i}", f"text {i}", ["Drama"], float(i), {"year": 2000 + i}) for i in range(30)]
    table = {it.text: vectors[i] for i, it in enumerate(items)}
    store = ItemRowStore.open(tmp_path / "rows.sqlite")
    cat = Catalog(client, "storefilms", row_store=store)
    cat.ingest(items, _table_embed(table, []), progress=False)
    assert not cat.rows_indexed()  # nothing copied yet: rows come from Chroma
    assert cat.index_rows_if_larger(30) == 0 and not cat.rows_indexed()  # 30 items ranked whole: nothing to copy
    seen: list[tuple[int, int]] = []
    assert cat.index_rows_if_larger(29, progress=lambda done, total: seen.append((done, total))) == 30 and seen[-1] == (30, 30)
    assert cat.rows_indexed() and cat.index_rows_if_larger(29) == 0  # once per ingest
    from_store = Catalog(client, "storefilms", row_store=store).rows(["3", "17"])
    assert from_store.titles == ["Film 3", "Film 17"] and from_store.years == [2003, 2017]
    np.testing.assert_allclose(from_store.embeddings, vectors[[3, 17]], atol=2e-3)
    # A new ingest (a changed title) is a new stamp: the copied rows are not read until copied again.
    items[3] = CatalogItem("3", "Film Three", "text 3", ["Drama"], 3.0, {"year": 2003})
    cat.ingest(items, _table_embed(table, []), progress=False)
    fresh = Catalog(client, "storefilms", row_store=store)
    assert not fresh.rows_indexed() and fresh.rows(["3"]).titles == ["Film Three"]


def test_titles_read_from_the_row_store_match_chroma(client, tmp_path: Path) -> None:
    from interest_bot.memory.item_rows import ItemRowStore

    vectors = _unit_vectors(12, seed=7)
    items = [CatalogItem(str(i), f"Film {i}", f"text {i}", ["Drama"], float(i) + 0.1, {"year": 1980 + i} if i % 2 else {}) for i in range(12)]
    cat = Catalog(client, "titlefilms", row_store=ItemRowStore.open(tmp_path / "rows.sqlite"))
    cat.ingest(items, _table_embed({it.text: vectors[i] for i, it in enumerate(items)}, []), progress=False)
    from_chroma = cat.titles()
    cat.index_rows()
    assert cat.rows_indexed() and cat.titles() == from_chroma
    assert from_chroma[0][:3] == ["0", "1", "2"] and from_chroma[2][:2] == [None, 1981]
