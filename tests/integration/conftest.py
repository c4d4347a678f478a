"""Integration helpers live beside the tests (chroma_server, chat_completions_server)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).resolve().parents[2]  # the bench package holds the server helper the tests share
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def running_server(prepared_data_dir: Path, port: int, tmp_path: Path):
    """`interest-bot serve` as a real subprocess on a private data dir; yields its URL."""
    from bench.server_process import serve

    with serve(prepared_data_dir, port, tmp_path / "server.log") as server:
        yield server.url
