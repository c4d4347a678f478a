"""The in-process checkpointer used when conversation text must not be stored: it keeps only the latest threads,
and of each thread only its latest checkpoints."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver

MAX_THREADS = 1000  # conversations kept in process with IBOT_STORE_TEXT=false; the least recently written go first
KEEP_CHECKPOINTS = 2  # per thread and namespace: the latest, and its parent (whose writes a running step may add)


class BoundedMemorySaver(InMemorySaver):
    """LangGraph's InMemorySaver that deletes the least recently written thread beyond `max_threads`, and each
    thread's checkpoints (with their writes and channel values) older than its latest KEEP_CHECKPOINTS."""

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        super().__init__()
        self.max_threads = max(1, int(max_threads))
        self._order: OrderedDict[str, None] = OrderedDict()
        # (thread, namespace) -> checkpoint id -> the channel versions it reads, for the kept checkpoints
        self._versions: dict[tuple[str, str], dict[str, ChannelVersions]] = {}
        self._evicted: list[Callable[[str], None]] = []
        self._lock = threading.RLock()  # one put, eviction or delete at a time: none sees another half done

    def on_evict(self, callback: Callable[[str], None]) -> None:
        """Call `callback(thread_id)` whenever a thread is dropped for the bound (the owners table follows)."""
        self._evicted.append(callback)

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions) -> RunnableConfig:
        """Save a checkpoint, drop the thread's older ones, then the oldest threads beyond the bound."""
        thread = str(config["configurable"]["thread_id"])
        ns = str(config["configurable"].get("checkpoint_ns", ""))
        with self._lock:
            out = super().put(config, checkpoint, metadata, new_versions)
            kept = self._versions.setdefault((thread, ns), {})
            kept[checkpoint["id"]] = dict(checkpoint["channel_versions"])
            self._prune(thread, ns, kept)
            self._order[thread] = None
            self._order.move_to_end(thread)
            doomed = [self._order.popitem(last=False)[0] for _ in range(len(self._order) - self.max_threads)]
            for old in doomed:
                self._drop(old)
        for old in doomed:
            for callback in self._evicted:
                callback(old)
        return out

    def _prune(self, thread: str, ns: str, kept: dict[str, ChannelVersions]) -> None:
        """Checkpoint ids sort by time: all but the newest KEEP_CHECKPOINTS go, with their writes and the channel
        values no kept checkpoint reads."""
        old = sorted(kept)[:-KEEP_CHECKPOINTS]
        if not old:
            return
        checkpoints = self.storage[thread][ns]
        for cid in old:
            checkpoints.pop(cid, None)
            self.writes.pop((thread, ns, cid), None)
            del kept[cid]
        live = {(channel, version) for versions in kept.values() for channel, version in versions.items()}
        for key in [k for k in self.blobs if k[0] == thread and k[1] == ns and (k[2], k[3]) not in live]:
            del self.blobs[key]

    def _drop(self, thread_id: str) -> None:
        super().delete_thread(thread_id)
        for key in [k for k in self._versions if k[0] == thread_id]:
            del self._versions[key]

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        with self._lock:
            self._drop(thread_id)
            self._order.pop(thread_id, None)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The thread's checkpoint, or None for a thread this saver does not hold (looking it up creates nothing)."""
        with self._lock:
            if str(config["configurable"]["thread_id"]) not in self._order:
                return None
            return super().get_tuple(config)

    def list(
        self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None, before: RunnableConfig | None = None, limit: int | None = None
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints, as InMemorySaver lists them; an unknown thread lists nothing (and creates nothing)."""
        with self._lock:
            thread = (config or {}).get("configurable", {}).get("thread_id")
            if thread is not None and str(thread) not in self._order:
                return iter(())
            return iter(list(super().list(config, filter=filter, before=before, limit=limit)))

    def threads(self) -> set[str]:
        """The thread ids held now."""
        with self._lock:
            return set(self._order)
