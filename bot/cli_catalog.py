"""`interest-bot catalog ...`: ingest a built-in or file catalog (embed, store, train heads) and list catalogs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from chromadb.api import ClientAPI

from interest_bot.memory.catalog import Catalog, CatalogItem, catalog_dir, list_catalogs, validate_catalog_name
from interest_bot.memory.chroma import ChromaDataError, ChromaUnavailableError, DataDirLockedError, open_client
from interest_bot.memory.sources import BUILTIN, SourceNotInstalledError, load_builtin, load_ratings_ml100k, read_file

app = typer.Typer(help="Ingest and list catalogs.", no_args_is_help=True)

MAX_ERRORS_SHOWN = 20


def _settings() -> Any:
    """The application settings (IBOT_* environment, .env)."""
    from .config import Settings

    return Settings()


def _client(settings: Any) -> ClientAPI:
    """A Chroma client for the settings, or a clean exit with the reason."""
    try:
        return open_client(Path(settings.data_dir), settings.chroma_url)
    except (DataDirLockedError, ChromaDataError, ChromaUnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def default_name(source: str) -> str:
    """A valid catalog name from a built-in name or a file name."""
    if source in BUILTIN:
        return source
    name = re.sub(r"[^a-z0-9_-]+", "-", Path(source).stem.lower()).strip("-_")
    return name if len(name) >= 3 else f"{name or 'cat'}-catalog"


def train_classifier_heads(catalog_path: Path, items: list[CatalogItem], encoder: Any) -> None:
    """Train the interest classifier's heads on the catalog and save them in catalog_path/heads."""
    from interest_bot.plugins.interest.classifier import train_heads
    from interest_bot.plugins.interest.plugin import heads_dir

    if not any(it.categories for it in items):
        typer.echo("note: no item has a category, so no classifier heads were trained.", err=True)
        return
    classifier = train_heads(items, encoder, progress=True)
    path = classifier.save(heads_dir(catalog_path.parent.parent, catalog_path.name))
    typer.echo(f"classifier heads saved in {path}")


def seed_counts_from_ratings(settings: Any, catalog: Catalog) -> None:
    """Seed the collaborative counts from the ML-100k ratings (the demo's "people who watched ... went on to")."""
    from interest_bot.memory.counts import CountStore
    from interest_bot.memory.sqldb import sql_location

    store = CountStore.open(sql_location(settings.data_dir, settings.sql_url))
    try:
        added = store.seed_from_ratings(((u, i, t) for u, i, _r, t in load_ratings_ml100k()), catalog=catalog.name)
    finally:
        store.close()
    typer.echo(f"counts seeded from the ML-100k ratings ({added} new events)")


def _is_ready(settings: Any, name: str) -> bool:
    """True when the catalog is stored and its classifier heads are saved."""
    from interest_bot.plugins.interest.classifier import InterestClassifier
    from interest_bot.plugins.interest.plugin import heads_dir

    if not InterestClassifier.exists(heads_dir(Path(settings.data_dir), name)):
        return False
    return any(meta["name"] == name and meta["count"] > 0 for meta in list_catalogs(_client(settings)))


def _load_items(source: str, id_col: str, title_col: str, text_col: str, category_col: str, items_only: bool) -> list[CatalogItem]:
    """Items of a built-in or a file; bad file rows are reported and skipped."""
    if source in BUILTIN:
        return load_builtin(source, popularity=not items_only)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{source!r} is neither a built-in catalog ({', '.join(BUILTIN)}) nor an existing file")
    items, errors = read_file(path, id_col, title_col, text_col, category_col)
    for err in errors[:MAX_ERRORS_SHOWN]:
        typer.echo(f"skipped {path.name} {err}", err=True)
    if len(errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(errors) - MAX_ERRORS_SHOWN} more skipped rows", err=True)
    if errors:
        typer.echo(f"{len(errors)} bad rows skipped, {len(items)} items read", err=True)
    return items


@app.command("ingest")
def ingest(
    source: str = typer.Argument("movielens-100k", help=f"a built-in ({', '.join(BUILTIN)}) or a .csv/.tsv/.jsonl file"),
    name: str = typer.Option("", "--name", help="catalog name (default: the built-in name or the file name)"),
    id_col: str = typer.Option("id", "--id-col", help="column holding the item id"),
    title_col: str = typer.Option("title", "--title-col", help="column holding the title"),
    text_col: str = typer.Option("text", "--text-col", help="column holding the text to embed (default: the title)"),
    category_col: str = typer.Option("categories", "--category-col", help="column of labels separated by | or ;"),
    items_only: bool = typer.Option(False, "--items-only", help="no popularity or counts from ML-100k ratings"),
    heads: bool = typer.Option(True, "--heads/--no-heads", help="train the interest classifier's heads"),
    if_missing: bool = typer.Option(False, "--if-missing", help="do nothing when the catalog and its heads exist"),
) -> None:
    """Embed and store a catalog (idempotent: re-ingesting updates it and removes items that left the source)."""
    settings = _settings()
    try:
        catalog_name = validate_catalog_name(name or default_name(source))
        if if_missing and _is_ready(settings, catalog_name):
            typer.echo(f"catalog {catalog_name!r} is already ingested in {settings.data_dir}")
            return
        items = _load_items(source, id_col, title_col, text_col, category_col, items_only)
    except (SourceNotInstalledError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not items:
        typer.echo("error: no valid items to ingest", err=True)
        raise typer.Exit(1)

    client = _client(settings)
    from interest_bot.plugins.interest.encoder import encoder_for
    from interest_bot.plugins.interest.errors import EncoderBuildError, ModelNotInstalledError

    try:
        encoder = encoder_for(settings.plugin_config())
    except (ModelNotInstalledError, EncoderBuildError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    catalog = Catalog(client, catalog_name)
    report = catalog.ingest(items, encoder.encode, source=source if source in BUILTIN else str(Path(source).resolve()))
    typer.echo(report.summary())
    path = catalog_dir(Path(settings.data_dir), catalog_name)
    catalog.write_meta_json(Path(settings.data_dir))

    if heads:
        train_classifier_heads(path, items, encoder)
    if source == "movielens-100k" and not items_only:
        seed_counts_from_ratings(settings, catalog)


@app.command("list")
def list_() -> None:
    """List ingested catalogs: name, items, categories, source, when."""
    catalogs = list_catalogs(_client(_settings()))
    if not catalogs:
        typer.echo("no catalogs yet: run `interest-bot catalog ingest movielens-100k`")
        return
    for meta in catalogs:
        cats = meta["categories"]
        shown = ", ".join(cats[:8]) + (f", … (+{len(cats) - 8})" if len(cats) > 8 else "")
        typer.echo(f"{meta['name']}: {meta['count']} items, {len(cats)} categories ({shown})")
        typer.echo(f"    source {meta['source'] or '?'}, ingested {meta['ingested_at'] or '?'}")
