"""One way to open the interest memory with every store it needs, from the settings that say where they live.

The counts, the impressions, the forget log and the users' keys share the SQL store (`sqldb.sql_location`); the outbox
lives in the data dir when Chroma is embedded. The plugin and the CLI both open the memory here, so neither can leave
one out (a CLI forget that skipped the keys would leave sealed text readable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .counts import CountConfig, CountStore
from .forget_log import ForgetLog
from .impressions import MAX_IMPRESSIONS, ImpressionStore
from .interests import MAX_CACHED_USERS, InterestMemory
from .keyring import Keyring
from .outbox import embedded_outbox
from .sqldb import sql_location


def open_memory(
    client: Any,
    data_dir: Path | str,
    *,
    chroma_url: str = "",
    sql_url: str = "",
    store_text: bool = True,
    count_config: CountConfig | None = None,
    short_half_life_days: float = 1.0,
    long_half_life_days: float = 90.0,
    dim: int = 384,
    max_cached_users: int = MAX_CACHED_USERS,
    max_impressions: int = MAX_IMPRESSIONS,
) -> InterestMemory:
    """The interest memory with its counts, impressions, forget log, keys and (embedded) outbox; closing it closes them."""
    location = sql_location(data_dir, sql_url)
    outbox = embedded_outbox(data_dir, chroma_url)  # first: it refuses a corrupt data dir before anything opens
    counts = CountStore.open(location, count_config or CountConfig())
    impressions = ImpressionStore.open(location, max_impressions)
    forget_log = ForgetLog.open(location)
    keyring = Keyring.open(location)
    return InterestMemory(
        client,
        counts,
        store_text=store_text,
        short_half_life_days=short_half_life_days,
        long_half_life_days=long_half_life_days,
        dim=dim,
        shared=bool(chroma_url),
        outbox=outbox,
        forget_log=forget_log,
        max_cached_users=max_cached_users,
        keyring=keyring,
        impressions=impressions,
        owned=[counts, impressions, forget_log, keyring],
    )
