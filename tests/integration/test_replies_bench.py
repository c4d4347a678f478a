"""A smoke-sized run of bench.replies: blind conversations through the real agent and SmolLM2, the keys and values."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RATES = ["invented_title_rate", "loop_rate", "cut_rate", "acknowledge_rate", "guard_fallback_rate", "empty_reply_rate"]
KEYS = {*RATES, "auditor_invented_rate", "reply_p50_s", "reply_p95_s", "ttft_p50_s", "replies", "model", "models"}


def test_replies_bench_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bench.replies", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not list(tmp_path.iterdir()), "a smoke run must not write a result"
    assert KEYS <= set(result), KEYS - set(result)
    assert {f"previous_{k}" for k in RATES} <= set(result)
    assert result["model"] == "SmolLM2-135M-Instruct" and result["replies"] >= 9
    # the guarded replies hold the hard rules on these conversations; the unguarded previous ones did not
    assert result["invented_title_rate"] == result["loop_rate"] == result["cut_rate"] == result["empty_reply_rate"] == 0
    assert result["previous_cut_rate"] > 0
    assert all(0 <= result[k] <= 1 for k in RATES)
    assert 0 < result["ttft_p50_s"] <= result["reply_p50_s"] <= result["reply_p95_s"]
