"""Integration helpers live beside the tests (chroma_server, chat_completions_server)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
