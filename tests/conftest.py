"""Shared fixtures: real models and real stores, loaded once per session."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from interest_bot.bot.offline import apply_offline_defaults

apply_offline_defaults()

_bad_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped tests that are not GPU tests: a skip is a failure of the suite here.

    A strict xfail is not a skip: it runs, and the suite fails the day it passes (pytest reports it as skipped)."""
    if report.skipped and "gpu" not in report.keywords and not hasattr(report, "wasxfail"):
        _bad_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when anything but a GPU test was skipped."""
    if _bad_skips and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Name the skips that failed the run."""
    if _bad_skips:
        terminalreporter.write_line(f"FAILED: {len(_bad_skips)} non-GPU test(s) skipped: {', '.join(_bad_skips)}", red=True)


@pytest.fixture(scope="session")
def encoder():
    """The real quantized MiniLM encoder, as the plugin uses it on this machine."""
    from interest_bot.plugins.interest.encoding.encoder import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def fp32_encoder():
    """The real MiniLM encoder without quantization."""
    from interest_bot.plugins.interest.encoding.encoder import load_encoder

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

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in {"localhost", "::1"} or self.family == socket.AF_UNIX):
            return real_connect(self, address)
        raise OSError(f"network blocked in test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: (_ for _ in ()).throw(OSError(f"network blocked: {a!r}")))
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield


ROOT = Path(__file__).resolve().parents[1]
# Everything that shapes an ingested catalog: a change to any of these re-ingests the test template.
# (pairs.py and sqldb.py shape the seeded counts; the CLI no longer does, the template is built without it.)
_TEMPLATE_INPUTS = [
    "memory/catalog.py", "memory/sources.py", "memory/counts.py", "memory/pairs.py", "memory/sqldb.py", "memory/chroma.py",
    "memory/item_rows.py", "plugins/interest/ingest.py", "plugins/interest/config.py",
]
# Every module and data file of these subpackages: the encoder (and its ONNX build) and the classifier heads.
_TEMPLATE_PACKAGES = ["plugins/interest/encoding", "plugins/interest/understanding"]


def _template_key() -> str:
    import hashlib

    digest = hashlib.sha1()
    files = [ROOT / f for f in _TEMPLATE_INPUTS] + [p for d in _TEMPLATE_PACKAGES for p in sorted((ROOT / d).rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def models_dir() -> Path:
    """The prepared chat model shared by every test (the same cache `make run` fills)."""
    from interest_bot.bot.models import is_prepared, prepare_local_model

    path = ROOT / "data" / "models"
    if not is_prepared(path):
        prepare_local_model(path)
    return path


@pytest.fixture(scope="session")
def catalog_template(request: pytest.FixtureRequest) -> Path:
    """A data dir with movielens-100k ingested (items, heads, seeded counts), built once per code version, in process."""
    template = ROOT / "data" / "test-cache" / f"ml100k-{_template_key()}"
    if not (template / ".complete").exists():
        import shutil

        from interest_bot.plugins.interest.config import PluginConfig
        from interest_bot.plugins.interest.ingest import ingest_catalog

        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        # The session's encoder is the one the CLI would load (load_encoder's defaults); asked for only when building.
        ingest_catalog(PluginConfig(data_dir=template), "movielens-100k", encoder=request.getfixturevalue("encoder"))
        (template / ".complete").write_text("ok\n")
    return template


@pytest.fixture
def prepared_data_dir(catalog_template: Path, tmp_path: Path) -> Path:
    """A private copy of the ingested template, with the shared prepared chat model linked in."""
    import shutil

    target = tmp_path / "data"
    shutil.copytree(catalog_template, target, ignore=shutil.ignore_patterns(".complete", ".interest-bot.lock"))
    (target / "models").symlink_to(models_dir(), target_is_directory=True)
    return target


@pytest.fixture
def plugin(prepared_data_dir: Path, encoder):
    """A real InterestPlugin on a private copy of the ingested movielens-100k catalog."""
    from interest_bot.plugins.interest.plugin import InterestPlugin

    p = InterestPlugin.open(data_dir=prepared_data_dir, encoder=encoder)
    yield p
    p.close()
