"""A catalog of items in one Chroma collection (`catalog_<name>`); embeddings are computed by the caller's function."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api import ClientAPI

from .chroma import get_collection
from .errors import InvalidInputError
from .item_rows import ItemRow, ItemRowStore
from .lru import LRU

__all__ = [
    "COLLECTION_PREFIX",
    "ArrayCatalog",
    "Catalog",
    "CatalogArrays",
    "CatalogItem",
    "CatalogNotFoundError",
    "CatalogStats",
    "IngestReport",
    "ItemRows",
    "catalog_dir",
    "drop_catalog",
    "list_catalogs",
    "validate_catalog_name",
]

COLLECTION_PREFIX = "catalog_"
# Chroma names must start and end with an alphanumeric; the project keeps names lower-case.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")
# Keys the catalog itself writes into each record's metadata.
_RESERVED = {"title", "categories", "popularity", "text_hash", "row_hash", "meta_json"}
_PAGE = 2000  # records per get() page: bounded responses in server mode
# Per catalog, the most popular items overall and per category, stored with the collection for candidate generation.
POPULAR_OVERALL = 1000
POPULAR_PER_CATEGORY = 300

Embed = Callable[[list[str]], np.ndarray]
# (done, total) after each step: lets a caller without a terminal (an embedder's own UI) show how far an ingest is.
Progress = Callable[[int, int], None]


class CatalogNotFoundError(LookupError):
    """The catalog has not been ingested into this Chroma database."""


@dataclass
class CatalogItem:
    """One recommendable item."""

    id: str
    title: str
    text: str
    categories: list[str] = field(default_factory=list)
    popularity: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestReport:
    """What one ingest changed."""

    catalog: str
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def items_per_s(self) -> float:
        """Throughput over the whole ingest."""
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for people."""
        dup = f", {len(self.duplicates)} duplicate ids skipped" if self.duplicates else ""
        return (
            f"{self.catalog}: {self.total} items ({self.added} added, {self.updated} updated, {self.unchanged} unchanged,"
            f" {self.removed} removed{dup}) in {self.seconds:.1f}s"
        )


@dataclass
class CatalogArrays:
    """All items of a catalog as row-aligned arrays, for fast in-process scoring."""

    name: str
    ids: list[str]
    qids: list[str]
    titles: list[str]
    texts: list[str]
    categories: list[list[str]]
    popularity: np.ndarray  # float32, (n,)
    embeddings: np.ndarray  # float32, (n, dim), rows L2-normalized
    metadata: list[dict[str, Any]]
    row: dict[str, int]  # raw id and qualified id -> row

    def __len__(self) -> int:
        return len(self.ids)

    def item(self, index: int) -> CatalogItem:
        """The item at one row."""
        return CatalogItem(self.ids[index], self.titles[index], self.texts[index], list(self.categories[index]),
                           float(self.popularity[index]), dict(self.metadata[index]))

    def rows(self) -> ItemRows:
        """The whole catalog as ranking rows (the arrays are shared, not copied)."""
        return ItemRows(
            ids=self.ids, qids=self.qids, titles=self.titles, categories=self.categories,
            years=[_year(m) for m in self.metadata], popularity=np.asarray(self.popularity, np.float64),
            embeddings=self.embeddings, row=self.row,
        )


@dataclass
class ItemRows:
    """Some catalog items as row-aligned arrays: what ranking reads (no texts)."""

    ids: list[str]
    qids: list[str]
    titles: list[str]
    categories: list[list[str]]
    years: list[int | None]
    popularity: np.ndarray  # float64, (n,)
    embeddings: np.ndarray  # float32, (n, dim), rows L2-normalized
    row: dict[str, int]  # raw id and qualified id -> row

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class CatalogStats:
    """Whole-catalog figures ranking needs without reading every item: computed at ingest, stored with the collection."""

    count: int
    categories: list[str]
    popularity_max: float
    popularity_q90: float  # an item at or above this is "popular"
    popular: dict[str, list[str]]  # "" -> raw ids by popularity (most first), and the same per category

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps({"popularity_max": self.popularity_max, "popularity_q90": self.popularity_q90, "popular": self.popular})

    @classmethod
    def of(cls, ids: Sequence[str], categories: Sequence[Sequence[str]], popularity: Sequence[float] | np.ndarray) -> CatalogStats:
        """The figures for these items (in any order)."""
        # float32 like the ranking arrays, so the stored quantile is the one a whole-catalog ranking computes.
        pop = np.asarray(popularity, np.float32).astype(np.float64)
        order = sorted(range(len(ids)), key=lambda r: (-pop[r], _sort_key(ids[r])))
        popular: dict[str, list[str]] = {"": [ids[r] for r in order[:POPULAR_OVERALL]]}
        for r in order:
            for c in categories[r]:
                top = popular.setdefault(c, [])
                if len(top) < POPULAR_PER_CATEGORY:
                    top.append(ids[r])
        return cls(
            count=len(ids), categories=sorted({c for cs in categories for c in cs}),
            popularity_max=float(pop.max()) if len(pop) else 0.0,
            popularity_q90=float(np.quantile(pop, 0.9)) if len(pop) else 0.0, popular=popular,
        )


