"""The CLI's memory commands open the stores as the plugin does: from the configured settings, not defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from interest_bot.bot import cli_memory
from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.plugins.interest.stores import memory_for


def test_the_memory_commands_use_the_configured_half_lives_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IBOT_SHORT_HALF_LIFE_DAYS", "3.5")
    monkeypatch.setenv("IBOT_LONG_HALF_LIFE_DAYS", "45")
    monkeypatch.setenv("IBOT_COUNT_NEIGHBOURS", "77")
    config = cli_memory._config()
    assert (config.short_half_life_days, config.long_half_life_days, config.count_neighbours) == (3.5, 45.0, 77)
    with cli_memory._memory() as mem:
        assert (mem.short_half_life_days, mem.long_half_life_days) == (3.5, 45.0)
        assert isinstance(mem.counts, CountStore) and mem.counts.config.neighbours == 77
    client = open_client(Path(config.data_dir))
    same = memory_for(config, client)
    try:
        assert (same.short_half_life_days, same.long_half_life_days) == (3.5, 45.0)
    finally:
        same.close()
