"""The interest plugin: capture interests from chat, remember them, recommend from a catalog.

    from interest_bot.plugins.interest import InterestPlugin, InterestMiddleware, InterestContext
    from interest_bot.plugins.interest import ingest_catalog   # build a catalog (also InterestPlugin.ingest)
"""

from typing import TYPE_CHECKING, Any

from .config import PluginConfig

if TYPE_CHECKING:  # what __getattr__ below hands out, for the type checker (imported lazily at run time)
    from .agent.context import InterestContext
    from .agent.middleware import InterestMiddleware
    from .agent.retriever import InterestRetriever
    from .ingest import IngestResult, ingest_catalog
    from .plugin import InterestPlugin

__all__ = ["InterestContext", "InterestMiddleware", "InterestPlugin", "PluginConfig", "InterestRetriever", "IngestResult", "ingest_catalog"]


def __getattr__(name: str) -> Any:
    """Import the heavier parts only when asked for, so `import interest_bot.plugins.interest` stays light."""
    if name == "InterestPlugin":
        from .plugin import InterestPlugin

        return InterestPlugin
    if name == "InterestContext":
        from .agent.context import InterestContext

        return InterestContext
    if name == "InterestMiddleware":
        from .agent.middleware import InterestMiddleware

        return InterestMiddleware
    if name == "ingest_catalog":
        from .ingest import ingest_catalog

        return ingest_catalog
    if name == "IngestResult":
        from .ingest import IngestResult

        return IngestResult
    if name == "InterestRetriever":
        from .agent.retriever import InterestRetriever

        return InterestRetriever
    raise AttributeError(name)
