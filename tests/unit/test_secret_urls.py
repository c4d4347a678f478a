"""Database and Chroma URLs may carry passwords: no repr, message or log shows them."""

from __future__ import annotations

import pytest

from interest_bot.bot.config import Settings
from interest_bot.memory.chroma import ChromaUnavailableError, open_client, parse_chroma_url, redacted_url


def test_database_urls_are_not_in_a_repr() -> None:
    # A PostgreSQL or Chroma URL may carry a password: neither the settings nor the plugin's config shows it.
    s = Settings.without_env_file(sql_url="postgresql://u:TOPSECRET@h/db", chroma_url="http://t:CHROMASECRET@h:8000")
    for text in (repr(s), str(s), repr(s.plugin_config()), str(s.plugin_config())):
        assert "TOPSECRET" not in text and "CHROMASECRET" not in text
    assert s.plugin_config().sql_url == "postgresql://u:TOPSECRET@h/db"  # hidden from reprs, not lost


def test_chroma_url_errors_do_not_show_the_password(tmp_path) -> None:
    with pytest.raises(ValueError) as bad:
        parse_chroma_url("ftp://u:CHROMASECRET@h:8000")
    assert "CHROMASECRET" not in str(bad.value)
    with pytest.raises(ChromaUnavailableError) as down:
        open_client(tmp_path, "http://u:CHROMASECRET@127.0.0.1:9")  # nothing listens on port 9
    assert "CHROMASECRET" not in str(down.value) and "127.0.0.1:9" in str(down.value)
    assert redacted_url("http://u:p@h:8000/x") == "http://u:***@h:8000/x" and redacted_url("http://h:8000") == "http://h:8000"
