"""`interest-bot serve` starts a real server that answers over HTTP."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_serve_answers_http_200(tmp_path: Path, port: int) -> None:
    env = {**os.environ, "IBOT_DATA_DIR": str(tmp_path / "data")}
    cli = Path(sys.executable).with_name("interest-bot")
    proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None  # piped
    try:
        deadline = time.time() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
                assert time.time() < deadline, "server did not come up in 120 s"
                time.sleep(0.5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "interest-bot" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
