"""A/B tests of recommender configurations, assigned by a stable hash of the user id.

    from interest_bot.plugins.interest.ranking.experiments import assign, DEFAULT_EXPERIMENT
    assign("alice", DEFAULT_EXPERIMENT.name)          # "A" or "B", the same on every process and restart
    plugin.enable_ab_test()                             # plugin.recommend then ranks with the user's variant

Variant A is the shipped `RecommenderConfig`; variant B re-ranks for more diversity (a lower MMR λ)
and leans more on what the user said (a larger content weight). Impressions, likes, dislikes and
click-through are labelled by variant (`InterestPlugin.variant`, `ImpressionStore.click_through`, `/metrics`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from .config import RecommenderConfig
from .recommender import Recommender

Variant = Literal["A", "B"]
VARIANTS: tuple[Variant, Variant] = ("A", "B")


def default_b(base: RecommenderConfig) -> RecommenderConfig:
    """The default experiment's B: A's blend with more diversity and more weight on what the user said."""
    return replace(base, mmr_lambda=0.6, content=0.4)


def assign(user_id: str, experiment: str, split: float = 0.5) -> Variant:
    """"A" or "B" from SHA-256 of `experiment:user_id`: stable across processes, independent per experiment.

    `split` is the share of users in B (0.5 = an even split).
    """
    if not isinstance(user_id, str) or not isinstance(experiment, str):
        raise TypeError("user_id and experiment must be strings")
    if not 0.0 <= split <= 1.0:
        raise ValueError(f"split must be in [0, 1], got {split}")
    digest = hashlib.sha256(f"{experiment}:{user_id}".encode("utf-8", "surrogatepass")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return "B" if bucket < split else "A"


@dataclass(frozen=True)
class Experiment:
    """Two recommender configurations under one experiment name."""

    name: str = "recommender-diversity-v1"
    configs: dict[str, RecommenderConfig] = field(
        default_factory=lambda: {
            "A": RecommenderConfig(),
            "B": default_b(RecommenderConfig()),
        }
    )
    split: float = 0.5

    def __post_init__(self) -> None:
        if set(self.configs) != set(VARIANTS):
            raise ValueError("an experiment needs exactly the variants A and B")
        if self.configs["A"] == self.configs["B"]:
            raise ValueError("the two variants must differ")

    @classmethod
    def around(cls, base: RecommenderConfig) -> Experiment:
        """The default experiment over a configured blend: A is `base` as configured, B makes the default's B changes to it."""
        return cls(configs={"A": base, "B": default_b(base)})

    def assign(self, user_id: str) -> Variant:
        """The user's variant in this experiment."""
        return assign(user_id, self.name, self.split)

    def recommenders(self, base: Recommender) -> dict[str, Recommender]:
        """One recommender per variant over the base recommender's catalog and counts (A keeps the base's config if equal)."""
        out: dict[str, Recommender] = {}
        for variant, config in self.configs.items():
            out[variant] = base if base.config == config else Recommender(base.catalog, base.counts, config)
        return out

    def describe(self) -> dict[str, Any]:
        """What differs between the variants, for reports."""
        a, b = self.configs["A"], self.configs["B"]
        fields_a, fields_b = asdict(a), asdict(b)
        diff = {k: (fields_a[k], fields_b[k]) for k in fields_a if fields_a[k] != fields_b[k]}
        return {"name": self.name, "split": self.split, "differs": diff}


DEFAULT_EXPERIMENT = Experiment()
