"""Integration helpers live beside the tests (chroma_server, chat_completions_server)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def running_server(prepared_data_dir: Path, port: int, tmp_path: Path):  # noqa: ANN201
    """`interest-bot serve` as a real subprocess on a private data dir; yields its URL."""
    from server_process import serve

    with serve(prepared_data_dir, port, tmp_path / "server.log") as url:
        yield url
