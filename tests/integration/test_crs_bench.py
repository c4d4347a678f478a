"""A smoke-sized run of bench.crs: ReDial rows through the real plugin, the keys and sane values."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"recall1", "recall5", "recall10", "recall20", "ndcg10", "recall10_most_mentioned", "recall10_co_mentioned", "recall10_last70", "title_link_rate", "recommend_p50_ms", "turns", "pairs", "test_sha256"}


def test_crs_bench_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bench.crs", "--dataset", "redial", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not list(tmp_path.iterdir()), "a smoke run must not write a result"
    assert KEYS <= set(result), KEYS - set(result)
    assert result["test_sha256_ok"] and result["turns"] > 50 and result["pairs"] >= result["turns"]
    assert 0 <= result["recall1"] <= result["recall5"] <= result["recall10"] <= result["recall20"] <= 1
    assert 0 < result["ndcg10"] <= result["recall10"]
    assert result["recall10"] > 0.02, "the plugin must find some of the suggested movies"
    assert 0.2 < result["title_link_rate"] <= 1 and result["title_link_precision"] > 0.6
    assert 0 < result["recommend_p50_ms"] < 100
    assert result["catalog"]["items"] == 6281 and result["catalog"]["joined"][0]["matched"] > 500
