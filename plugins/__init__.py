"""Plugins of interest-bot."""
