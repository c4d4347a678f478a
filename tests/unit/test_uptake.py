"""The uptake index: recent acceptances outweigh old ones, a forgotten user's acceptances leave no weight."""

import numpy as np

from interest_bot.plugins.interest.ranking.uptake import UptakeIndex


def test_recent_acceptances_outweigh_old_ones() -> None:
    idx = UptakeIndex(half_life=1.0)
    idx.add_many([("a", "m:old"), ("b", "m:old"), ("c", "m:x"), ("d", "m:x"), ("e", "m:new")])
    w = idx.weights(["m:old", "m:new", "m:none"])
    # "old" weighs 0.5**4 + 0.5**3 of the latest acceptance: 0.1875 against "new"'s 1.
    assert w[1] == 1.0 and 0.18 < w[0] < 0.19 and w[2] == 0.0


def test_forget_removes_a_users_weight() -> None:
    idx = UptakeIndex(half_life=10.0)
    idx.add_many([("a", "m:1"), ("b", "m:2")])
    idx.remove_user("b")
    assert list(idx.weights(["m:1", "m:2"])) == [1.0, 0.0]


def test_weights_survive_rescaling() -> None:
    idx = UptakeIndex(half_life=1.0)  # the scale doubles per event: rescaled after ~330 events
    idx.add_many((f"u{i}", "m:1" if i % 2 else "m:2") for i in range(1000))
    w = idx.weights(["m:1", "m:2"])
    assert np.isfinite(w).all() and w[0] == 1.0 and abs(w[1] - 0.5) < 1e-9  # 1/2 + 1/8 + ... against 1 + 1/4 + ...


def test_top_keeps_to_one_catalog_when_asked() -> None:
    """The index holds every catalog's items: a busy other catalog must not take all of one catalog's places."""
    idx = UptakeIndex(half_life=100)
    idx.add_many([("u", f"news:{i}") for i in range(5)] * 3 + [("u", "films:1"), ("u", "films:2")])
    assert all(q.startswith("news:") for q in idx.top(3))
    assert idx.top(3, "films:") == ["films:2", "films:1"]
