"""Errors the plugin raises, each with a message a user can act on."""


class InterestBotError(Exception):
    """Base class of the plugin's errors."""


class ModelNotInstalledError(InterestBotError):
    """A model the plugin needs is not installed; the message names the package or setting."""


class EncoderBuildError(InterestBotError):
    """The CPU int8 encoder could not be built from the installed weights, or failed its check against fp32."""


class TrainingDataNotInstalledError(InterestBotError):
    """Data the classifier heads are trained on is not installed; the message names the package and the pip command."""
