"""Opening a plugin's stores from its config: one place for InterestPlugin.open and the CLI's memory commands."""

from __future__ import annotations

from chromadb.api import ClientAPI

from interest_bot.memory.counts import CountConfig
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.stores import open_memory

from .config import PluginConfig


def memory_for(config: PluginConfig, client: ClientAPI, dim: int = 384) -> InterestMemory:
    """The interest memory a plugin with this config opens (its counts, impressions, forget log and keys with it);
    `dim` is the encoder's (MiniLM: 384). The CLI's memory commands open it the same way, without loading an encoder,
    so with MiniLM's 384."""
    return open_memory(
        client,
        config.data_dir,
        chroma_url=config.chroma_url,
        sql_url=config.sql_url,
        store_text=config.store_text,
        count_config=CountConfig(neighbours=config.count_neighbours),
        short_half_life_days=config.short_half_life_days,
        long_half_life_days=config.long_half_life_days,
        dim=dim,
        max_cached_users=config.max_cached_users,
        max_impressions=config.max_impressions,
    )
