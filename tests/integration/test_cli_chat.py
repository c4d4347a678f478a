"""`interest-bot chat` talks in the terminal with the real agent and learns from what is typed."""

import os
import subprocess
import sys
from pathlib import Path


def test_terminal_chat_learns(prepared_data_dir: Path) -> None:
    cli = Path(sys.executable).with_name("interest-bot")
    env = {**os.environ, "IBOT_DATA_DIR": str(prepared_data_dir), "IBOT_DEVICE": "cpu", "IBOT_MAX_NEW_TOKENS": "24"}
    out = subprocess.run([str(cli), "chat", "--user", "term-user"], input="I love documentaries\n/quit\n",
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "bot> " in out.stdout and "Recommended for you" in out.stdout
    shown = subprocess.run([str(cli), "memory", "export", "term-user"], env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Documentary" in shown.stdout


def test_terminal_chat_rejects_bad_user(prepared_data_dir: Path) -> None:
    cli = Path(sys.executable).with_name("interest-bot")
    env = {**os.environ, "IBOT_DATA_DIR": str(prepared_data_dir)}
    out = subprocess.run([str(cli), "chat", "--user", "../etc"], input="", env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "user id" in out.stderr.lower()
