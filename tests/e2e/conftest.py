"""Browser tests: the real `interest-bot serve` on a free port, driven by Debian's Chromium through Playwright.

Chromium comes from apt (`make browser`), never from `playwright install`. Screenshots go to
tests/e2e/artifacts/ (git-ignored).
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
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BOOT_TIMEOUT = 240.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return response.status, response.read().decode("utf-8", "replace")


ROOT = Path(__file__).resolve().parents[2]
SKIP_FILES = {".complete", ".interest-bot.lock", "ui_secret"}


def _copy_data_dir(source: Path, target: Path) -> Path:
    """A private copy of the ingested catalog template (the server holds its lock), with the prepared chat model linked."""
    from interest_bot.bot.models import is_prepared, prepare_local_model

    target.mkdir(parents=True)
    for child in source.iterdir():
        if child.name in SKIP_FILES:
            continue
        if child.name == "models" and child.is_dir():
            (target / child.name).symlink_to(child.resolve(), target_is_directory=True)
        elif child.is_dir():
            shutil.copytree(child, target / child.name, symlinks=True, ignore=shutil.ignore_patterns(*SKIP_FILES))
        else:
            shutil.copy2(child, target / child.name)
    if not (target / "models").exists():
        models = ROOT / "data" / "models"  # the same prepared-model cache the shared fixtures and `make run` use
        if not is_prepared(models):
            prepare_local_model(models)
        (target / "models").symlink_to(models, target_is_directory=True)
    return target


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[str]:
    """`interest-bot serve --port P` as a subprocess over a copy of the prepared data dir; yields its URL.

    IBOT_E2E_URL points the suite at a server that is already running instead (its memory must be fresh).
    """
    if os.environ.get("IBOT_E2E_URL"):
        yield os.environ["IBOT_E2E_URL"].rstrip("/")
        return
    # The shared session template (tests/conftest.py: movielens-100k ingested, heads trained); one copy per module.
    template = request.getfixturevalue("catalog_template")
    data = _copy_data_dir(Path(template), tmp_path_factory.mktemp("e2e") / "data")
    port = _free_port()
    env = dict(os.environ, IBOT_DATA_DIR=str(data), IBOT_HOST="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    env.pop("IBOT_UI_AUTH", None)
    env.pop("IBOT_API_KEY", None)
    exe = Path(sys.executable).with_name("interest-bot")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "interest_bot.bot.cli"]
    log_path = artifacts / "server.log"
    log = open(log_path, "wb")  # closed below
    proc = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; log:\n{log_path.read_text()[-4000:]}")
            try:
                status, body = _get(url + "/")
                if status == 200 and "gradio" in body.lower():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not serve the UI within {BOOT_TIMEOUT:.0f} s; log:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (no Playwright browser download)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "chromium is not installed: run `make browser` (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