def _year(meta: dict[str, Any] | None) -> int | None:
    year = (meta or {}).get("year")
    return int(year) if isinstance(year, (int, float)) or (isinstance(year, str) and year.isdigit()) else None


def validate_catalog_name(name: str) -> str:
    """The name, if it is 3-63 characters of [a-z0-9_-] starting and ending alphanumeric."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"Invalid catalog name {name!r}: use 3-63 characters from a-z, 0-9, '-' and '_',"
            " starting and ending with a letter or digit."
        )
    return name


def catalog_dir(data_dir: Path, name: str) -> Path:
    """data_dir/catalogs/<name>: meta.json and the classifier heads (heads/) live here."""
    return Path(data_dir) / "catalogs" / validate_catalog_name(name)


def _hash(*parts: Any) -> str:
    """A short stable digest of JSON-able parts."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _record_metadata(item: CatalogItem) -> dict[str, Any]:
    """Chroma metadata for one item: scalars stay filterable, the full metadata round-trips as JSON."""
    meta: dict[str, Any] = {
        "title": item.title,
        "popularity": float(item.popularity),
        "text_hash": _hash(item.text),
        "row_hash": _hash(item.title, item.text, item.categories, item.popularity, item.metadata),
        "meta_json": json.dumps(item.metadata, default=str),
    }
    if item.categories:  # Chroma rejects empty lists
        meta["categories"] = list(item.categories)
    for key, value in item.metadata.items():
        if key not in _RESERVED and isinstance(value, (str, int, float, bool)) and not key.startswith(("#", "chroma:")):
            meta[key] = value
    return meta


def _item_from_record(item_id: str, document: str | None, meta: dict[str, Any] | None) -> CatalogItem:
    """The CatalogItem a stored record describes."""
    meta = meta or {}
    return CatalogItem(
        id=item_id,
        title=str(meta.get("title", "")),
        text=document or "",
        categories=list(meta.get("categories") or []),
        popularity=float(meta.get("popularity", 0.0)),
        metadata=json.loads(meta.get("meta_json") or "{}"),
    )


