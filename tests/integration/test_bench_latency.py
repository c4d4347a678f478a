"""A smoke-sized run of bench.latency: every key the README reads is produced and sane."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_latency_bench_smoke(tmp_path: Path, catalog_template: Path) -> None:
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bench.latency", "--turns", "40", "--agent-turns", "1", "--name", "smoke"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == json.loads((tmp_path / "smoke.json").read_text())
    for key in ["plugin_p50_ms", "plugin_p95_ms", "plugin_p99_ms", "naive_plugin_p50_ms", "ttft_p50_s", "reply_p50_s", "rss_mb"]:
        assert result[key] > 0, key
    assert result["plugin_p50_ms"] <= result["plugin_p95_ms"] <= result["plugin_p99_ms"]
    assert result["ttft_p50_s"] <= result["reply_p50_s"]
    assert set(result["stages"]["optimized"]) >= {"analyze_p50_ms", "record_p50_ms", "recommend_p50_ms"}
