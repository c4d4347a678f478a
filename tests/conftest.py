"""Shared fixtures: real models and real stores, loaded once per session."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from interest_bot.plugins.interest.offline import apply_offline_defaults

apply_offline_defaults()

_bad_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped tests that are not GPU tests: a skip is a failure of the suite here."""
    if report.skipped and "gpu" not in report.keywords:
        _bad_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when anything but a GPU test was skipped."""
    if _bad_skips and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    """Name the skips that failed the run."""
    if _bad_skips:
        terminalreporter.write_line(f"FAILED: {len(_bad_skips)} non-GPU test(s) skipped: {', '.join(_bad_skips)}", red=True)


@pytest.fixture(scope="session")
def encoder():
    """The real quantized MiniLM encoder, as the plugin uses it on this machine."""
    from interest_bot.plugins.interest.encoder import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def fp32_encoder():
    """The real MiniLM encoder without quantization."""
    from interest_bot.plugins.interest.encoder import load_encoder

    return load_encoder(quantization="none")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data directory."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    """A free loopback port."""
    return free_port()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Block every outbound connection that is not to loopback or a Unix socket."""
    real_connect = socket.socket.connect

    def guarded(self, address):  # noqa: ANN001
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in {"localhost", "::1"} or self.family == socket.AF_UNIX):
            return real_connect(self, address)
        raise OSError(f"network blocked in test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: (_ for _ in ()).throw(OSError(f"network blocked: {a!r}")))
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
