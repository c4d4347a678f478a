"""Offline defaults for the application process, applied where it starts (never by the plugin, a library)."""

import logging
import os
import warnings

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_defaults() -> None:
    """Set the offline switches unless the user set them, and quiet bitsandbytes' CPU warnings."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    # bitsandbytes warns on every CPU-only import; it is expected here and says nothing actionable.
    warnings.filterwarnings("ignore", module="bitsandbytes")
    warnings.filterwarnings("ignore", message=".*bitsandbytes.*")
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    logging.getLogger("bitsandbytes.cextension").setLevel(logging.ERROR)
