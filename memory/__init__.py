"""Storage for interest-bot: catalog, interest events and profiles, collaborative counts. No models here."""

import os

# Chroma reads this when it is first imported; the product never phones home.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
