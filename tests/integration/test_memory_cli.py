"""`interest-bot memory show|export|forget [--interest]` as real subprocesses on a real embedded data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("interest-bot"))

FILL = textwrap.dedent(
    """
    import sys, numpy as np
    from pathlib import Path
    from interest_bot.memory.chroma import open_client
    from interest_bot.memory.counts import CountStore
    from interest_bot.memory.interests import InterestMemory
    from interest_bot.memory.signals import InterestSignal

    data = Path(sys.argv[1])
    def vec(seed):
        v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        return v / np.linalg.norm(v)
    counts = CountStore.open(data / "counts.sqlite")
    mem = InterestMemory(open_client(data), counts, shared=False)
    T0 = 1_790_000_000.0
    ids = mem.record("alice", [
        InterestSignal("I love space operas", vec(1), {"Sci-Fi": 0.9, "Drama": 0.1}, 0.9, 0.8, "chat", None, T0),
        InterestSignal("but I can't stand horror", vec(2), {"Horror": 0.95}, -0.9, 0.8, "chat", None, T0 + 1),
        InterestSignal("slashers are the worst", vec(3), {"Horror": 0.9}, -0.8, 0.8, "chat", None, T0 + 2),
    ])
    ids += mem.record("alice", [InterestSignal(None, vec(4), {"Sci-Fi": 0.8}, 1.0, 0.8, "feedback", "movielens-100k:50", T0 + 3)])
    mem.record("bob", [InterestSignal("westerns please", vec(5), {"Western": 1.0}, 1.0, 0.8, "chat", "movielens-100k:9", T0)])
    mem.close()
    counts.close()
    print(" ".join(ids))
    """
)

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from interest_bot.memory.chroma import open_client
    client = open_client(Path(sys.argv[1]))
    print("HOLDING", flush=True)
    time.sleep(600)
    """
)


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBOT_")}
    env.update(IBOT_DATA_DIR=str(data), ANONYMIZED_TELEMETRY="False")
    return env


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "memory", *args], env=_env(data), capture_output=True, text=True, timeout=300)


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, list[str]]:
    """A data dir with a few signals for alice (one an item event) and one for bob; returns (dir, alice's event ids)."""
    data = tmp_path / "data"
    data.mkdir()
    script = tmp_path / "fill.py"
    script.write_text(FILL)
    out = subprocess.run([sys.executable, str(script), str(data)], env=_env(data), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return data, out.stdout.split()


def test_show_prints_interests_and_recent_signals(filled) -> None:
    data, _ = filled
    out = cli(data, "show", "alice")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "User alice: 4 signals" in text
    assert "Sci-Fi" in text and "Horror" in text
    assert "Interests:" in text and "Dislikes:" in text
    assert "I love space operas" in text and "movielens-100k:50" in text
    # Sci-Fi is liked, Horror disliked: the score column says so.
    rows = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.split()[:1] in (["Sci-Fi"], ["Horror"])}
    assert rows["Sci-Fi"] > 0 > rows["Horror"]
    assert "westerns" not in text  # bob's data never shows for alice


def test_show_unknown_user_and_invalid_id(filled) -> None:
    data, _ = filled
    out = cli(data, "show", "nobody")
    assert out.returncode == 0 and "Nothing is stored about nobody" in out.stdout
    bad = cli(data, "show", "../etc")
    assert bad.returncode == 2 and "invalid user id" in bad.stderr


def test_export_is_complete_json(filled) -> None:
    data, ids = filled
    out = cli(data, "export", "alice")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["user_id"] == "alice"
    assert sorted(e["event_id"] for e in doc["events"]) == sorted(ids)
    assert all(len(e["embedding"]) == 384 for e in doc["events"])
    assert "I love space operas" in {e["text"] for e in doc["events"]}
    assert doc["profile"]["n_signals"] == 4
    assert [e["item_id"] for e in doc["counts"]["events"]] == ["movielens-100k:50"]
    assert "westerns" not in out.stdout and "bob" not in out.stdout


def test_forget_interest_then_forget_user(filled) -> None:
    data, ids = filled
    out = cli(data, "forget", "alice", "--interest", "horror")
    assert out.returncode == 0, out.stderr
    assert "Forgot category Horror of alice: 2 event(s) deleted." in out.stdout
    shown = cli(data, "show", "alice").stdout
    assert "Horror" not in shown and "Sci-Fi" in shown and "User alice: 2 signals" in shown

    out = cli(data, "forget", "alice", "--interest", ids[0])  # one event by id
    assert out.returncode == 0 and f"Forgot event {ids[0]} of alice: 1 event(s) deleted." in out.stdout

    out = cli(data, "forget", "alice", "--interest", "Polka")
    assert out.returncode == 1 and "not forgotten" in out.stderr

    out = cli(data, "forget", "alice")
    assert out.returncode == 0, out.stderr
    assert "Forgot alice: 1 event(s)" in out.stdout and "1 count event(s)" in out.stdout and "Verified nothing is left" in out.stdout
    assert "Nothing is stored about alice" in cli(data, "show", "alice").stdout
    doc = json.loads(cli(data, "export", "alice").stdout)
    assert doc["events"] == [] and doc["profile_records"] == [] and doc["counts"]["events"] == []
    # bob is untouched
    assert "westerns please" in cli(data, "show", "bob").stdout


def test_clear_error_while_another_process_holds_the_dir(filled, tmp_path: Path) -> None:
    data, _ = filled
    script = tmp_path / "hold.py"
    script.write_text(HOLD)
    holder = subprocess.Popen([sys.executable, str(script), str(data)], env=_env(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stderr is not None  # both piped
    try:
        assert holder.stdout.readline().strip() == "HOLDING", holder.stderr.read()[-2000:]
        for args in (("show", "alice"), ("export", "alice"), ("forget", "alice")):
            out = cli(data, *args)
            assert out.returncode == 3, (args, out.stdout, out.stderr)
            assert "cannot open the data directory while that process runs" in out.stderr
            assert str(holder.pid) in out.stderr  # names the holder
            assert "Traceback" not in out.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # Nothing was changed by the refused commands, and the dir opens again once the holder is gone.
    deadline = time.monotonic() + 30
    out = cli(data, "show", "alice")
    while out.returncode == 3 and time.monotonic() < deadline:
        time.sleep(0.5)
        out = cli(data, "show", "alice")
    assert out.returncode == 0 and "User alice: 4 signals" in out.stdout
