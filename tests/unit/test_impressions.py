"""ImpressionStore on its own SQLite file and beside the counts: click-through, latest batch, bounded rows, forget."""

from __future__ import annotations

from pathlib import Path

from interest_bot.memory.counts import CountEvent, CountStore
from interest_bot.memory.impressions import ImpressionStore


def test_impressions_and_click_through(tmp_path: Path) -> None:
    s = ImpressionStore.open(tmp_path / "c.db")
    s.add("u", ["a", "b"], "A", ts=100)
    s.add("u", ["c"], "B", ts=100)
    assert s.mark_click("u", "a", ts=150)
    assert not s.mark_click("u", "a", ts=160)  # already credited
    assert not s.mark_click("v", "b", ts=160)  # never shown to v
    ctr = s.click_through()
    assert ctr["A"] == {"impressions": 2, "clicks": 1, "ctr": 0.5}
    assert ctr["B"]["clicks"] == 0
    s.remove_user("u")
    assert s.click_through() == {}


def test_a_click_is_credited_only_within_the_horizon(tmp_path: Path) -> None:
    s = ImpressionStore.open(tmp_path / "c.db")
    s.add("u", ["a"], "A", ts=1000)
    assert not s.mark_click("u", "a", ts=999)  # before it was shown
    assert not s.mark_click("u", "a", ts=1000 + 61, horizon_s=60)  # too long after
    assert s.mark_click("u", "a", ts=1000 + 59, horizon_s=60)


def test_latest_is_the_newest_batch_in_the_order_shown(tmp_path: Path) -> None:
    s = ImpressionStore.open(tmp_path / "c.db")
    assert s.latest("u") == []
    s.add("u", ["a", "b"], "A", ts=10)
    s.add("u", ["c", "d", "c"], "A", ts=20)
    s.add("v", ["z"], "A", ts=30)
    assert s.latest("u") == ["c", "d"]
    s.add("u", ["e"], "A", ts=99, join_latest=True)  # a replacement card joins the batch on screen
    assert s.latest("u") == ["c", "d", "e"]
    s.add("w", ["f"], "A", ts=5, join_latest=True)  # no batch yet: its own time
    assert s.latest("w") == ["f"]


def test_rows_stay_bounded_to_the_newest(tmp_path: Path) -> None:
    s = ImpressionStore.open(tmp_path / "c.db", max_rows=5)
    for k in range(6):
        s.add("u", [f"i{k}a", f"i{k}b"], "A", ts=float(k))
    assert 5 <= s.click_through()["A"]["impressions"] < 5 + 5  # the newest max_rows, trimmed every max_rows added
    assert s.latest("u") == ["i5a", "i5b"]  # the newest survive a trim


def test_beside_the_counts_each_store_removes_only_its_own_rows(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite"
    counts, impressions = CountStore.open(path), ImpressionStore.open(path)
    counts.add_events([CountEvent("u", "x", 1.0, "e1"), CountEvent("u", "y", 2.0, "e2")])
    impressions.add("u", ["x", "y"], "A", ts=3.0)
    impressions.add("v", ["x"], "B", ts=3.0)
    assert counts.remove_user("u") == 2
    assert impressions.latest("u") == ["x", "y"]  # forgetting one interest replays the counts and keeps what was shown
    counts.rebuild([])
    assert impressions.click_through()["A"]["impressions"] == 2  # the counts' rebuild leaves impressions alone
    assert impressions.remove_user("u") == 2
    assert impressions.latest("u") == [] and impressions.latest("v") == ["x"]
    counts.close()
    impressions.close()
    again = ImpressionStore.open(path)
    assert again.click_through() == {"B": {"impressions": 1, "clicks": 0, "ctr": 0.0}}
    again.close()