def _sort_key(item_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the rest alphabetically: a stable row order."""
    return (0, int(item_id), "") if item_id.isdigit() else (1, 0, item_id)


class Catalog:
    """Items of one named catalog in the `catalog_<name>` collection, with cosine search."""

    def __init__(self, client: ClientAPI, name: str, create: bool = True, row_cache: int = 50_000, row_store: ItemRowStore | None = None) -> None:
        self.name = validate_catalog_name(name)
        self.client = client
        if not create and COLLECTION_PREFIX + name not in {c.name for c in client.list_collections()}:
            raise CatalogNotFoundError(f"No catalog {name!r} yet: run `interest-bot catalog ingest {name}` (or a file with --name {name}).")
        self.collection = get_collection(client, COLLECTION_PREFIX + name, metadata={"catalog": name})
        self._arrays: CatalogArrays | None = None
        self._stats: CatalogStats | None = None
        # Ranking rows of recently used items (title, categories, popularity, year, unit embedding): the only per-item
        # state a large catalog keeps in process, bounded by `row_cache` items whatever the catalog's size.
        self._rows: LRU[str, ItemRow] = LRU(row_cache)
        self._rows_lock = threading.Lock()
        # Misses are read from the SQL row store when it holds this ingest's rows (fast), else from Chroma.
        self._row_store = row_store
        self._store_fresh: bool | None = None

    # -- ids --------------------------------------------------------------
    def qualify(self, item_id: str) -> str:
        """The catalog-qualified id, `name:item_id`, used wherever an id leaves the catalog."""
        return f"{self.name}:{item_id}"

    def unqualify(self, qid: str) -> str:
        """The raw item id of a qualified id of this catalog (a raw id passes through)."""
        prefix, sep, rest = qid.partition(":")
        if sep and prefix == self.name:
            return rest
        if sep and _NAME.match(prefix):
            raise InvalidInputError(f"{qid!r} belongs to catalog {prefix!r}, not {self.name!r}")
        return qid

    # -- meta -------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """name, source, categories, count and ingested_at, as stored with the collection."""
        stored = dict(self.client.get_collection(self.collection.name, embedding_function=None).metadata or {})
        return {
            "name": self.name,
            "source": stored.get("source", ""),
            "categories": json.loads(stored.get("categories_json") or "[]"),
            "count": self.collection.count(),
            "ingested_at": stored.get("ingested_at", ""),
        }

    def write_meta_json(self, data_dir: Path) -> Path:
        """Write data_dir/catalogs/<name>/meta.json (readable beside the classifier heads)."""
        path = catalog_dir(data_dir, self.name) / "meta.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.meta(), indent=2) + "\n")
        return path

    def _store_meta(self, source: str, stats: CatalogStats) -> None:
        """Replace the collection metadata (modify() replaces it whole; lists are not allowed there)."""
        self.collection.modify(
            metadata={
                "catalog": self.name,
                "source": source,
                "categories_json": json.dumps(stats.categories),
                "count": stats.count,
                "stats_json": stats.to_json(),
                "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "ingest_id": uuid.uuid4().hex,  # two ingests within a second still differ (copied rows are keyed by it)
            }
        )
        self._stats = stats

    def stats(self) -> CatalogStats:
        """Whole-catalog figures for ranking: stored at ingest; for a catalog ingested before they were, computed once
        from the stored metadata (one paged read, no embeddings)."""
        if self._stats is None:
            stored = dict(self.client.get_collection(self.collection.name, embedding_function=None).metadata or {})
            if stored.get("stats_json"):
                data = json.loads(str(stored["stats_json"]))
                self._stats = CatalogStats(
                    count=int(stored.get("count") or self.collection.count()),
                    categories=json.loads(str(stored.get("categories_json") or "[]")),
                    popularity_max=float(data["popularity_max"]), popularity_q90=float(data["popularity_q90"]), popular=data["popular"],
                )
            else:
                ids, cats, pops = [], [], []
                for item_id, meta in self._pages(["metadatas"]):
                    ids.append(item_id)
                    cats.append(list(meta.get("categories") or []))
                    pops.append(float(meta.get("popularity", 0.0)))
                self._stats = CatalogStats.of(ids, cats, pops)
        return self._stats

    def _pages(self, include: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, metadata) of every stored record, read in pages."""
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=_PAGE, offset=offset)
            for item_id, meta in zip(page["ids"], page["metadatas"] or [{}] * len(page["ids"])):
                yield item_id, meta or {}
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    # -- writing ----------------------------------------------------------
    def _existing_hashes(self) -> dict[str, tuple[str, str]]:
        """id -> (text_hash, row_hash) of every stored record."""
        return {item_id: (str(meta.get("text_hash", "")), str(meta.get("row_hash", ""))) for item_id, meta in self._pages(["metadatas"])}

    def ingest(
        self,
        items: Iterable[CatalogItem],
        embed: Embed,
        batch_size: int = 256,
        progress: bool | Progress = True,
        source: str = "",
    ) -> IngestReport:
        """Make the catalog hold exactly these items: embed new or changed texts, upsert in batches, delete the rest.

        progress: True shows a tqdm bar, False nothing; a function is called with (texts embedded, texts to embed)."""
        from tqdm.auto import tqdm

        start = time.perf_counter()
        report = IngestReport(self.name)
        unique: dict[str, CatalogItem] = {}
        for item in items:
            if not item.id:
                raise ValueError(f"an item has an empty id (title {item.title!r})")
            if item.id in unique:
                report.duplicates.append(item.id)
                continue
            unique[item.id] = item
        report.total = len(unique)
        existing = self._existing_hashes()

        to_embed: list[CatalogItem] = []
        meta_only: list[CatalogItem] = []
        for item in unique.values():
            old = existing.get(item.id)
            meta = _record_metadata(item)
            if old is None:
                report.added += 1
                to_embed.append(item)
            elif old[0] != meta["text_hash"]:
                report.updated += 1
                to_embed.append(item)
            elif old[1] != meta["row_hash"]:
                # Same text, so the stored embedding is still right: update metadata only.
                report.updated += 1
                meta_only.append(item)
            else:
                report.unchanged += 1

        report_to = progress if callable(progress) else None
        bar = tqdm(total=len(to_embed), desc=f"embedding {self.name}", unit="item", disable=report_to is not None or not progress or not to_embed)
        for lo in range(0, len(to_embed), batch_size):
            batch = to_embed[lo : lo + batch_size]
            vectors = np.asarray(embed([it.text for it in batch]), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(batch):
                raise ValueError(f"embed() returned shape {vectors.shape} for {len(batch)} texts")
            self.collection.upsert(
                ids=[it.id for it in batch],
                embeddings=vectors,
                documents=[it.text for it in batch],
                metadatas=[_record_metadata(it) for it in batch],
            )
            bar.update(len(batch))
            if report_to is not None:
                report_to(lo + len(batch), len(to_embed))
        bar.close()
        for lo in range(0, len(meta_only), batch_size):
            batch = meta_only[lo : lo + batch_size]
            self.collection.update(ids=[it.id for it in batch], metadatas=[_record_metadata(it) for it in batch])

        gone = [item_id for item_id in existing if item_id not in unique]
        for lo in range(0, len(gone), max(batch_size, 1000)):
            self.collection.delete(ids=gone[lo : lo + max(batch_size, 1000)])
        report.removed = len(gone)

        items_now = list(unique.values())
        self._store_meta(source, CatalogStats.of([it.id for it in items_now], [it.categories for it in items_now], [it.popularity for it in items_now]))
        self._drop_caches()
        report.seconds = time.perf_counter() - start
        return report

    def delete(self) -> None:
        """Drop the whole catalog collection."""
        self.client.delete_collection(self.collection.name)
        self._drop_caches()

    # -- reading ----------------------------------------------------------
    def count(self) -> int:
        """Number of items stored."""
        return self.collection.count()

    def get(self, item_ids: Sequence[str]) -> list[CatalogItem]:
        """Items by raw or qualified id, in the order asked; unknown ids are left out."""
        raw = [self.unqualify(i) for i in item_ids]
        if not raw:
            return []
        got = self.collection.get(ids=list(dict.fromkeys(raw)), include=["documents", "metadatas"])
        by_id = {
            i: _item_from_record(i, doc, meta)
            for i, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
        }
        return [by_id[i] for i in raw if i in by_id]

    def items(self) -> CatalogArrays:
        """Every item as row-aligned arrays (loaded once, cached until the next ingest or refresh())."""
        if self._arrays is None:
            self._arrays = self._load_arrays()
        return self._arrays

    def refresh(self) -> None:
        """Forget the cached arrays, rows and stats (another process may have re-ingested)."""
        self._drop_caches()
        self._stats = None

    def _drop_caches(self) -> None:
        self._arrays = None
        self._store_fresh = None
        with self._rows_lock:
            self._rows.clear()

    def ingest_stamp(self) -> str:
        """Names this ingest of the catalog (changes with every ingest): what the row store's copy is checked against."""
        stored = dict(self.client.get_collection(self.collection.name, embedding_function=None).metadata or {})
        return _hash(stored.get("ingest_id", ""), stored.get("ingested_at", ""), stored.get("count", 0), stored.get("stats_json", ""))

    def rows_indexed(self) -> bool:
        """True when the attached row store holds this ingest's rows."""
        if self._row_store is None:
            return False
        if self._store_fresh is None:
            self._store_fresh = self._row_store.stamp(self.name) == self.ingest_stamp()
        return self._store_fresh

    def index_rows_if_larger(self, whole_catalog: int, progress: Callable[[int, int], None] | None = None) -> int:
        """Copy the rows once per ingest when the catalog has more than `whole_catalog` items (a catalog ranked through
        candidates reads them from the row store); how many were copied (0: ranked whole, or copied already)."""
        if self.stats().count <= whole_catalog or self.rows_indexed():
            return 0
        return self.index_rows(progress)

    def index_rows(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Copy every item's ranking row from Chroma into the attached row store (once per ingest); how many."""
        if self._row_store is None:
            raise ValueError("no row store attached to this catalog")
        stamp, total = self.ingest_stamp(), self.count()

        def read() -> Iterator[tuple[str, ItemRow]]:
            done = 0
            for lo in range(0, total, _PAGE):
                page = self.collection.get(include=["metadatas", "embeddings"], limit=_PAGE, offset=lo)
                yield from self._decode(page)
                done += len(page["ids"])
                if progress is not None:
                    progress(done, total)

        n = self._row_store.replace(self.name, stamp, read())
        self._store_fresh = None
        return n

    @staticmethod
    def _decode(page: Any) -> Iterator[tuple[str, ItemRow]]:
        """(id, row) of each record of a Chroma page read with metadatas and embeddings."""
        if not len(page["ids"]):
            return
        vectors = np.asarray(page["embeddings"], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        for item_id, meta, vector in zip(page["ids"], page["metadatas"] or [], vectors):
            meta = meta or {}
            yield item_id, ItemRow(str(meta.get("title", "")), list(meta.get("categories") or []), float(meta.get("popularity", 0.0)),
                                   _year(json.loads(meta.get("meta_json") or "{}")), vector)

    def rows(self, item_ids: Sequence[str]) -> ItemRows:
        """Ranking rows of these items (raw or qualified ids) in the order asked, unknown ids left out: from the row
        cache, else one read of the missing ones (with their embeddings) from Chroma."""
        raw = list(dict.fromkeys(self.unqualify(i) for i in item_ids))
        with self._rows_lock:
            found = {i: self._rows.get(i) for i in raw}
        missing = [i for i, got in found.items() if got is None]
        fetched: dict[str, ItemRow] = {}
        if missing and self._row_store is not None and self.rows_indexed():
            fetched = self._row_store.get(self.name, missing)
        elif missing:
            for lo in range(0, len(missing), _PAGE):
                fetched.update(self._decode(self.collection.get(ids=missing[lo : lo + _PAGE], include=["metadatas", "embeddings"])))
        with self._rows_lock:
            for item_id, entry in fetched.items():
                found[item_id] = entry
                self._rows.put(item_id, entry)
        ids = [i for i in raw if found.get(i) is not None]
        entries = [e for e in (found[i] for i in ids) if e is not None]
        qids = [self.qualify(i) for i in ids]
        return ItemRows(
            ids=ids, qids=qids, titles=[e.title for e in entries], categories=[e.categories for e in entries], years=[e.year for e in entries],
            # float32 first: the same values the whole-catalog arrays hold
            popularity=np.asarray([e.popularity for e in entries], np.float32).astype(np.float64),
            embeddings=np.stack([e.embedding for e in entries]) if entries else np.zeros((0, 0), np.float32),
            row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
        )

    def titles(self) -> tuple[list[str], list[str], list[int | None], list[float]]:
        """(ids, titles, years, popularity) of every item, read without embeddings or texts (for title linking): from
        the row store when it holds this ingest (a fast scan), else from Chroma's metadata."""
        if self._row_store is not None and self.rows_indexed():
            found = self._row_store.titles(self.name)
        else:
            found = [(item_id, str(meta.get("title", "")), _year(json.loads(meta.get("meta_json") or "{}")), float(meta.get("popularity", 0.0)))
                     for item_id, meta in self._pages(["metadatas"])]
        found.sort(key=lambda r: _sort_key(r[0]))
        # float32 like the ranking arrays: the title index ranks "popular" titles by these values
        return [r[0] for r in found], [r[1] for r in found], [r[2] for r in found], [float(np.float32(r[3])) for r in found]

    def _load_arrays(self) -> CatalogArrays:
        """Read all records in pages and build the arrays."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas", "embeddings"], limit=_PAGE, offset=offset)
            ids += page["ids"]
            docs += [d or "" for d in (page["documents"] or [])]
            metas += [m or {} for m in (page["metadatas"] or [])]
            if len(page["ids"]):
                vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
            if len(page["ids"]) < _PAGE:
                break
            offset += _PAGE
        order = sorted(range(len(ids)), key=lambda r: _sort_key(ids[r]))
        items = [_item_from_record(ids[r], docs[r], metas[r]) for r in order]
        if vectors:
            matrix = np.concatenate(vectors)[order]
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        sorted_ids = [it.id for it in items]
        qids = [self.qualify(i) for i in sorted_ids]
        row = {i: r for r, i in enumerate(sorted_ids)} | {q: r for r, q in enumerate(qids)}
        return CatalogArrays(
            name=self.name,
            ids=sorted_ids,
            qids=qids,
            titles=[it.title for it in items],
            texts=[it.text for it in items],
            categories=[it.categories for it in items],
            popularity=np.asarray([it.popularity for it in items], dtype=np.float32),
            embeddings=np.ascontiguousarray(matrix, dtype=np.float32),
            metadata=[it.metadata for it in items],
            row=row,
        )

    def categories(self) -> list[str]:
        """The sorted set of category labels in the catalog."""
        cats: list[str] = self.meta()["categories"]
        if cats or not self.count():
            return cats
        return sorted({c for cs in self.items().categories for c in cs})

    def search(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[list[tuple[str, float]]]:
        """The k nearest items to each query vector as (qualified id, cosine similarity), best first."""
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if k <= 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        n = self.stats().count  # known since ingest: Chroma's count() is a scan (11 ms at 100,000 items)
        if n == 0:
            return [[] for _ in range(len(queries))]
        result = self.collection.query(query_embeddings=queries, n_results=min(k, n), where=where, include=["distances"])
        return [
            [(self.qualify(i), 1.0 - float(d)) for i, d in zip(ids, dists)]
            for ids, dists in zip(result["ids"], result["distances"] or [])
        ]


class ArrayCatalog:
    """A catalog held in process as arrays (tests, benchmarks, small offline catalogs): the interface `Catalog` offers
    the recommender, without Chroma."""

    def __init__(self, arrays: CatalogArrays) -> None:
        self.name = arrays.name
        self._arrays = arrays
        self._stats = CatalogStats.of(arrays.ids, arrays.categories, arrays.popularity)

    def qualify(self, item_id: str) -> str:
        """The catalog-qualified id."""
        return f"{self.name}:{item_id}"

    def items(self) -> CatalogArrays:
        """Every item as arrays."""
        return self._arrays

    def stats(self) -> CatalogStats:
        """Whole-catalog figures."""
        return self._stats

    def rows(self, item_ids: Sequence[str]) -> ItemRows:
        """Ranking rows of these items in the order asked, unknown ids left out."""
        a = self._arrays
        picked = list(dict.fromkeys(a.row[i] for i in item_ids if i in a.row))  # raw and qualified ids name one row
        ids, qids = [a.ids[r] for r in picked], [a.qids[r] for r in picked]
        return ItemRows(
            ids=ids, qids=qids, titles=[a.titles[r] for r in picked], categories=[a.categories[r] for r in picked],
            years=[_year(a.metadata[r]) for r in picked], popularity=np.asarray(a.popularity, np.float64)[picked],
            embeddings=a.embeddings[picked], row={i: n for n, i in enumerate(ids)} | {q: n for n, q in enumerate(qids)},
        )

    def search(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[list[tuple[str, float]]]:
        """The k nearest items to each query vector (exact), as (qualified id, cosine)."""
        queries = np.atleast_2d(np.asarray(vectors, np.float32))
        sims = queries @ self._arrays.embeddings.T
        out = []
        for row in sims:
            top = np.argsort(-row, kind="stable")[:k]
            out.append([(self._arrays.qids[r], float(row[r])) for r in top])
        return out

    def titles(self) -> tuple[list[str], list[str], list[int | None], list[float]]:
        """(ids, titles, years, popularity) of every item."""
        a = self._arrays
        return list(a.ids), list(a.titles), [_year(m) for m in a.metadata], [float(p) for p in a.popularity]


def list_catalogs(client: ClientAPI) -> list[dict[str, Any]]:
    """Meta of every catalog in the client's database, by name."""
    out = []
    for collection in client.list_collections():
        if collection.name.startswith(COLLECTION_PREFIX):
            name = collection.name[len(COLLECTION_PREFIX) :]
            if _NAME.match(name):
                out.append(Catalog(client, name).meta())
    return sorted(out, key=lambda m: m["name"])


def drop_catalog(client: ClientAPI, name: str) -> None:
    """Delete a catalog's collection (no error when it does not exist)."""
    try:
        client.delete_collection(COLLECTION_PREFIX + validate_catalog_name(name))
    except Exception as exc:  # chroma raises NotFoundError/ValueError by version
        if "does not exist" not in str(exc).lower() and "not found" not in str(exc).lower():
            raise
