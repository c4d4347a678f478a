"""Helpers shared by the benchmarks."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def results_dir() -> Path:
    """bench/results, or IBOT_BENCH_RESULTS (smoke runs in tests write there instead)."""
    import os

    return Path(os.environ.get("IBOT_BENCH_RESULTS") or RESULTS)


def percentile_ms(samples_s: list[float], q: float) -> float:
    """The q-th percentile of durations given in seconds, in milliseconds."""
    return round(float(np.percentile(np.asarray(samples_s) * 1000.0, q)), 3)


def write_result(name: str, result: dict) -> None:
    """Write bench/results/NAME.json (with machine facts) and print it as the last line."""
    import os

    out = dict(result)
    out.setdefault("machine", {"cpus": os.cpu_count(), "python": platform.python_version(), "when": time.strftime("%Y-%m-%d %H:%M")})
    out_dir = results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(json.dumps(out, sort_keys=True))


def finish(name: str, result: dict, smoke: bool) -> None:
    """Write the result, or for a smoke run only print it: smoke runs never overwrite the real result."""
    if smoke:
        print(json.dumps(result, sort_keys=True))
    else:
        write_result(name, result)
