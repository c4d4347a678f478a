"""Profile math: decay with two half-lives, signed category scores, clusters, recent items, persistence round trip."""

import numpy as np
import pytest

from interest_bot.memory.profile import DAY_S, MAX_CLUSTERS, EventView, ProfileState, decay_factor

T0 = 1_700_000_000.0


def unit(seed: int, dim: int = 16) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim)
    return v / np.linalg.norm(v)


def ev(i: int, emb: np.ndarray, cats: dict, pol: float, ts: float, item: str | None = None, text: str = "t", rt: float | None = None) -> EventView:
    return EventView(f"e{i}", emb, cats, pol, 1.0, "chat", item, ts, ts if rt is None else rt, text)


def test_decay_factor_halves_per_half_life() -> None:
    assert decay_factor(DAY_S, 1.0) == pytest.approx(0.5)
    assert decay_factor(90 * DAY_S, 90.0) == pytest.approx(0.5)
    assert decay_factor(-5.0, 1.0) == 1.0


def test_short_term_fades_faster_than_long_term() -> None:
    st = ProfileState("u")
    st.fold(ev(0, unit(0), {"Sci-Fi": 1.0}, 1.0, T0))
    now = st.view(T0)
    later = st.view(T0 + 2 * DAY_S)
    assert now.categories["Sci-Fi"].short == pytest.approx(1.0)
    assert later.categories["Sci-Fi"].short == pytest.approx(0.25)
    assert later.categories["Sci-Fi"].long == pytest.approx(0.5 ** (2 / 90))


def test_dislikes_score_negative_and_likes_positive() -> None:
    st = ProfileState("u")
    st.fold(ev(0, unit(0), {"Sci-Fi": 0.9}, 0.9, T0))
    st.fold(ev(1, unit(1), {"Horror": 0.9}, -0.9, T0))
    p = st.view(T0)
    assert p.score("Sci-Fi") > 0 > p.score("Horror")
    assert p.top_categories(1) == ["Sci-Fi"]
    assert p.top_categories(1, negative=True) == ["Horror"]
    assert p.score("Western") == 0.0
    assert [c.polarity for c in p.positive] == [1] and [c.polarity for c in p.negative] == [-1]


def test_fold_order_does_not_change_scores() -> None:
    evs = [ev(i, unit(i), {"A": 0.5, "B": 0.2 * i}, (-1) ** i * 0.7, T0 + i * 3600) for i in range(6)]
    a, b = ProfileState("u"), ProfileState("u")
    for e in evs:
        a.fold(e)
    for e in reversed(evs):
        b.fold(e)
    pa, pb = a.view(T0 + DAY_S), b.view(T0 + DAY_S)
    for k in pa.categories:
        assert pa.categories[k].short == pytest.approx(pb.categories[k].short)
        assert pa.categories[k].long == pytest.approx(pb.categories[k].long)


def test_similar_signals_share_a_cluster_and_distinct_ones_do_not() -> None:
    st = ProfileState("u")
    space, cooking = np.eye(16)[0], np.eye(16)[1]  # orthogonal: cosine 0
    st.fold(ev(0, space, {"Sci-Fi": 1.0}, 1.0, T0, text="space operas"))
    st.fold(ev(1, space + 0.05 * np.eye(16)[2], {"Sci-Fi": 1.0}, 1.0, T0 + 1, text="more space"))
    st.fold(ev(2, cooking, {"Food": 1.0}, 1.0, T0 + 2, text="cooking shows"))
    p = st.view(T0 + 2)
    assert len(p.positive) == 2
    big = p.positive[0]
    assert big.n_signals == 2 and big.signal_ids == ["e1", "e0"] and big.texts == ["more space", "space operas"]
    assert list(big.categories) == ["Sci-Fi"]
    assert float(big.centroid @ space) > 0.99
    assert np.linalg.norm(big.centroid) == pytest.approx(1.0, abs=1e-5)


def test_cluster_count_is_bounded() -> None:
    st = ProfileState("u")
    for i in range(40):
        st.fold(ev(i, unit(100 + i, dim=64), {"X": 1.0}, 1.0, T0 + i))
    p = st.view(T0 + 40)
    assert len(p.positive) == MAX_CLUSTERS
    assert sum(c.n_signals for c in p.positive) == 40


def test_recent_items_newest_first_one_per_item() -> None:
    st = ProfileState("u")
    st.fold(ev(0, unit(0), {}, 1.0, T0, item="ml:1"))
    st.fold(ev(1, unit(1), {}, -1.0, T0 + 10, item="ml:2"))
    st.fold(ev(2, unit(2), {}, 0.0, T0 + 20, item="ml:1"))
    st.fold(ev(3, unit(3), {}, 1.0, T0 + 5, item="ml:3"))  # back-dated
    p = st.view(T0 + 20)
    assert [r.item_id for r in p.recent_items] == ["ml:1", "ml:2", "ml:3"]
    assert p.recent_items[0].polarity == 0.0
    assert p.seen_items == {"ml:1", "ml:2", "ml:3"}
    assert p.liked_items == ["ml:3"]


def test_forgotten_category_ignores_old_events_but_accepts_new_ones() -> None:
    st = ProfileState("u")
    st.forgotten["Horror"] = T0 + 10
    st.fold(ev(0, unit(0), {"Horror": 1.0, "Drama": 0.5}, 1.0, T0, rt=T0 + 5))
    assert st.view(T0).score("Horror") == 0.0 and st.view(T0).score("Drama") > 0
    st.fold(ev(1, unit(1), {"Horror": 1.0}, 1.0, T0 + 20, rt=T0 + 20))
    assert st.view(T0 + 20).score("Horror") > 0


def test_records_round_trip() -> None:
    st = ProfileState("u", 2.0, 30.0)
    for i in range(12):
        st.fold(ev(i, unit(i % 3), {"A": 0.6, "B": 0.3}, 1.0 if i % 4 else -0.8, T0 + i * 600, item=f"ml:{i}"))
    st.forgotten["Z"] = T0
    clusters = [(c, m) for _, c, m in st.cluster_records()]
    back = ProfileState.from_records("u", st.head_metadata(), clusters, 2.0, 30.0)
    a, b = st.view(T0 + DAY_S), back.view(T0 + DAY_S)
    assert a.categories.keys() == b.categories.keys()
    for k in a.categories:
        assert b.categories[k].score == pytest.approx(a.categories[k].score, rel=1e-6)
    assert [(c.cluster_id, c.n_signals, c.signal_ids) for c in a.positive] == [(c.cluster_id, c.n_signals, c.signal_ids) for c in b.positive]
    for ca, cb in zip(a.positive + a.negative, b.positive + b.negative):
        assert cb.weight == pytest.approx(ca.weight, rel=1e-5)
        assert float(ca.centroid @ cb.centroid) > 0.9999
    assert a.recent_items == b.recent_items and b.n_signals == 12 and back.forgotten == {"Z": T0}


def test_to_dict_is_json_able() -> None:
    import json

    st = ProfileState("u")
    st.fold(ev(0, unit(0), {"A": 1.0}, 1.0, T0, item="ml:1"))
    d = st.view(T0).to_dict()
    assert json.loads(json.dumps(d))["positive"][0]["texts"] == ["t"]
