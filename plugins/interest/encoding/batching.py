"""Micro-batching: concurrent callers' texts share one encoder forward pass."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from .encoder import Encoder


class BatchingEncoder:
    """Runs queued encode calls as one batch: up to `max_batch` texts, waiting at most `max_wait_ms` for more.

    With the default `max_wait_ms=0` nothing waits: a lone caller runs at once, and callers that arrive
    while a forward pass is running are grouped into the next one.
    """

    def __init__(self, inner: Encoder, max_batch: int = 64, max_wait_ms: float = 0.0) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.identity = inner.identity
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self._queue: queue.Queue[tuple[list[str], Future[np.ndarray]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="encoder-batcher", daemon=True)
        self._thread.start()


    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Queue the texts and wait for their rows of the shared batch."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        future: Future[np.ndarray] = Future()
        self._queue.put((texts, future))
        return future.result()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            size = len(jobs[0][0])
            deadline = time.perf_counter() + self.max_wait
            while size < self.max_batch:
                timeout = deadline - time.perf_counter()
                try:
                    job = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                size += len(job[0])
            texts = [t for job_texts, _ in jobs for t in job_texts]
            try:
                vectors = self.inner.encode(texts, batch_size=max(len(texts), 1))
            except BaseException as exc:  # every waiting caller gets the error, the batcher lives on
                for _, future in jobs:
                    future.set_exception(exc)
                continue
            start = 0
            for job_texts, future in jobs:
                future.set_result(vectors[start : start + len(job_texts)])
                start += len(job_texts)
