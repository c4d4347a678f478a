"""The ML-100k protocol: stable split, sha, pessimistic ranks and metrics."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

# bench/ is a top-level folder of the repository, not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.ml100k import EXPECTED_SHA, Metrics, Rating, by_user, load_items, load_ratings, pessimistic_rank, split


def test_split_matches_protocol() -> None:
    sp = split(load_ratings())
    assert sum(map(len, sp.train.values())) == 98114
    assert len(sp.valid) == len(sp.test) == 943
    assert len({r.item for r in sp.test.values()}) == 529
    assert sp.sha() == EXPECTED_SHA
    assert len(load_items()) == 1682


def test_ties_in_time_keep_file_order() -> None:
    rows = [Rating("u", "a", 5, 10, 0), Rating("u", "b", 5, 5, 1), Rating("u", "c", 5, 10, 2), Rating("u", "d", 5, 10, 3)]
    assert [r.item for r in by_user(rows)["u"]] == ["b", "a", "c", "d"]
    sp = split(rows)
    assert sp.test["u"].item == "d" and sp.valid["u"].item == "c"


def test_pessimistic_rank_counts_ties_against_the_target() -> None:
    s = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    assert pessimistic_rank(s, 0) == 1 + 1 + 2
    assert pessimistic_rank(s, 0, excluded=np.array([2, 3])) == 2
    assert pessimistic_rank(np.zeros(10), 3) == 10


def test_metrics() -> None:
    m = Metrics()
    m.add(1)
    m.add(3)
    m.add(11)
    d = m.as_dict()
    assert d["hr10"] == round(2 / 3, 4)
    assert d["ndcg10"] == round((1 + 1 / math.log2(4)) / 3, 4)
    assert d["mrr10"] == round((1 + 1 / 3) / 3, 4)
