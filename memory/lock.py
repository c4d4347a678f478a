"""One writing process per data directory, held with an OS file lock (flock).

The kernel drops a flock when the holding process dies, however it dies (SIGKILL
included), so a crash never leaves a stale lock behind. The lock file only carries
the holder's pid and command line, for the error message a second process gets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .private import FILE_MODE, make_private

LOCK_NAME = ".interest-bot.lock"

# flock locks belong to an open file description: a second open() + flock() in the
# same process would conflict with the first, so each process keeps one per directory.
_held: dict[Path, DataDirLock] = {}
_guard = threading.Lock()


class DataDirLockedError(RuntimeError):
    """Another live process holds the data directory."""

    def __init__(self, data_dir: Path, holder: dict[str, Any]) -> None:
        self.data_dir = data_dir
        self.holder = holder
        who = f"pid {holder.get('pid', '?')}"
        if holder.get("command"):
            who += f" ({holder['command']})"
        if holder.get("host") and holder.get("host") != socket.gethostname():
            who += f" on host {holder['host']}"
        super().__init__(
            f"The data directory {data_dir} is in use by {who}. Embedded Chroma allows one process per"
            " data directory. Stop that process, or run a Chroma server (`chroma run --path"
            f" {data_dir / 'chroma'} --port 8000`) and point every process at it with"
            " IBOT_CHROMA_URL=http://127.0.0.1:8000."
        )


@dataclass
class DataDirLock:
    """A held lock on one data directory; released explicitly or when the process exits."""

    data_dir: Path
    path: Path
    fd: int

    def release(self) -> None:
        """Drop the lock (the kernel does this anyway when the process exits)."""
        with _guard:
            if self.fd >= 0:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                os.close(self.fd)
                self.fd = -1
            _held.pop(self.data_dir, None)


def read_holder(data_dir: Path) -> dict[str, Any]:
    """What the lock file says about its holder ({} when unreadable)."""
    try:
        holder = json.loads((Path(data_dir) / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}  # valid JSON but not an object (a foreign file) is unreadable too


def acquire(data_dir: Path) -> DataDirLock:
    """Lock data_dir for this process (re-entrant within the process) or raise DataDirLockedError."""
    data_dir = Path(data_dir).resolve()
    with _guard:
        held = _held.get(data_dir)
        if held is not None and held.fd >= 0:
            return held
        make_private(data_dir)
        path = data_dir / LOCK_NAME
        # O_CLOEXEC (Python's default) keeps exec'd children from inheriting the lock.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirLockedError(data_dir, read_holder(data_dir)) from None
        holder = {
            "pid": os.getpid(),
            "command": " ".join(sys.argv)[:300],
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        lock = DataDirLock(data_dir, path, fd)
        _held[data_dir] = lock
        return lock
