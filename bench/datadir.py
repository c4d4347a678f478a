"""A data dir with movielens-100k ingested (items, classifier heads, seeded counts), for benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".complete", ".interest-bot.lock", "ui_secret")


def _template() -> Path:
    """The newest complete test-cache template, or a fresh ingest into data/bench-cache."""
    candidates = sorted((ROOT / "data" / "test-cache").glob("ml100k-*/.complete"), key=lambda p: p.stat().st_mtime)
    if candidates:
        return candidates[-1].parent
    target = ROOT / "data" / "bench-cache" / "ml100k"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        cli = Path(sys.executable).with_name("interest-bot")
        subprocess.run([str(cli), "catalog", "ingest", "movielens-100k"], env={**os.environ, "IBOT_DATA_DIR": str(target)}, check=True)
        (target / ".complete").write_text("ok\n")
    return target


def fresh_data_dir(prefix: str = "ibot-bench-") -> Path:
    """A private copy of the ingested template with the prepared chat model linked in."""
    from interest_bot.bot.models import is_prepared, prepare_local_model

    models = ROOT / "data" / "models"
    if not is_prepared(models):
        prepare_local_model(models)
    target = Path(tempfile.mkdtemp(prefix=prefix)) / "data"
    shutil.copytree(_template(), target, ignore=SKIP)
    (target / "models").symlink_to(models, target_is_directory=True)
    return target
