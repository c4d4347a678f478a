"""The interest plugin: capture interests from chat, remember them, recommend from a catalog.

    from interest_bot.plugins.interest import InterestPlugin, InterestMiddleware, InterestContext
    from interest_bot.plugins.interest import ingest_catalog   # build a catalog (also InterestPlugin.ingest)
"""

import importlib
from typing import TYPE_CHECKING, Any

from .config import PluginConfig

if TYPE_CHECKING:  # what __getattr__ below hands out, for the type checker (imported lazily at run time)
    from .agent.context import InterestContext
    from .agent.middleware import InterestMiddleware
    from .agent.retriever import InterestRetriever
    from .ingest import IngestResult, ingest_catalog
    from .plugin import InterestPlugin

__all__ = ["InterestContext", "InterestMiddleware", "InterestPlugin", "PluginConfig", "InterestRetriever", "IngestResult", "ingest_catalog"]


# Each public name and the module that defines it, imported on first use.
_LAZY = {
    "InterestPlugin": ".plugin",
    "InterestContext": ".agent.context",
    "InterestMiddleware": ".agent.middleware",
    "InterestRetriever": ".agent.retriever",
    "ingest_catalog": ".ingest",
    "IngestResult": ".ingest",
}


def __getattr__(name: str) -> Any:
    """Import the heavier parts only when asked for, so `import interest_bot.plugins.interest` stays light."""
    if name not in _LAZY:
        raise AttributeError(name)
    return getattr(importlib.import_module(_LAZY[name], __name__), name)
