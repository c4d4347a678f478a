"""A/B assignment (plugins/interest/ranking/experiments.py): stable, balanced, independent per experiment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from interest_bot.plugins.interest.ranking.experiments import DEFAULT_EXPERIMENT, Experiment, assign
from interest_bot.plugins.interest.ranking.recommender import RecommenderConfig


def test_assignment_is_stable_across_calls_and_processes() -> None:
    ids = [f"user-{i}" for i in range(200)]
    first = [assign(u, "exp-1") for u in ids]
    assert first == [assign(u, "exp-1") for u in ids]
    # A fresh interpreter (another hash seed) gives the same answer: no use of Python's salted hash().
    code = "from interest_bot.plugins.interest.ranking.experiments import assign; print(''.join(assign(f'user-{i}', 'exp-1') for i in range(200)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={"PYTHONHASHSEED": "12345"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "".join(first)
    assert set(first) == {"A", "B"}


def test_split_is_roughly_balanced_over_1000_ids() -> None:
    variants = [assign(f"u{i}", DEFAULT_EXPERIMENT.name) for i in range(1000)]
    b = variants.count("B")
    # binomial(1000, 0.5): sd ~ 15.8; 450..550 is more than 3 sd either side
    assert 450 <= b <= 550, b
    assert variants.count("A") + b == 1000


def test_experiments_are_independent_and_split_is_honoured() -> None:
    ids = [f"u{i}" for i in range(1000)]
    one = [assign(u, "exp-one") for u in ids]
    two = [assign(u, "exp-two") for u in ids]
    agree = sum(a == b for a, b in zip(one, two))
    assert 400 <= agree <= 600, agree  # unrelated experiments do not put the same users together
    assert all(assign(u, "x", split=0.0) == "A" for u in ids[:100])
    assert all(assign(u, "x", split=1.0) == "B" for u in ids[:100])
    share = sum(assign(u, "x", split=0.2) == "B" for u in ids) / len(ids)
    assert 0.15 <= share <= 0.25


def test_experiment_definition_checks() -> None:
    assert DEFAULT_EXPERIMENT.configs["A"] == RecommenderConfig()  # A is the shipped configuration
    assert DEFAULT_EXPERIMENT.configs["A"] != DEFAULT_EXPERIMENT.configs["B"]
    assert DEFAULT_EXPERIMENT.describe()["differs"]
    with pytest.raises(ValueError):
        Experiment(configs={"A": RecommenderConfig(), "B": RecommenderConfig()})
    with pytest.raises(ValueError):
        Experiment(configs={"A": RecommenderConfig()})
    with pytest.raises(TypeError):
        assign(None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        assign("u", "x", split=2.0)


def test_the_default_experiment_is_built_around_the_configured_blend() -> None:
    """A is the blend the operator configured (not the shipped one), B the default's change to it."""
    assert Experiment.around(RecommenderConfig()) == DEFAULT_EXPERIMENT
    custom = RecommenderConfig(content=0.9, popularity=0.1)
    experiment = Experiment.around(custom)
    assert experiment.configs["A"] == custom
    assert (experiment.configs["B"].content, experiment.configs["B"].mmr_lambda, experiment.configs["B"].popularity) == (0.4, 0.6, 0.1)
    assert experiment.name == DEFAULT_EXPERIMENT.name  # the same users land in the same variants
