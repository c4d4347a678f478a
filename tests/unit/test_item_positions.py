"""ItemPositions: a fixed list of rows kept mapped into a growing index, read incrementally, equal to a full lookup."""

import random
import threading
from pathlib import Path

import numpy as np

from interest_bot.memory.counts import CountStore
from interest_bot.memory.item_positions import ItemPositions
from interest_bot.plugins.interest.ranking.uptake import UptakeIndex


def _full(qids: list[str], index: dict[str, int], missing: int) -> np.ndarray:
    return np.array([index.get(q, missing) for q in qids], np.int64)


def test_positions_follow_a_growing_index_and_a_replaced_one() -> None:
    qids = [f"m:{i}" for i in range(50)]
    positions = ItemPositions({q: r for r, q in enumerate(qids)}, len(qids), -1)
    index: dict[str, int] = {}
    rng = random.Random(0)
    for step in range(40):
        for _ in range(rng.randint(0, 4)):
            item = f"m:{rng.randint(0, 120)}"  # items outside the rows too
            index.setdefault(item, len(index))
        np.testing.assert_array_equal(positions.follow(index), _full(qids, index, -1), err_msg=f"step {step}")
    fresh = {"m:3": 7, "m:9": 2}  # the owner reloaded: a new dict, smaller than what was read
    np.testing.assert_array_equal(positions.follow(fresh), _full(qids, fresh, -1))


def test_the_returned_positions_are_a_copy() -> None:
    positions = ItemPositions({"a": 0}, 1, 0)
    got = positions.follow({"a": 5})
    got[0] = 99
    assert positions.follow({"a": 5})[0] == 5


def test_uptake_weights_are_the_same_through_positions() -> None:
    qids = [f"m:{i}" for i in range(30)]
    positions = ItemPositions({q: r for r, q in enumerate(qids)}, len(qids), -1)
    idx = UptakeIndex(half_life=5.0)
    for batch in range(5):
        idx.add_many((f"u{batch}-{i}", f"m:{(batch * 7 + i * 3) % 45}") for i in range(6))
        np.testing.assert_array_equal(idx.weights(qids, positions), idx.weights(qids))


def test_count_store_positions_match_its_index(tmp_path: Path) -> None:
    store = CountStore.open(tmp_path / "counts.sqlite")
    qids = [f"m:{i}" for i in range(20)]
    positions = ItemPositions({q: r for r, q in enumerate(qids)}, len(qids), 0)
    for i in range(4):
        store.add_events([(f"u{i}", f"m:{i * 5 + j}", float(j), f"e{i}-{j}") for j in range(6)])
        _, index, _ = store.popularity_view()
        counted, pop = store.positions(positions)
        np.testing.assert_array_equal(counted, _full(qids, index, 0))
        assert counted.max() < len(pop)
    store.close()


def test_positions_stay_exact_while_another_thread_grows_the_index() -> None:
    qids = [f"m:{i}" for i in range(400)]
    positions = ItemPositions({q: r for r, q in enumerate(qids)}, len(qids), -1)
    index: dict[str, int] = {}
    done = threading.Event()

    def grow() -> None:
        for i in range(3000):
            index.setdefault(f"m:{(i * 7919) % 900}", len(index))  # no lock: follow() must cope on its own
        done.set()

    writer = threading.Thread(target=grow)
    writer.start()
    while not done.is_set():
        positions.follow(index)
    writer.join()
    np.testing.assert_array_equal(positions.follow(index), _full(qids, index, -1))
