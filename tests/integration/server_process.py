"""`interest-bot serve` as a real subprocess, for tests that need their own server settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def serve(data_dir: Path, port: int, log_path: Path, **env: str) -> Iterator[str]:
    """Start the server on data_dir with extra IBOT_* env, wait for /healthz, yield its URL, stop it."""
    full_env = {**os.environ, "IBOT_DATA_DIR": str(data_dir), "IBOT_DEVICE": "cpu", **env}
    cli = Path(sys.executable).with_name("interest-bot")
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + 240
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
                assert time.time() < deadline, "server did not start"
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=60)
