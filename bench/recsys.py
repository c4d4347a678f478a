"""ML-100k replay benchmark: static and causal HR/NDCG/MRR@10 of the count-based recommender, popularity baseline, latency.

`python -m bench.recsys --dataset ml-100k [--users N]` prints one JSON object last and writes bench/results/recsys.json.
The backend interface (`feed`, `scores`) is what a plugin-based replay (InterestPlugin.feedback/recommend) plugs into.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from bench.common import percentile_ms, write_result
from bench.ml100k import EXPECTED_SHA, Metrics, Rating, Split, load_items, load_ratings, pessimistic_rank, split
from interest_bot.memory.catalog import ArrayCatalog, CatalogArrays
from interest_bot.memory.counts import CountConfig, CountEvent, CountStore
from interest_bot.memory.profile import Profile
from interest_bot.plugins.interest.plugin import single_threaded_blas
from interest_bot.plugins.interest.ranking.recommender import CandidateConfig, Recommender, RecommenderConfig
from interest_bot.plugins.interest.ranking.scoring import SequentialConfig, sequential_scores

CATALOG = "movielens-100k"


def qid(item: str) -> str:
    """Catalog-qualified item id, as the plugin stores it."""
    return f"{CATALOG}:{item}"


class Backend(Protocol):
    """What the replay needs from a system under test."""

    def feed(self, events: list[Rating]) -> None:
        """Learn from these interactions (in order)."""

    def scores(self, user: str, universe: list[str]) -> np.ndarray:
        """A score for every item of the universe for this user (higher = better)."""


class CountsBackend:
    """The CountStore + sequential scorer, used directly (no plugin)."""

    def __init__(self, path: Path, counts_cfg: CountConfig, seq_cfg: SequentialConfig):
        self.store = CountStore.open(path, counts_cfg)
        self.cfg = seq_cfg

    def feed(self, events: list[Rating]) -> None:
        """Bulk add (static) or one at a time (causal): both go through the same store code."""
        if len(events) == 1:
            r = events[0]
            self.store.add_event(r.user, qid(r.item), r.ts, f"{r.user}:{r.row}")
        else:
            self.store.add_events(CountEvent(r.user, qid(r.item), r.ts, f"{r.user}:{r.row}") for r in events)

    def scores(self, user: str, universe: list[str]) -> np.ndarray:
        """Sequential-rule scores, with a tiny log-popularity term so unseen pairs are not all tied."""
        s, ids = sequential_scores(self.store, self.store.user_items(user), self.cfg)
        pop, index, _ = self.store.popularity_view()
        pos = np.array([index.get(qid(i), 0) for i in universe])
        lp = np.log1p(pop[pos])
        lp = lp / max(lp.max(), 1.0)
        return s[pos] * (pos > 0) + 1e-9 * lp


def ml_catalog(items: dict[str, dict], pop: dict[str, int], dim: int = 384, seed: int = 0) -> ArrayCatalog:
    """An ML-100k catalog in CatalogArrays shape; embeddings are random unit vectors (latency only, no content signal)."""
    ids = sorted(items, key=int)
    qids = [qid(i) for i in ids]
    E = np.random.default_rng(seed).normal(size=(len(ids), dim)).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    arrays = CatalogArrays(
        name=CATALOG, ids=ids, qids=qids, titles=[items[i]["title"] for i in ids], texts=[""] * len(ids), categories=[items[i]["genres"] for i in ids],
        popularity=np.array([pop.get(i, 0) for i in ids], np.float32), embeddings=E,
        metadata=[{"year": int(items[i]["year"])} if items[i]["year"].isdigit() else {} for i in ids],
        row={i: r for r, i in enumerate(ids)} | {q: r for r, q in enumerate(qids)},
    )
    return ArrayCatalog(arrays)


def evaluate_recommender(rec: Recommender, store: CountStore, sp: Split, users: list[str]) -> tuple[Metrics, list[float]]:
    """Score each user's recommend(k=10) list (the product path: exclusions, blend, MMR) and time each call."""
    m, times = Metrics(), []
    for u in users:
        prof = Profile.of_items(u, [(i, 1.0) for i in store.user_items(u)])
        t0 = time.perf_counter()
        with single_threaded_blas():  # as InterestPlugin.recommend does
            out = rec.recommend(prof, k=10)
        times.append(time.perf_counter() - t0)
        ids = [r.item_id for r in out]
        target = qid(sp.test[u].item)
        m.add(ids.index(target) + 1 if target in ids else 11)
    return m, times


def global_order(events: list[Rating]) -> list[Rating]:
    """All interactions by time, ties in file order."""
    return sorted(events, key=lambda r: (r.ts, r.row))


