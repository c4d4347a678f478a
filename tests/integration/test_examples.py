"""The examples in examples/ run as written."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_python_plugin_example(prepared_data_dir: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "plugin_agent.py"), str(prepared_data_dir)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("Recommended for you") == 2
    assert "Happy to help!" in out.stdout


def test_curl_example_against_a_running_server(running_server: str) -> None:
    env = {**os.environ, "IBOT_URL": running_server}
    out = subprocess.run(["bash", str(ROOT / "examples" / "http_api.sh")], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '"recommendations"' in out.stdout and '"forgotten":true' in out.stdout.replace(" ", "")
