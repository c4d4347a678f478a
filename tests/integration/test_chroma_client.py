"""The Chroma client factory against real Chroma: embedded (locked) and a real `chroma run` server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from chroma_server import chroma_server, start_chroma_server  # noqa: F401  (fixture)

from interest_bot.memory.chroma import (
    ChromaDataError,
    ChromaUnavailableError,
    DataDirLockedError,
    collection_space,
    get_collection,
    open_client,
    parse_chroma_url,
)

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from interest_bot.memory.chroma import open_client, get_collection
    client = open_client(Path(sys.argv[1]))
    get_collection(client, "holder_probe")
    print("ready", flush=True)
    time.sleep(120)
    """
)


def _start_holder(data_dir: Path) -> subprocess.Popen:
    """A real second process that opens the embedded directory and keeps it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read()
    return proc


def test_collection_is_cosine_without_embedding_function(data_dir: Path) -> None:
    client = open_client(data_dir)
    col = get_collection(client, "probe_cosine")
    assert collection_space(col) == "cosine"
    assert col.configuration["hnsw"]["space"] == "cosine"
    assert col.configuration.get("embedding_function") is None
    # Re-opened by name, it is still cosine.
    again = client.get_collection("probe_cosine", embedding_function=None)
    again_hnsw = again.configuration["hnsw"]
    assert again_hnsw is not None
    assert again_hnsw["space"] == "cosine"
    # Cosine distance: a scaled copy of a vector is at distance 0.
    col.add(ids=["a", "b"], embeddings=np.array([[1.0, 0, 0], [0, 1.0, 0]], dtype=np.float32))
    res = col.query(query_embeddings=[[5.0, 0, 0]], n_results=2, include=["distances"])
    assert res["ids"][0][0] == "a" and abs(res["distances"][0][0]) < 1e-5
    assert (data_dir / "chroma" / "chroma.sqlite3").exists()


def test_same_process_reopens(data_dir: Path) -> None:
    first = open_client(data_dir)
    get_collection(first, "probe_reopen")
    second = open_client(data_dir)
    assert "probe_reopen" in [c.name for c in second.list_collections()]


def test_second_process_gets_clear_lock_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "held"
    holder = _start_holder(data_dir)
    try:
        with pytest.raises(DataDirLockedError) as info:
            open_client(data_dir)
        message = str(info.value)
        assert f"pid {holder.pid}" in message
        assert "IBOT_CHROMA_URL" in message and "chroma run" in message
        assert info.value.holder["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    data_dir = tmp_path / "killed"
    holder = _start_holder(data_dir)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert holder.returncode == -signal.SIGKILL
    client = open_client(data_dir)  # the kernel released the flock with the process
    assert "holder_probe" in [c.name for c in client.list_collections()]


def test_corrupt_directory_gives_clear_error(data_dir: Path) -> None:
    (data_dir / "chroma").mkdir()
    (data_dir / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(8192))
    with pytest.raises(ChromaDataError) as info:
        open_client(data_dir)
    assert "corrupt" in str(info.value) and str(data_dir / "chroma") in str(info.value)
    # The failed open released the lock and left no broken cached system: a repaired dir opens.
    (data_dir / "chroma" / "chroma.sqlite3").unlink()
    assert open_client(data_dir).list_collections() == []


def test_parse_chroma_url() -> None:
    assert parse_chroma_url("http://127.0.0.1:8000") == ("127.0.0.1", 8000, False)
    assert parse_chroma_url("https://chroma.example:9443/") == ("chroma.example", 9443, True)
    assert parse_chroma_url("localhost:8123") == ("localhost", 8123, False)
    with pytest.raises(ValueError):
        parse_chroma_url("ftp://x:1")


def test_http_client_against_real_server(chroma_server, data_dir: Path) -> None:  # noqa: F811
    client = open_client(data_dir, chroma_server.url)
    col = get_collection(client, "probe_http")
    assert collection_space(col) == "cosine"
    col.add(ids=["x"], embeddings=[[0.0, 1.0]])
    # Server mode takes no data-dir lock: a second client (as another process would) works too.
    other = open_client(data_dir, chroma_server.url)
    assert other.get_collection("probe_http", embedding_function=None).count() == 1
    assert not (data_dir / ".interest-bot.lock").exists()


def test_server_down_gives_clear_error(tmp_path: Path) -> None:
    server = start_chroma_server(tmp_path / "srv")
    url = server.url
    server.stop()
    with pytest.raises(ChromaUnavailableError, match="No Chroma server answers"):
        open_client(tmp_path / "data", url)


def _replace_forever(col, stop, generations: list[int]) -> None:  # a collection and an Event
    """Replace one user's eight records again and again, as a profile rewrite does."""
    rng = np.random.default_rng(0)
    gen = 0
    while not stop.is_set():
        col.upsert(ids=[f"u:{gen}:{i}" for i in range(8)], embeddings=rng.normal(size=(8, 16)), metadatas=[{"user": "u", "kind": "cluster"}] * 8)
        if gen:
            col.delete(ids=[f"u:{gen - 1}:{i}" for i in range(8)])
        gen += 1
        generations[0] = gen


def test_reads_survive_records_replaced_under_them(data_dir: Path) -> None:
    """Chroma fails some reads with 'Error finding id' while records are replaced; get() retries them."""
    import threading

    client = open_client(data_dir)
    col = get_collection(client, "probe_race")
    stop, generations = threading.Event(), [0]
    writer = threading.Thread(target=_replace_forever, args=(col, stop, generations))
    writer.start()
    try:
        # The profile read of memory/interests.py (without the retry: 7 of 2,000 failed here).
        for _ in range(2000):
            got = col.get(where={"$and": [{"user": "u"}, {"kind": "cluster"}]}, include=["embeddings", "metadatas"])
            assert len(got["ids"]) in (0, 8, 16)
    finally:
        stop.set()
        writer.join()
    assert generations[0] > 20, "the writer barely ran: the race was not exercised"


def test_only_the_transient_read_error_is_retried() -> None:
    import chromadb.errors

    from interest_bot.memory import chroma

    calls: list[int] = []

    def flaky(fails: int, message: str):
        def read() -> str:
            calls.append(1)
            if len(calls) <= fails:
                raise chromadb.errors.InternalError(message)
            return "ok"

        return read

    assert chroma._retry_read(flaky(2, "Error executing plan: Internal error: Error finding id")) == "ok" and len(calls) == 3
    calls.clear()
    hnsw = "Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on disk"
    assert chroma._retry_read(flaky(1, hnsw)) == "ok" and len(calls) == 2
    calls.clear()
    with pytest.raises(chromadb.errors.InternalError, match="disk full"):
        chroma._retry_read(flaky(1, "disk full"))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(chromadb.errors.InternalError, match="Error finding id"):
        chroma._retry_read(flaky(99, "Error finding id"))
    assert len(calls) == chroma.READ_ATTEMPTS