def evaluate_static(backend: Backend, sp: Split, universe: list[str], target: str, users: list[str]) -> tuple[Metrics, list[float]]:
    """Score each user's held-out item (valid or test) with a full pessimistic ranking; also time each scoring."""
    pos = {it: i for i, it in enumerate(universe)}
    m, times = Metrics(), []
    for u in users:
        hist = [r.item for r in sp.train[u]] + ([sp.valid[u].item] if target == "test" else [])
        held = (sp.test if target == "test" else sp.valid)[u]
        t0 = time.perf_counter()
        s = backend.scores(u, universe)
        times.append(time.perf_counter() - t0)
        m.add(pessimistic_rank(s, pos[held.item], np.array([pos[i] for i in hist])))
    return m, times


def popularity_baseline(sp: Split, universe: list[str], users: list[str]) -> Metrics:
    """Exact train counts as the score for everyone (the anchor's popularity row)."""
    pos = {it: i for i, it in enumerate(universe)}
    pop = np.zeros(len(universe))
    for u in sp.train:
        for r in sp.train[u]:
            pop[pos[r.item]] += 1
    m = Metrics()
    for u in users:
        hist = [pos[r.item] for r in sp.train[u]] + [pos[sp.valid[u].item]]
        m.add(pessimistic_rank(pop, pos[sp.test[u].item], np.array(hist)))
    return m


def run_causal(backend: Backend, sp: Split, all_events: list[Rating], universe: list[str], users: set[str]) -> tuple[Metrics, Metrics, float]:
    """Replay everything in time order; each held-out interaction is scored just before it is learned."""
    pos = {it: i for i, it in enumerate(universe)}
    held = {(r.user, r.row): "valid" for r in sp.valid.values()} | {(r.user, r.row): "test" for r in sp.test.values()}
    seen: dict[str, list[int]] = {}
    mv, mt = Metrics(), Metrics()
    feed_s = 0.0
    for r in global_order(all_events):
        kind = held.get((r.user, r.row))
        if kind and r.user in users:
            s = backend.scores(r.user, universe)
            (mv if kind == "valid" else mt).add(pessimistic_rank(s, pos[r.item], np.array(seen.get(r.user, []), dtype=np.int64)))
        t0 = time.perf_counter()
        backend.feed([r])
        feed_s += time.perf_counter() - t0
        seen.setdefault(r.user, []).append(pos[r.item])
    return mv, mt, len(all_events) / feed_s


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and write bench/results/recsys.json."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k", choices=["ml-100k"])
    ap.add_argument("--users", type=int, default=0, help="evaluate only the first N users (smoke runs); 0 = all")
    ap.add_argument("--no-causal", action="store_true")
    ap.add_argument("--name", default="recsys")
    ap.add_argument("--catalog-dir", default="", help="an items-only ingested data dir to copy (default: ingest one now)")
    ap.add_argument("--chat-users", type=int, default=50, help="seeded subset of users for the chat replay (observe per item)")
    ap.add_argument("--no-plugin", action="store_true", help="direct backend only")
    args = ap.parse_args(argv)

    ratings = load_ratings()
    sp = split(ratings)
    sha = sp.sha()
    if sha != EXPECTED_SHA:
        raise SystemExit(f"split sha {sha} != {EXPECTED_SHA}: the protocol is not reproduced")
    universe = sorted(load_items(), key=int)
    users = sorted(sp.train, key=int)
    if args.users:
        users = users[: args.users]
    counts_cfg, seq_cfg = CountConfig(), RecommenderConfig().sequential
    result: dict = {"dataset": args.dataset, "test_pairs_sha1": sha, "n_users": len(users), "n_items": len(universe)}
    with tempfile.TemporaryDirectory() as tmp:
        train = [r for u in sp.train for r in sp.train[u]]
        b = CountsBackend(Path(tmp) / "valid.db", counts_cfg, seq_cfg)
        b.feed(global_order(train))
        mv, _ = evaluate_static(b, sp, universe, "valid", users)
        b = CountsBackend(Path(tmp) / "test.db", counts_cfg, seq_cfg)
        t0 = time.perf_counter()
        b.feed(global_order(train + list(sp.valid.values())))
        bulk_s = time.perf_counter() - t0
        mt, times = evaluate_static(b, sp, universe, "test", users)
        result |= mt.as_dict() | mv.as_dict("valid_")
        result["bulk_events_per_s"] = round((len(train) + len(sp.valid)) / bulk_s, 1)
        result["score_p50_ms"] = percentile_ms(times, 50)
        result["score_p95_ms"] = percentile_ms(times, 95)
        pop: dict[str, int] = {}
        for r in train + list(sp.valid.values()):
            pop[r.item] = pop.get(r.item, 0) + 1
        rec_cfg = RecommenderConfig(sequential=seq_cfg)
        rec = Recommender(ml_catalog(load_items(), pop), b.store, rec_cfg)
        rec.recommend(Profile.of_items("warm-up", []), k=10)  # build caches once
        mr, rtimes = evaluate_recommender(rec, b.store, sp, users)
        result |= mr.as_dict("recommender_")
        result["recommend_p50_ms"] = percentile_ms(rtimes, 50)
        result["recommend_p95_ms"] = percentile_ms(rtimes, 95)
        # The same catalog ranked through candidate generation (how catalogs above `whole_catalog` items are ranked).
        cand_cfg = dataclasses.replace(rec_cfg, candidates=CandidateConfig(whole_catalog=0))
        rec = Recommender(rec.catalog, b.store, cand_cfg)
        mc, ctimes = evaluate_recommender(rec, b.store, sp, users)
        result |= mc.as_dict("candidates_recommender_")
        result["candidates_recommend_p50_ms"] = percentile_ms(ctimes, 50)
        if not args.no_causal:
            b = CountsBackend(Path(tmp) / "causal.db", counts_cfg, seq_cfg)
            cv, ct, eps = run_causal(b, sp, ratings, universe, set(users))
            result |= ct.as_dict("causal_") | cv.as_dict("causal_valid_")
            result["replay_events_per_s"] = round(eps, 1)
    result |= {f"pop_{k}": v for k, v in popularity_baseline(sp, universe, users).as_dict().items()}
    result["config"] = {"counts": dataclasses.asdict(counts_cfg), "recommender": dataclasses.asdict(RecommenderConfig())}
    result["backend"] = "counts+sequential (direct)"
    if not args.no_plugin:
        direct = {k: v for k, v in result.items() if k not in {"dataset", "test_pairs_sha1", "n_users", "n_items", "config"} and not k.startswith("pop_")}
        plugin_result = run_plugin(sp, ratings, users, args)
        result = {k: v for k, v in result.items() if k not in direct} | plugin_result | {"direct": direct}
    write_result(args.name, result)
    return result


