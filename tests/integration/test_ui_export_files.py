"""The UI's "Export my data" leaves no file anywhere, so "Forget me" leaves none behind."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from gradio_client import Client
from test_ui_identity import FakePlugin, launch, text_of

MARK = "okapi-noir-marathons"  # a phrase only this test writes


def _files_with(marker: str, roots: list[Path], since: float) -> list[Path]:
    """Files under the roots written since `since` whose bytes contain the marker (older files cannot hold it)."""
    found = []
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            try:
                if path.is_file() and path.stat().st_mtime >= since and path.stat().st_size < 50_000_000 and marker.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                pass  # another process's file, gone or unreadable
    return found


def test_export_then_forget_leaves_no_file_in_the_temp_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    since = time.time() - 1
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # Gradio's cache, where it copies files it serves
    plugin = FakePlugin()
    demo, url = launch(plugin)
    try:
        client = Client(url, verbose=False, download_files=False)
        token = client.predict(None, None, api_name="/identify")[0]
        client.predict(f"I love {MARK}", token, [], "fake-movies", api_name="/chat")
        exported = text_of(client.predict(token, "fake-movies", api_name="/export"))
        assert MARK in exported and token["uid"] in exported  # the export is complete: it is only not on disk
        client.predict(token, "fake-movies", api_name="/forget_me")
        assert plugin.users.get(token["uid"]) is None
    finally:
        demo.close()
    # The system temp dir (this process's own files there: tmp_path is under it too) and Gradio's cache.
    assert _files_with(MARK, [Path(tempfile.gettempdir()), tmp_path / "gradio"], since) == []
