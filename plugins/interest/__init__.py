"""The interest plugin: capture interests from chat, remember them, recommend from a catalog.

    from interest_bot.plugins.interest import InterestPlugin, InterestMiddleware, InterestContext
"""

from .config import PluginConfig

__all__ = ["InterestContext", "InterestMiddleware", "InterestPlugin", "PluginConfig", "InterestRetriever"]


def __getattr__(name: str):
    """Import the heavier parts only when asked for, so `import interest_bot.plugins.interest` stays light."""
    if name == "InterestPlugin":
        from .plugin import InterestPlugin

        return InterestPlugin
    if name in {"InterestMiddleware", "InterestContext"}:
        from . import middleware

        return getattr(middleware, name)
    if name == "InterestRetriever":
        from .retriever import InterestRetriever

        return InterestRetriever
    raise AttributeError(name)
