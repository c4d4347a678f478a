"""Smoke-sized run of the catalog search benchmark section (the full run is `python -m bench.memory_search`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# bench/ is a top-level folder of the repository, not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.memory_search import bench_search


def test_bench_search_smoke(monkeypatch: pytest.MonkeyPatch, encoder) -> None:
    monkeypatch.setattr("interest_bot.plugins.interest.encoding.encoder.load_encoder", lambda *a, **k: encoder)
    result = bench_search(sizes=(1_000, 2_000), n_queries=10)
    assert result["ingest_items"] == 1682 and result["ingest_items_per_s"] > 0
    assert 0 < result["search_p50_ms_1k"] < 1000 and 0 < result["search_p50_ms_2k"] < 1000
