"""The interest plugin: capture interests from chat, remember them, recommend from a catalog."""

from .offline import apply_offline_defaults

apply_offline_defaults()

from .config import PluginConfig  # noqa: E402

__all__ = ["PluginConfig"]
