"""The in-process checkpointer used when conversation text must not be stored: it keeps only the latest threads."""

from __future__ import annotations

import threading
from collections import OrderedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.memory import InMemorySaver

MAX_THREADS = 1000  # conversations kept in process with IBOT_STORE_TEXT=false; the least recently written go first


class BoundedMemorySaver(InMemorySaver):
    """LangGraph's InMemorySaver that deletes the least recently written thread beyond `max_threads`."""

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        super().__init__()
        self.max_threads = max(1, int(max_threads))
        self._order: OrderedDict[str, None] = OrderedDict()
        self._order_lock = threading.Lock()

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions) -> RunnableConfig:
        """Save a checkpoint, then drop the oldest threads beyond the bound."""
        out = super().put(config, checkpoint, metadata, new_versions)
        thread = str(config["configurable"]["thread_id"])
        with self._order_lock:
            self._order[thread] = None
            self._order.move_to_end(thread)
            doomed = [self._order.popitem(last=False)[0] for _ in range(len(self._order) - self.max_threads)]
        for old in doomed:
            super().delete_thread(old)
        return out

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        super().delete_thread(thread_id)
        with self._order_lock:
            self._order.pop(thread_id, None)

    def threads(self) -> set[str]:
        """The thread ids held now."""
        with self._order_lock:
            return set(self._order)
