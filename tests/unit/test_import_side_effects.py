"""A library must not change its host's environment on import."""

import json
import os
import subprocess
import sys

PROBE = """
import json, os
before = dict(os.environ)
import interest_bot.plugins.interest
from interest_bot.plugins.interest import plugin  # noqa: F401
from interest_bot.plugins.interest.agent import middleware, retriever  # noqa: F401
after = dict(os.environ)
print(json.dumps({k: after.get(k) for k in set(before) ^ set(after) | {k for k in before if before[k] != after.get(k)}}))
"""


def test_importing_the_plugin_leaves_the_environment_alone() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "ANONYMIZED_", "GRADIO_", "TOKENIZERS_"))}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_loaders_are_told_to_stay_offline() -> None:
    from interest_bot.plugins.interest.encoding.placement import from_pretrained_kwargs

    assert from_pretrained_kwargs("cpu", "none", {}, [])["local_files_only"] is True
    assert from_pretrained_kwargs("cuda", "4bit", {}, ["lm_head"])["local_files_only"] is True
