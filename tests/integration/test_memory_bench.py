"""bench.memory at smoke size: a real run (subprocess) on real embedded Chroma writes every key, all positive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TIMED = ["record", "record_direct", "record_direct_sealed", "chroma_add", "chroma_add_legacy", "record_shared", "profile", "profile_shared", "profile_cold"]


def test_bench_memory_smoke(tmp_path: Path) -> None:
    env = dict(os.environ, IBOT_BENCH_RESULTS=str(tmp_path), ANONYMIZED_TELEMETRY="False")
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--events", "1500", "--users", "30", "--samples", "12", "--no-search"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    printed = json.loads(out.stdout.strip().splitlines()[-1])
    written = json.loads((tmp_path / "memory.json").read_text())
    assert printed == written
    for kind in TIMED:
        for q in (50, 95):
            key = f"{kind}_p{q}_ms"
            assert isinstance(written[key], float) and written[key] > 0, key
        assert written[f"{kind}_p95_ms"] >= written[f"{kind}_p50_ms"]
    # record (through the outbox), record_direct, record_direct_sealed and record_shared each store one event per sample
    assert written["events_stored"] == 1500 + 4 * 12 and written["users"] == 30
    # the cost of encryption at rest per record, measured in the same run (item 11)
    for key in ("seal_us_per_record_p50", "open_us_per_record_p50", "key_create_ms_p50", "shred_ms_p50"):
        assert isinstance(written[key], float) and written[key] > 0, key
    assert written["sealed_text_bytes_per_record"] > written["plain_text_bytes_per_record"] > 0
    assert written["outbox_left_after_timing"] >= 0 and written["flush_after_timing_ms"] > 0
    assert written["fill_events_per_s"] > 0
    # the bench cleans up its floor probes: they are not counted as events
    assert "floor" not in out.stdout
