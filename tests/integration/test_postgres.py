"""IBOT_SQL_URL=postgresql://…: the counts and LangGraph's conversation checkpoints on a real throwaway PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pg import PgCluster, pg_available  # noqa: E402

pytestmark = pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries missing: apt-get install -y postgresql")

from interest_bot.memory.counts import CountEvent, CountStore  # noqa: E402

CAT = "cat"


@pytest.fixture(scope="module")
def pg():
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def db_url(pg: PgCluster, request: pytest.FixtureRequest) -> str:
    """A fresh database per test in the module's cluster."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:50]
    pg.psql(f"DROP DATABASE IF EXISTS {name}", dbname="postgres")
    pg.psql(f"CREATE DATABASE {name}", dbname="postgres")
    return pg.admin_url(name)


def _events(user: str, items: list[int], t0: float = 1000.0, tag: str = "") -> list[CountEvent]:
    return [CountEvent(user, f"{CAT}:{i}", t0 + k, f"{tag}{user}:{k}", True) for k, i in enumerate(items)]


def test_counts_add_and_remove_user(db_url: str) -> None:
    store = CountStore.open(db_url)
    try:
        assert store.add_events(_events("alice", [1, 2, 3])) == 3
        assert store.add_events(_events("alice", [1, 2, 3])) == 0  # idempotent per event id
        store.add_events(_events("bob", [1, 2], t0=2000.0))
        store.add_event("bob", f"{CAT}:9", 2100.0, "bob:neg", positive=False)
        assert store.popularity(f"{CAT}:1") == 2
        w, n = store.follow(f"{CAT}:1", f"{CAT}:2")
        assert n == 2 and w > 0
        assert store.user_items("alice") == [f"{CAT}:3", f"{CAT}:2", f"{CAT}:1"]
        assert store.user_items("bob", include_negative=True)[0] == f"{CAT}:9"

        assert store.remove_user("alice") == 3
        assert "alice" not in store.users()
        snap = store.snapshot()
        assert all(e[1] != "alice" for e in snap["events"])
        assert snap["follow"] == {(f"{CAT}:1", f"{CAT}:2"): pytest.approx((1.0, 1))}
        assert snap["popularity"] == {f"{CAT}:1": 1, f"{CAT}:2": 1}
        assert store.follow(f"{CAT}:2", f"{CAT}:3") == (0.0, 0)
    finally:
        store.close()
    # Reopening reads the same state back from Postgres.
    again = CountStore.open(db_url)
    try:
        assert again.users() == ["bob"]
        assert again.follow(f"{CAT}:1", f"{CAT}:2")[1] == 1
        assert again.popularity(f"{CAT}:2") == 1
    finally:
        again.close()


