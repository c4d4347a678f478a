"""The data-dir lock's holder note: whatever the lock file holds, a second opener gets the clear lock error."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from interest_bot.memory.lock import LOCK_NAME, DataDirLockedError, acquire, read_holder


def test_holder_that_is_not_a_json_object_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("[1, 2]")
    assert read_holder(tmp_path) == {}
    (tmp_path / LOCK_NAME).write_text('{"pid": 7}')
    assert read_holder(tmp_path) == {"pid": 7}


def test_locked_dir_with_a_foreign_lock_file_gives_the_lock_error(tmp_path: Path) -> None:
    # flock belongs to an open file description, so a second open in this process conflicts like another process.
    path = tmp_path / LOCK_NAME
    path.write_text("[1, 2]")  # valid JSON, not an object: used to fail with AttributeError on holder.get
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DataDirLockedError) as info:
            acquire(tmp_path)
        assert info.value.holder == {} and "pid ?" in str(info.value)
    finally:
        os.close(fd)
