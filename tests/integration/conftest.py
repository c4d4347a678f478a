"""Integration helpers live beside the tests (chroma_server, chat_completions_server)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def running_server(prepared_data_dir: Path, port: int, tmp_path: Path):  # noqa: ANN201
    """`interest-bot serve` as a real subprocess on a private data dir; yields its URL."""
    env = {**os.environ, "IBOT_DATA_DIR": str(prepared_data_dir), "IBOT_DEVICE": "cpu"}
    cli = Path(sys.executable).with_name("interest-bot")
    log = open(tmp_path / "server.log", "wb")  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
        assert time.time() < deadline, "server did not start"
        time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=60)
    log.close()


