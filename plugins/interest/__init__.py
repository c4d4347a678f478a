"""The interest plugin: capture interests from chat, remember them, recommend from a catalog.

    from interest_bot.plugins.interest import InterestPlugin, InterestMiddleware, InterestContext
    from interest_bot.plugins.interest import ingest_catalog   # build a catalog (also InterestPlugin.ingest)
"""

from typing import TYPE_CHECKING, Any

from .config import PluginConfig

if TYPE_CHECKING:  # what __getattr__ below hands out, for the type checker (imported lazily at run time)
    from .ingest import IngestResult, ingest_catalog
    from .middleware import InterestContext, InterestMiddleware
    from .plugin import InterestPlugin
    from .retriever import InterestRetriever

__all__ = ["InterestContext", "InterestMiddleware", "InterestPlugin", "PluginConfig", "InterestRetriever", "IngestResult", "ingest_catalog"]


def __getattr__(name: str) -> Any:
    """Import the heavier parts only when asked for, so `import interest_bot.plugins.interest` stays light."""
    if name == "InterestPlugin":
        from .plugin import InterestPlugin

        return InterestPlugin
    if name in {"InterestMiddleware", "InterestContext"}:
        from . import middleware

        return getattr(middleware, name)
    if name in {"ingest_catalog", "IngestResult"}:
        from . import ingest

        return getattr(ingest, name)
    if name == "InterestRetriever":
        from .retriever import InterestRetriever

        return InterestRetriever
    raise AttributeError(name)
