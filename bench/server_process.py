"""`interest-bot serve` as a real subprocess on a data dir, for benchmarks and tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx


class ServerProcess(NamedTuple):
    """A running server: where it answers and its process id."""

    url: str
    pid: int


@contextmanager
def serve(data_dir: Path, port: int, log_path: Path, timeout_s: float = 240, **env: str) -> Iterator[ServerProcess]:
    """Start the server on data_dir with extra IBOT_* env, wait for /healthz, yield it, stop it."""
    full_env = {**os.environ, "IBOT_DATA_DIR": str(data_dir), "IBOT_DEVICE": "cpu", **env}
    cli = Path(sys.executable).with_name("interest-bot")
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + timeout_s
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("server did not start: " + log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
            yield ServerProcess(url, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
