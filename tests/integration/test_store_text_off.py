"""IBOT_STORE_TEXT=false: after turns through /v1/observe and /v1/chat (the real SmolLM2) on a real server,
no raw message text is found anywhere in the data dir: every file, binary included, grepped byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from bench.server_process import serve


def files_containing(root: Path, needles: list[bytes]) -> dict[str, list[str]]:
    """Every file under root holding a needle (UTF-8 or UTF-16); the symlinked shared model folder is not the data."""
    hits: dict[str, list[str]] = {}
    for folder, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            found = [n.decode() for n in needles if n in data or n.decode().encode("utf-16-le") in data]
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


def test_no_raw_text_in_the_data_dir(prepared_data_dir: Path, port: int, tmp_path: Path) -> None:
    tag = os.urandom(3).hex()
    markers = [f"qzv{tag}observeone", f"qzv{tag}observetwo", f"qzv{tag}chatturn"]
    messages = [
        f"I love westerns, especially {markers[0]} ones",
        f"but I can't stand horror like {markers[1]}",
        f"I really enjoy sci-fi space adventures, {markers[2]}",
    ]
    needles = [m.encode() for m in markers] + [m.encode() for m in messages]
    log_path = tmp_path / "server.log"
    with serve(prepared_data_dir, port, log_path, IBOT_STORE_TEXT="false", IBOT_MAX_NEW_TOKENS="24") as server:
        with httpx.Client(base_url=server.url, timeout=600) as http:
            for message in messages[:2]:
                r = http.post("/v1/observe", json={"user_id": "private", "message": message})
                assert r.status_code == 200 and r.json()["signals"], r.text
            r = http.post("/v1/chat", json={"user_id": "private", "message": messages[2]})
            assert r.status_code == 200, r.text
            assert r.json()["reply"]
            recs = http.get("/v1/users/private/recommendations", params={"k": 5})
            assert recs.status_code == 200
            assert not any(m in recs.text for m in markers)  # reasons do not quote what was said
            export = http.get("/v1/users/private/export").json()
            assert len(export["events"]) >= 3  # the taste was recorded, without its words
            assert all(not e.get("text") for e in export["events"])
            # Only the conversation, kept in process memory when text is not stored, may quote the chat turn.
            assert not any(m in str({k: v for k, v in export.items() if k != "conversations"}) for m in markers)
            # While the server runs (write-ahead logs and all) ...
            running_hits = files_containing(prepared_data_dir, needles)
    assert running_hits == {}, running_hits
    # ... and after it flushed and stopped.
    assert files_containing(prepared_data_dir, needles) == {}
    # The grep itself finds text where it is: a planted binary file is caught.
    planted = prepared_data_dir / "chroma" / "planted.bin"
    planted.write_bytes(b"\x00\x01" + markers[2].encode() + b"\xff")
    assert files_containing(prepared_data_dir, needles) == {"chroma/planted.bin": [markers[2]]}
