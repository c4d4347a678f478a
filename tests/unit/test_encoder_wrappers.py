"""The embedding cache and the micro-batcher give exactly what the wrapped encoder gives."""

import threading

import numpy as np

from interest_bot.plugins.interest.encoding.batching import BatchingEncoder
from interest_bot.plugins.interest.encoding.embed_cache import CachedEncoder


class CountingEncoder:
    """A deterministic stand-in encoder that counts calls and texts (the real one is tested elsewhere)."""

    dim = 8
    identity = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def encode(self, texts, batch_size=32):
        self.calls += 1
        self.texts += len(texts)
        out = np.array([[hash((t, j)) % 1000 for j in range(self.dim)] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_cache_serves_repeats_and_evicts() -> None:
    inner = CountingEncoder()
    enc = CachedEncoder(inner, max_items=2)
    a = enc.encode(["x", "y", "x"])
    assert inner.texts == 2 and np.allclose(a[0], a[2])
    b = enc.encode(["x"])
    assert inner.texts == 2 and np.allclose(a[0], b[0]) and enc.hits == 1
    enc.encode(["z"])  # evicts "y" (least recently used)
    enc.encode(["y"])
    assert inner.texts == 4
    b[0][:] = 0  # callers get copies
    assert np.allclose(enc.encode(["x"])[0], a[0])


def test_batcher_merges_concurrent_calls_and_keeps_order() -> None:
    inner = CountingEncoder()
    enc = BatchingEncoder(inner, max_wait_ms=50)  # wait so the 8 threads surely overlap
    expected = {f"t{i}": inner.encode([f"t{i}"])[0] for i in range(8)}
    inner.calls = 0
    results: dict[str, np.ndarray] = {}

    def call(i: int) -> None:
        results[f"t{i}"] = enc.encode([f"t{i}"])[0]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.allclose(results[k], expected[k]) for k in expected)
    assert inner.calls < 8  # at least some calls shared a forward pass


def test_batcher_passes_errors_to_callers() -> None:
    class Broken(CountingEncoder):
        def encode(self, texts, batch_size=32):
            raise RuntimeError("boom")

    enc = BatchingEncoder(Broken())
    try:
        enc.encode(["a"])
    except RuntimeError as exc:
        assert "boom" in str(exc)
    else:
        raise AssertionError("error was swallowed")
    assert enc._thread.is_alive()
