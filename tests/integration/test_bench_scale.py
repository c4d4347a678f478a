"""bench.scale --quick: a real build, real bot processes alone and shared (chroma run + PostgreSQL), figures that mean something."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pg import pg_available  # noqa: E402


@pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries missing: apt-get install -y postgresql")
def test_bench_scale_quick(tmp_path: Path) -> None:
    picture = tmp_path / "scale.png"
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path / "results"), "IBOT_DATA_DIR": str(tmp_path / "unused-data")}
    out = subprocess.run([sys.executable, "-m", "bench.scale", "--quick", "--plot", str(picture), "--work", str(tmp_path / "work")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    lines = out.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    # A smoke run prints its result but never writes one.
    assert not (tmp_path / "results" / "scale.json").exists()
    assert any("SYNTHETIC" in line for line in lines[:-1]) and "SYNTHETIC" in result["embeddings"]

    for key in ["rss_mb_10k", "rss_mb_100k", "rss_mb_1m", "startup_s_100k", "record_p50_ms_100k", "recommend_p50_ms_100k",
                "recommend_p99_ms_100k", "recommend_p50_ms_1m", "ingest_events_per_s", "shared_lag_p95_ms", "events", "users"]:
        assert key in result, key
    assert result["events"] == 20_000 and result["users"] == 2_000 and result["reference_point"] == "2k"
    for key in ["rss_mb_2k", "peak_rss_mb_2k", "startup_s_2k", "record_p50_ms_2k", "record_p95_ms_2k", "recommend_p50_ms_2k",
                "recommend_p95_ms_2k", "recommend_p99_ms_2k", "shared_rss_mb_a_2k", "shared_rss_mb_b_2k", "chroma_server_rss_mb_2k",
                "postgres_rss_mb_2k", "shared_lag_p95_ms_2k"]:
        assert isinstance(result[key], int | float), key

    point = result["points"]["2k"]
    single, shared = point["single"], point["shared"]
    # Every event of the history reached the count store, and the catalog was ingested whole.
    assert point["build"]["catalog_items"] == 2_000 and result["ingest_events_per_s"] > 0
    # Real processes: start-up is seconds (imports, encoder, catalog), and each one holds hundreds of MB.
    assert 0.5 < single["startup_s"] < 120 and single["first_recommend_items"] == 10
    assert single["rss_mb"] > 100 and result["baseline"]["rss_mb"] > 100
    assert 0 < single["record_p50_ms"] <= single["record_p95_ms"]
    assert 0 < single["recommend_p50_ms"] <= single["recommend_p95_ms"] <= single["recommend_p99_ms"]
    # Every sampled user got 10 items, and the count store's follow pairs reached the ranking (collaborative reasons).
    assert single["records"] == 60 and single["recommends"] == 30 and single["recommend_min_items"] == 10
    assert single["recommend_with_collaborative_reason"] >= 15
    # History checkpoints: the same measurement after 5k events and after all of them.
    assert set(point["history"]) == {"5000", "20000"}
    # Shared: both processes measured, the servers' memory read, and every lag write seen by the other process.
    for side in ("a", "b"):
        assert shared[side]["recommend_min_items"] == 10 and shared[side]["rss_mb"] > 100
    assert shared["chroma_server_rss_mb"] > 10 and shared["postgres_rss_mb"] > 10
    assert shared["lag_writes"] == 10 and shared["lag_seen"] == 10 and shared["lag_missed"] == 0
    assert 0 <= shared["lag_p50_ms"] <= shared["lag_p95_ms"] < 30_000
    assert result["shared_lag_p95_ms"] == shared["lag_p95_ms"]
    assert picture.exists() and picture.stat().st_size > 10_000