def run_plugin(sp: Split, ratings: list[Rating], users: list[str], args: argparse.Namespace) -> dict:
    """The product path: InterestPlugin on real Chroma + counts, catalog ingested items-only (bench/plugin_replay.py)."""
    from bench import plugin_replay as pr
    from interest_bot.plugins.interest.encoding.encoder import load_encoder

    out: dict = {"backend": "InterestPlugin (real Chroma + counts; feedback_many replay; recommend k=10)"}
    encoder = load_encoder()
    if args.users:  # smoke runs: replay only the evaluated users' interactions
        keep = set(users)
        ratings = [r for r in ratings if r.user in keep]
    train = [r for u in users for r in sp.train[u]]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        template = Path(args.catalog_dir) if args.catalog_dir else pr.ingest_items_only(root / "template")
        out["items_only_ingest_s"] = round(time.perf_counter() - t0, 1)
        # Static valid: the state holds every user's train interactions only.
        plugin = pr.open_plugin(pr.fresh_copy(template, root / "valid"), encoder)
        out["config"] = plugin.recommender.config_dict()
        out["static_replay_events_per_s"] = round(pr.feed_all(plugin, train), 1)
        mv, _, _ = pr.evaluate_static(plugin, sp.valid, users)
        plugin.close()
        out |= mv.as_dict("valid_")
        # Causal + static test in one replay: train + valid in time order, each held-out interaction scored just
        # before its time; test interactions are scored but never fed, so the replay ends in the static-test state.
        plugin = pr.open_plugin(pr.fresh_copy(template, root / "test"), encoder)
        test_rows = {(r.user, r.row) for r in sp.test.values()}
        cv, ct, eps, ctimes = pr.run_causal(plugin, sp, ratings, set(users), skip_feed=test_rows)
        out |= ct.as_dict("causal_") | cv.as_dict("causal_valid_")
        out["replay_events_per_s"] = round(eps, 1)
        out["causal_recommend_p50_ms"] = percentile_ms(ctimes, 50)
        mt, times, per_user = pr.evaluate_static(plugin, sp.test, users)
        out |= mt.as_dict()
        out["recommend_p50_ms"] = percentile_ms(times, 50)
        out["recommend_p95_ms"] = percentile_ms(times, 95)
        plugin.close()
        # Chat: a seeded subset of users tells the plugin about each history item in a sentence (observe: classifier +
        # title linking); everyone else's interactions still arrive as feedback, so the counts see the whole world.
        chatters = pr.chat_users(users, args.chat_users)
        plugin = pr.open_plugin(pr.fresh_copy(template, root / "chat"), encoder)
        t0 = time.perf_counter()
        stats = pr.run_chat(plugin, train + [sp.valid[u] for u in users], set(chatters), load_items())
        out["chat_replay_s"] = round(time.perf_counter() - t0, 1)
        mc, _, _ = pr.evaluate_static(plugin, sp.test, chatters)
        plugin.close()
        out |= mc.as_dict("chat_")
        mf = Metrics()
        for u in chatters:
            mf.add(per_user[u])
        out |= mf.as_dict("chat_feedback_")  # the feedback path on the same users, for comparison
        out["chat_users"] = len(chatters)
        out["chat_sentences"] = stats["sentences"]
        out["chat_title_link_rate"] = round(stats["linked"] / max(stats["sentences"], 1), 4)
    return out


if __name__ == "__main__":
    main()
