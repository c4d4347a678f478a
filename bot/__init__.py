"""The interest-bot application: settings, chat models, agent, API, server, CLI (the composition root)."""

from interest_bot.bot.offline import apply_offline_defaults

apply_offline_defaults()
