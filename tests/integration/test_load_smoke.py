"""A small bounded run of bench.load: real servers, embedded and shared (chroma run + PostgreSQL), a SIGKILL mid-run."""

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
def test_load_bench_smoke_loses_nothing(tmp_path: Path, catalog_template: Path) -> None:
    env = {**os.environ, "IBOT_BENCH_RESULTS": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", "--users", "4", "--messages", "6", "--chats", "3", "--time-limit", "300", "--name", "smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == json.loads((tmp_path / "smoke.json").read_text())
    for key in ["requests", "errors_5xx", "lost_signals", "crash_lost_signals", "shared_lost_signals", "throughput_rps", "p50_ms",
                "p95_ms", "chat_requests", "chat_errors", "chat_p50_s"]:
        assert key in result, key
    single, shared, crash = (result["scenarios"][k] for k in ("single", "shared", "crash"))
    # Every observe got a 200, every chat queued and came back, nothing acknowledged went missing.
    assert result["errors_5xx"] == 0 and result["errors_transport"] == 0, (single["error_samples"], shared["error_samples"])
    assert single["ok"] == shared["ok"] == crash["ok"] == 4 * 6
    assert result["chat_requests"] == 3 and result["chat_errors"] == 0
    assert result["lost_signals"] == 0 and result["shared_lost_signals"] == 0 and result["crash_lost_signals"] == 0
    for scenario in (single, shared, crash):
        assert scenario["acknowledged_signals"] > 0
    # Shared: PostgreSQL's counts hold every item event, and a conversation continued across the two servers.
    assert shared["counts_missing_item_events"] == 0
    assert shared["shared_chat_statuses"] == [200, 200] and shared["shared_conversation_user_turns_seen"] == [2, 2]
    # Crash: the server was really killed mid-run and came back on the same data dir without a lock error.
    assert crash["killed_after_acks"] and crash["restart_error"] is None and not crash["stale_lock"]
    assert crash["lost_in_export_after_restart"] == 0
    assert result["throughput_rps"] > 0 and 0 < result["p50_ms"] <= result["p95_ms"]
