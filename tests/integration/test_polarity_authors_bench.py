"""A smoke-sized run of bench.polarity_authors: it trains without an author and scores that author's templates."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_polarity_authors_bench_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bench.polarity_authors", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not list(tmp_path.iterdir()), "a smoke run must not write a result"
    assert result["authors"][0] == "project"
    for name, setting in result["by_setting"].items():
        scores = setting["acc_by_held_out_author"]
        assert scores and set(scores) <= set(result["authors"][1:]), name
        # Held-out phrasing is scored by a head that never saw it: it must still do well above chance.
        assert all(0.6 < s <= 1.0 for s in scores.values()), scores
        assert setting["mean"] == round(sum(scores.values()) / len(scores), 4)
