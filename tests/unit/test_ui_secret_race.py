"""Replicas starting together on one data dir agree on the UI signing secret."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from interest_bot.ui.identity import SECRET_FILE, load_or_create_secret


def _create(args: tuple[str, object]) -> bytes:
    data_dir, barrier = args
    barrier.wait()  # type: ignore[attr-defined]
    return load_or_create_secret(data_dir)


def test_concurrent_starts_all_get_the_secret_on_disk(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(15):
        data_dir = tmp_path / f"d{attempt}"
        n = 8
        with ctx.Manager() as manager:
            barrier = manager.Barrier(n)
            with ctx.Pool(n) as pool:
                secrets = pool.map(_create, [(str(data_dir), barrier)] * n)
        on_disk = (data_dir / SECRET_FILE).read_bytes().strip()
        assert set(secrets) == {on_disk}, f"attempt {attempt}: {len(set(secrets))} different secrets handed out"
        assert stat.S_IMODE((data_dir / SECRET_FILE).stat().st_mode) == 0o600
