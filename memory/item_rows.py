"""Ranking rows of a large catalog's items in the SQL store: a feature store beside Chroma's vector index.

Ranking a candidate needs its title, categories, popularity, year and embedding. Chroma answers a read by id in
about 120 µs an item (measured on 100,000 items: 500 ids with embeddings and metadata in 60 ms), which made a cold
request spend most of its time there; a primary-key read from this table costs a few µs an item. Chroma keeps
the vector index (nearest-item search); this table keeps the rows, embeddings as float16 (768 bytes at 384
dimensions), next to the counts (SQLite in the data dir, or PostgreSQL shared by every bot process). Neither is
held whole in a process: `Catalog.rows` caches the hot ones.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .sqldb import Db

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS item_rows (catalog TEXT NOT NULL, item_id TEXT NOT NULL, title TEXT NOT NULL,"
    " categories TEXT NOT NULL, popularity REAL NOT NULL, year INTEGER, embedding BLOB NOT NULL, PRIMARY KEY (catalog, item_id))",
    # Which ingest of the catalog the rows were copied from: rows of another ingest are never read.
    "CREATE TABLE IF NOT EXISTS item_rows_stamp (catalog TEXT PRIMARY KEY, stamp TEXT NOT NULL)",
]
_CHUNK = 500
# One item_rows insert's parameters: catalog, item_id, title, categories (JSON), popularity, year, embedding (float16 bytes).
_RowParams = tuple[str, str, str, str, float, int | None, bytes]


@functools.lru_cache(maxsize=4096)
def _categories(stored: str) -> tuple[str, ...]:
    """A stored categories list, decoded once per distinct value (a catalog repeats a few hundred combinations)."""
    return tuple(json.loads(stored))


class ItemRow(NamedTuple):
    """What ranking reads of one item."""

    title: str
    categories: list[str]
    popularity: float
    year: int | None
    embedding: np.ndarray  # float32 unit vector


class ItemRowStore:
    """Item rows per catalog, read by id in batches; thread-safe (one connection)."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url_or_path: str | Path) -> ItemRowStore:
        """Open (creating) the table in a SQLite file or a `postgresql://` database (the counts' location)."""
        return cls(Db(url_or_path, schema=_SCHEMA))

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def stamp(self, catalog: str) -> str | None:
        """The ingest stamp the stored rows were copied from, or None."""
        with self._lock:
            row = self._db.execute("SELECT stamp FROM item_rows_stamp WHERE catalog = ?", (catalog,)).fetchone()
        return None if row is None else str(row[0])

    def replace(self, catalog: str, stamp: str, rows: Iterable[tuple[str, ItemRow]]) -> int:
        """Make the catalog's rows exactly these, for this ingest stamp, in one transaction; how many were written."""
        n = 0
        with self._lock, self._db.tx() as db:
            db.execute("DELETE FROM item_rows WHERE catalog = ?", (catalog,))
            batch: list[_RowParams] = []
            for item_id, r in rows:
                batch.append((catalog, item_id, r.title, json.dumps(r.categories), float(r.popularity), r.year, r.embedding.astype(np.float16).tobytes()))
                if len(batch) >= _CHUNK:
                    n += self._insert(db, batch)
                    batch = []
            n += self._insert(db, batch)
            db.execute("DELETE FROM item_rows_stamp WHERE catalog = ?", (catalog,))
            db.execute("INSERT INTO item_rows_stamp (catalog, stamp) VALUES (?, ?)", (catalog, stamp))
        return n

    @staticmethod
    def _insert(db: Db, batch: list[_RowParams]) -> int:
        db.executemany(
            "INSERT INTO item_rows (catalog, item_id, title, categories, popularity, year, embedding) VALUES (?, ?, ?, ?, ?, ?, ?)", batch
        )
        return len(batch)

    def get(self, catalog: str, item_ids: Sequence[str]) -> dict[str, ItemRow]:
        """The stored rows of these ids (unknown ids left out)."""
        out: dict[str, ItemRow] = {}
        for lo in range(0, len(item_ids), _CHUNK):
            chunk = list(item_ids[lo : lo + _CHUNK])
            marks = ",".join("?" * len(chunk))
            with self._lock:
                found = self._db.execute(
                    f"SELECT item_id, title, categories, popularity, year, embedding FROM item_rows WHERE catalog = ? AND item_id IN ({marks})",
                    [catalog, *chunk],
                ).fetchall()
            if not found:
                continue
            vectors = np.frombuffer(b"".join(bytes(r[5]) for r in found), np.float16).reshape(len(found), -1).astype(np.float32)
            vectors /= np.maximum(np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None], 1e-12)  # float16 storage: unit again
            for (item_id, title, cats, pop, year, _), vec in zip(found, vectors):
                out[item_id] = ItemRow(title, list(_categories(cats)), float(pop), None if year is None else int(year), vec)
        return out

    def titles(self, catalog: str) -> list[tuple[str, str, int | None, float]]:
        """(id, title, year, popularity) of every stored item of the catalog (no embeddings)."""
        with self._lock:
            rows = self._db.execute("SELECT item_id, title, year, popularity FROM item_rows WHERE catalog = ?", (catalog,)).fetchall()
        return [(str(i), str(t), None if y is None else int(y), float(p)) for i, t, y, p in rows]

    def drop(self, catalog: str) -> None:
        """Forget a catalog's rows."""
        with self._lock, self._db.tx() as db:
            db.execute("DELETE FROM item_rows WHERE catalog = ?", (catalog,))
            db.execute("DELETE FROM item_rows_stamp WHERE catalog = ?", (catalog,))
