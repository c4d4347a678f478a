"""A real `chroma run` server in a subprocess, for tests of server mode.

Use from any test module in tests/integration (that folder is on sys.path under pytest):

    from chroma_server import chroma_server, start_chroma_server  # noqa: F401  (fixture import)

    def test_x(chroma_server):            # module-scoped server on a temp dir
        client = open_client(data_dir, chroma_server.url)

    server = start_chroma_server(tmp_path / "srv")   # your own; call server.stop()
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["ChromaServer", "chroma_executable", "chroma_server", "running_chroma_server", "start_chroma_server"]


def chroma_executable() -> str:
    """The `chroma` CLI of this interpreter's environment (beside sys.executable), else the one on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if not found:
        raise RuntimeError("The `chroma` CLI (shipped with chromadb) is not installed in this environment.")
    return found


def _free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChromaServer:
    """A running `chroma run` subprocess."""

    url: str
    port: int
    path: Path
    process: subprocess.Popen
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)

    def __enter__(self) -> ChromaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_chroma_server(path: Path, port: int | None = None, timeout: float = 30.0) -> ChromaServer:
    """Start `chroma run --path PATH --port P` and return once its heartbeat answers."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    log = path.parent / f"chroma-server-{port}.log"
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [chroma_executable(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as resp:
                if resp.status == 200:
                    return ChromaServer(url, port, path, process, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"chroma run did not answer within {timeout}s: {log.read_text(errors='replace')[-2000:]}")


def running_chroma_server(path: Path, port: int | None = None) -> Iterator[ChromaServer]:
    """Generator form for fixtures: yields a started server, stops it afterwards."""
    server = start_chroma_server(path, port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real Chroma server on a fresh temp directory, shared by one test module."""
    yield from running_chroma_server(tmp_path_factory.mktemp("chroma-server") / "chroma")
