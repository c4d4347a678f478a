"""Catalog search latency (1k/10k/100k items) and ingest throughput on real Chroma; `python -m bench.memory_search`.

The 1k catalog is real ML-100k items embedded with the project's encoder; the 10k and
100k catalogs are those real embeddings plus Gaussian noise (cosine about 0.9 to their
source), as the memory issue allows. Queries are real item embeddings plus noise.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import percentile_ms, write_result
from interest_bot.memory.catalog import Catalog, CatalogItem
from interest_bot.memory.chroma import open_client
from interest_bot.memory.sources import load_builtin

NOISE = 0.02  # per-dimension sigma on 384-d unit vectors: cosine to the source about 0.9


def _noisy(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors: rows of base (cycled) plus Gaussian noise."""
    rows = base[np.arange(n) % len(base)] + rng.normal(0.0, NOISE, (n, base.shape[1])).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _synthetic_catalog(client, name: str, vectors: np.ndarray) -> Catalog:
    """A catalog whose items carry precomputed vectors (text `syn <row>` names the row)."""
    items = [CatalogItem(str(i), f"item {i}", f"syn {i}", [f"c{i % 19}"]) for i in range(len(vectors))]
    catalog = Catalog(client, name)
    catalog.ingest(items, lambda texts: vectors[[int(t[4:]) for t in texts]], batch_size=2000, progress=False)
    return catalog


def _search_p50(catalog: Catalog, queries: np.ndarray, k: int) -> float:
    """Median latency of one single-vector search (after a warm-up)."""
    for q in queries[:20]:
        catalog.search(q, k)
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        catalog.search(q, k)
        samples.append(time.perf_counter() - t0)
    return percentile_ms(samples, 50)


def bench_search(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), n_queries: int = 200, k: int = 10) -> dict:
    """search_p50_ms_<size> for each size, and ingest_items_per_s (ML-100k embedded with the real encoder and stored)."""
    from interest_bot.plugins.interest.encoding.encoder import load_encoder

    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-search-"))
    try:
        client = open_client(tmp / "data")
        encoder = load_encoder()
        items = load_builtin("movielens-100k")

        # End-to-end ingest: encoder + upsert of the real 1,682-item catalog.
        real = Catalog(client, "movielens-100k")
        report = real.ingest(items, encoder.encode, progress=False)
        base = real.items().embeddings
        result: dict = {
            "ingest_items_per_s": round(report.items_per_s, 1),
            "ingest_items": report.total,
            "search_k": k,
            "search_queries": n_queries,
        }
        queries = _noisy(base, n_queries, rng)[rng.permutation(n_queries)]
        for size in sizes:
            vectors = base[:size] if size <= len(base) else _noisy(base, size, rng)
            t0 = time.perf_counter()
            catalog = _synthetic_catalog(client, f"bench-{size}", vectors)
            store_s = time.perf_counter() - t0
            label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
            result[f"search_p50_ms_{label}"] = _search_p50(catalog, queries, k)
            result[f"store_items_per_s_{label}"] = round(size / store_s, 1)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Run the section alone and write bench/results/memory_search.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="catalog sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    write_result("memory_search", bench_search(tuple(int(s) for s in args.sizes.split(",")), args.queries))


if __name__ == "__main__":
    main()