def test_two_stores_agree_after_catch_up(db_url: str) -> None:
    """Two writers on one database at the same time (their own connections), then catch_up: identical counts."""
    a, b = CountStore.open(db_url), CountStore.open(db_url)
    rng = np.random.default_rng(7)
    errors: list[BaseException] = []

    def write(store: CountStore, tag: str) -> None:
        try:
            for u in range(6):
                user = f"{tag}{u}"
                items = rng.integers(0, 40, 30).tolist()
                for k in range(0, 30, 3):  # small batches, interleaving with the other writer
                    store.add_events(_events(user, items[k : k + 3], t0=1000.0 + k, tag=f"{tag}-{k}-"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # A shared user written by both stores, plus a removal seen through catch_up.
    a.add_events(_events("both", [1, 2, 3], t0=5000.0, tag="a-"))
    b.add_events(_events("both", [4, 5], t0=5010.0, tag="b-"))
    b.add_events(_events("gone", [7, 8], t0=6000.0))
    a.remove_user("gone")
    a.catch_up()
    b.catch_up()
    fresh = CountStore.open(db_url)
    try:
        assert a.n_events == b.n_events == fresh.n_events == 12 * 30 + 5
        assert a.users() == b.users() == fresh.users()
        assert b.user_items("both") == [f"{CAT}:{i}" for i in (5, 4, 3, 2, 1)]
        for other in (b, fresh):
            pa, ia, _ = a.popularity_view()
            po, io, _ = other.popularity_view()
            assert ia == io
            np.testing.assert_allclose(pa, po)
            for item in ia:
                for d in ("out", "in"):
                    x, y = a.neighbours(item, d), other.neighbours(item, d)
                    np.testing.assert_array_equal(x.idx, y.idx)
                    np.testing.assert_array_equal(x.wq, y.wq)
        # The stores' reads match what is in SQL.
        snap = fresh.snapshot()
        for (x, y), (w, n) in snap["follow"].items():
            assert a.follow(x, y) == (pytest.approx(w), n)
    finally:
        for s in (a, b, fresh):
            s.close()



def test_a_schema_1_store_is_upgraded_on_open(db_url: str) -> None:
    """A Postgres store written before sparse pairs (a `follow` table, no schema row) is recomputed from its events."""
    store = CountStore.open(db_url)
    store.add_events(_events("alice", [1, 2, 3, 1]) + _events("bob", [2, 3], t0=2000.0))
    want = store.snapshot()
    store._db.execute("CREATE TABLE follow (a INTEGER NOT NULL, b INTEGER NOT NULL, w DOUBLE PRECISION NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (a, b))")
    store._db.execute("DELETE FROM pairs")
    store._db.execute("DELETE FROM meta WHERE key = 'schema'")
    store.close()
    calls: list[tuple[int, int]] = []
    again = CountStore.open(db_url, progress=lambda done, total: calls.append((done, total)))
    try:
        assert calls[-1] == (2, 2)
        assert again.snapshot() == want
        assert not again._db.has_table("follow")
    finally:
        again.close()

WRITE_CONVERSATION = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from interest_bot.bot.agent import open_checkpointer
    from interest_bot.bot.config import Settings

    settings = Settings(data_dir=Path(sys.argv[1]), sql_url=sys.argv[2])
    saver = open_checkpointer(settings)
    model = GenericFakeChatModel(messages=iter([AIMessage("Try Star Wars."), AIMessage("Then Alien.")]))
    agent = create_agent(model, tools=[], checkpointer=saver)
    cfg = {"configurable": {"thread_id": "alice::default"}}
    agent.invoke({"messages": [{"role": "user", "content": "I love space operas"}]}, cfg)
    agent.invoke({"messages": [{"role": "user", "content": "and some horror"}]}, cfg)
    print("WROTE", flush=True)
    """
)


def test_checkpointer_keeps_a_conversation_across_restarts(pg: PgCluster, db_url: str, tmp_path: Path) -> None:
    """A bot process writes two turns and exits; Postgres restarts; a new process continues the same thread."""
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.postgres import PostgresSaver

    from interest_bot.bot.agent import open_checkpointer
    from interest_bot.bot.config import Settings

    out = subprocess.run([sys.executable, "-c", WRITE_CONVERSATION, str(tmp_path), db_url], capture_output=True, text=True,
                         timeout=300, env={**os.environ})
    assert out.returncode == 0 and "WROTE" in out.stdout, out.stderr[-3000:]
    assert not (tmp_path / "conversations.sqlite").exists()  # nothing went to SQLite
    pg.restart()

    settings = Settings(data_dir=tmp_path, sql_url=db_url)
    saver = open_checkpointer(settings)
    assert isinstance(saver, PostgresSaver)  # sql_url is a Postgres URL
    try:
        cfg: RunnableConfig = {"configurable": {"thread_id": "alice::default"}}
        saved = saver.get_tuple(cfg)
        assert saved is not None
        texts = [m.text for m in saved.checkpoint["channel_values"]["messages"]]
        assert texts == ["I love space operas", "Try Star Wars.", "and some horror", "Then Alien."]

        model = GenericFakeChatModel(messages=iter([AIMessage("Maybe Contact.")]))
        agent = create_agent(model, tools=[], checkpointer=saver)
        state = agent.invoke({"messages": [{"role": "user", "content": "what next?"}]}, cfg)
        assert [m.text for m in state["messages"]][-2:] == ["what next?", "Maybe Contact."]
        assert len(state["messages"]) == 6  # the history came back from Postgres

        assert saver.get_tuple({"configurable": {"thread_id": "bob::default"}}) is None
        saver.delete_thread("alice::default")
        assert saver.get_tuple(cfg) is None
    finally:
        saver.conn.close()


def test_stores_reconnect_after_a_postgres_restart(pg: PgCluster, db_url: str) -> None:
    """After PostgreSQL restarts, the counts and the forget log work again at once, without restarting the bot."""
    from interest_bot.memory.forget_log import ForgetLog

    store, log = CountStore.open(db_url), ForgetLog.open(db_url)
    try:
        store.add_events(_events("alice", [1, 2]))
        log.record("zed", 1000.0)
        pg.restart()  # every open connection is cut
        assert log.forgotten_at("zed") == 1000.0  # a read on a cut connection: reopened and read again
        assert store.add_events(_events("bob", [1, 2], t0=2000.0)) == 2  # a write transaction begun on a cut connection
        assert store.user_items("bob") == [f"{CAT}:2", f"{CAT}:1"]
        assert store.follow_counts([f"{CAT}:1"], f"{CAT}:2")[f"{CAT}:1"][0] == 2
        log.record("yan", 2000.0)
        assert ForgetLog.open(db_url).forgotten_at("yan") == 2000.0
    finally:
        store.close()
        log.close()


def test_item_rows_round_trip_in_postgres(db_url: str) -> None:
    from interest_bot.memory.item_rows import ItemRow, ItemRowStore

    vec = np.linspace(-1.0, 1.0, 384).astype(np.float32)
    vec /= np.linalg.norm(vec)
    store = ItemRowStore.open(db_url)
    try:
        assert store.replace(CAT, "s1", [("7", ItemRow("Heat (1995)", ["Action", "Crime"], 12.0, 1995, vec))]) == 1
        other = ItemRowStore.open(db_url)  # another bot process sees the copied rows at once
        try:
            got = other.get(CAT, ["7", "8"])
            assert other.stamp(CAT) == "s1" and list(got) == ["7"]
            assert (got["7"].title, got["7"].categories, got["7"].year) == ("Heat (1995)", ["Action", "Crime"], 1995)
            np.testing.assert_allclose(got["7"].embedding, vec, atol=2e-3)
        finally:
            other.close()
    finally:
        store.close()
