"""The one Chroma client factory: embedded in the data dir (locked), or a Chroma server by URL."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings

from .lock import DataDirLockedError, acquire

__all__ = [
    "ChromaDataError",
    "ChromaUnavailableError",
    "DataDirLockedError",
    "RetryingReads",
    "chroma_path",
    "get_collection",
    "open_client",
    "parse_chroma_url",
]

CHROMA_SUBDIR = "chroma"
# Every collection compares unit vectors by cosine; HNSW is Chroma's local index.
COSINE: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}
# Chroma 1.5.9 fails a read with an InternalError in two passing states:
# - "Error finding id": a record it matched was replaced or deleted before the read fetched it
#   (measured: 11 of 1,000 reads on a `chroma run` server, 7 of 2,000 embedded, while another writer
#   replaces the records; with these retries, 0);
# - "Error creating hnsw segment reader": the vector index of a collection is being written out when
#   the read opens it (seen once in bench.load's shared scenario, from a `chroma run` server; not
#   reproduced on purpose, so a lasting index fault still surfaces, after about 0.3 s of retries).
TRANSIENT_READ_ERRORS = ("Error finding id", "Error creating hnsw segment reader")
READ_ATTEMPTS = 6


class ChromaDataError(RuntimeError):
    """The embedded Chroma directory cannot be opened (corrupt, or written by an incompatible version)."""


class ChromaUnavailableError(RuntimeError):
    """The Chroma server at IBOT_CHROMA_URL does not answer."""


def _settings() -> Settings:
    """Chroma settings shared by both modes: no telemetry (set per client, never in the host's environment)."""
    return Settings(anonymized_telemetry=False)


def chroma_path(data_dir: Path) -> Path:
    """Where the embedded Chroma files live inside a data dir."""
    return Path(data_dir) / CHROMA_SUBDIR


def redacted_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    parsed = urlparse(url if "://" in url else "http://" + url)
    if parsed.password is None:
        return url
    netloc = f"{parsed.username}:***@{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "")
    return parsed._replace(netloc=netloc).geturl()


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) from a URL like http://127.0.0.1:8000."""
    if "://" not in url:
        url = "http://" + url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"IBOT_CHROMA_URL must look like http://HOST:PORT, got {redacted_url(url)!r}")
    ssl = parsed.scheme == "https"
    return parsed.hostname, parsed.port or (443 if ssl else 8000), ssl


def _open_http(url: str) -> ClientAPI:
    """An HttpClient, checked with a heartbeat so a dead server fails here and clearly."""
    host, port, ssl = parse_chroma_url(url)
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())
        client.heartbeat()
    except Exception as exc:  # any failure here means "no usable server"
        raise ChromaUnavailableError(
            f"No Chroma server answers at {redacted_url(url)} ({type(exc).__name__}). Start one with"
            " `chroma run --path DATA_DIR/chroma --port PORT`, or unset IBOT_CHROMA_URL for embedded mode."
        ) from None
    return client


def _open_embedded(data_dir: Path) -> ClientAPI:
    """A PersistentClient in data_dir/chroma, after taking the data-dir lock."""
    lock = acquire(data_dir)
    path = chroma_path(lock.data_dir)
    path.mkdir(parents=True, exist_ok=True)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=_settings())
        client.list_collections()  # touch the database so corruption shows up now, not mid-turn
    except BaseException as exc:  # pyo3 panics derive from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        _forget_cached_system(path)
        lock.release()
        raise ChromaDataError(
            f"Cannot open the Chroma data in {path}: {type(exc).__name__}: {exc}. The directory is"
            " corrupt or was written by an incompatible Chroma version. Move it aside (it can be"
            " rebuilt with `interest-bot catalog ingest`, but stored interests live there too) or"
            " restore it from a backup."
        ) from None
    return client


def _forget_cached_system(path: Path) -> None:
    """Drop Chroma's per-path cached system after a failed start, so a retry starts afresh."""
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma caches the system before start(); a failed start would otherwise be reused.
    SharedSystemClient._identifier_to_system.pop(str(path), None)


def open_client(data_dir: Path, chroma_url: str = "") -> ClientAPI:
    """Embedded client in data_dir/chroma (holding the data-dir lock), or an HttpClient when chroma_url is set."""
    if chroma_url:
        return _open_http(chroma_url)
    return _open_embedded(Path(data_dir))


class RetryingReads:
    """A Chroma collection whose get() and query() retry the transient read race; writes pass straight through."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._collection.name

    @property
    def metadata(self) -> Mapping[str, Any] | None:
        """The collection's metadata."""
        return self._collection.metadata

    @property
    def configuration(self) -> Mapping[str, Any]:
        """The collection's configuration (its HNSW space, its embedding function: none)."""
        return self._collection.configuration

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Collection.add."""
        self._collection.add(*args, **kwargs)

    def upsert(self, *args: Any, **kwargs: Any) -> None:
        """Collection.upsert."""
        self._collection.upsert(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Collection.update."""
        self._collection.update(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> None:
        """Collection.delete."""
        self._collection.delete(*args, **kwargs)

    def modify(self, *args: Any, **kwargs: Any) -> None:
        """Collection.modify."""
        self._collection.modify(*args, **kwargs)

    def count(self) -> int:
        """Collection.count (passed through, typed)."""
        return self._collection.count()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """Collection.get, retried while Chroma reports a record that vanished mid-read."""
        return _retry_read(self._collection.get, *args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        """Collection.query, retried the same way."""
        return _retry_read(self._collection.query, *args, **kwargs)


def _retry_read(read: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one read, again after a short pause while it fails with one of TRANSIENT_READ_ERRORS."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return read(*args, **kwargs)
        except chromadb.errors.InternalError as exc:
            if not any(marker in str(exc) for marker in TRANSIENT_READ_ERRORS) or attempt == READ_ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
    raise AssertionError("unreachable")


def get_collection(client: ClientAPI, name: str, metadata: dict[str, Any] | None = None) -> RetryingReads:
    """Get or create a cosine-HNSW collection that never embeds by itself (embeddings are always passed)."""
    collection = client.get_or_create_collection(
        name=name,
        configuration=COSINE,
        metadata=metadata or None,
        # Chroma's default embedding function downloads a model: never use it.
        embedding_function=None,
    )
    space = collection_space(collection)
    if space != "cosine":
        # Scores everywhere assume cosine; a collection made elsewhere with another space would mislead.
        raise ChromaDataError(f"Collection {name!r} uses the {space!r} space, not cosine; delete it and re-create it.")
    return RetryingReads(collection)


def collection_space(collection: Collection | RetryingReads) -> str:
    """The distance space a collection was created with."""
    config = collection.configuration or {}
    hnsw = config.get("hnsw") or {}
    return str(hnsw.get("space") or (collection.metadata or {}).get("hnsw:space") or "l2")
