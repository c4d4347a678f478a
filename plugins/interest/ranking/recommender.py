"""Profile + catalog + counts -> ranked, explained recommendations.

Blend per item: collaborative (sequential rules over the user's recent items), multi-interest cosine
(best positive interest cluster), category-score match, a popularity prior whose weight shrinks as
the user gives more signals; negatives push disliked categories and items near disliked ones down;
MMR re-ranks the head for diversity; ties break on the qualified item id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from interest_bot.memory.catalog import CatalogArrays, CatalogStats, ItemRows
from interest_bot.memory.counts import CountStore
from interest_bot.memory.item_positions import ItemPositions
from interest_bot.memory.profile import InterestCluster, Profile

# The config types are re-exported: callers build a Recommender and its config from this module.
from .config import CandidateConfig as CandidateConfig
from .config import RecommenderConfig as RecommenderConfig
from .scoring import contributions, sparse_sequential_scores
from .series import SeriesIndex, SeriesMembers, series_key
from .titles import TitleIndex


@dataclass
class Recommendation:
    """One recommended item with the signals that put it there."""

    item_id: str
    title: str
    categories: list[str]
    score: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"item_id": self.item_id, "title": self.title, "categories": list(self.categories), "score": round(float(self.score), 6), "reasons": list(self.reasons)}


PLACEHOLDER_TITLES = frozenset({"", "unknown", "untitled", "n a", "na", "none", "null", "tbd", "title"})


def is_placeholder_title(title: str) -> bool:
    """True for a missing or placeholder title ("unknown"): such an item is never recommended."""
    return re.sub(r"[^a-z0-9]+", " ", (title or "").lower()).strip() in PLACEHOLDER_TITLES


def count_phrase(n: int, noun: str) -> str:
    """ "1 rating", "12 ratings": a count with its noun in the right number."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


class CatalogLike(Protocol):
    """What the recommender reads from a catalog: memory.catalog.Catalog (Chroma) or ArrayCatalog (in process)."""

    name: str

    def qualify(self, item_id: str) -> str: ...

    def stats(self) -> CatalogStats: ...

    def items(self) -> CatalogArrays: ...

    def rows(self, item_ids: Sequence[str]) -> ItemRows: ...

    def search(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[list[tuple[str, float]]]: ...

    def titles(self) -> tuple[list[str], list[str], list[int | None], list[float]]: ...


def mmr_order(score: np.ndarray, E: np.ndarray, pool: list[int], k: int, lam: float) -> list[int]:
    """Maximal marginal relevance over a pool in score order: k passes of O(pool) each (ties go to the earlier)."""
    rows = np.asarray(pool, dtype=np.int64)
    s = score[rows].astype(np.float64)
    rel = (s - s.min()) / max(float(s.max() - s.min()), 1e-9)
    pooled = E[rows]
    sim_max = np.zeros(len(rows))
    alive = np.ones(len(rows), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(rows))):
        value = np.where(alive, lam * rel - (1 - lam) * sim_max, -np.inf)
        best = int(np.argmax(value))  # the first maximum: the earliest in score order
        chosen.append(int(rows[best]))
        alive[best] = False
        sim_max = np.maximum(sim_max, (pooled @ pooled[best]).astype(np.float64))
    return chosen


def best_rows(score: np.ndarray, banned: np.ndarray, qid_rank: np.ndarray, n: int) -> np.ndarray:
    """The n highest-scoring rows not banned, best first; ties go to the lower qid rank."""
    cand = np.flatnonzero(~banned)
    if n < len(cand):
        # Only the n best scores and every tie with the last of them can make the cut: sort those, not all rows.
        neg = -score[cand]
        last = np.partition(neg, n - 1)[n - 1]
        if not np.isnan(last):  # fewer than n real scores: keep every row, NaN ones sort last below
            cand = cand[neg <= last]
    # argsort on (-score, qid): lexsort's last key is primary; qids compare through their precomputed rank.
    return cand[np.lexsort((qid_rank[cand], -score[cand]))][:n]


class UptakeSource(Protocol):
    """What users here took up lately (plugins/interest/ranking/uptake.py)."""

    def weights(self, qids: Sequence[str], positions: ItemPositions | None = None) -> np.ndarray: ...

    def top(self, n: int, prefix: str = "") -> list[str]: ...


class Recommender:
    """Ranks a catalog for one profile: candidates from bounded sources (or the whole of a small catalog), then the full
    blend over those rows only. Counts are read through the store's bounded caches (SQL only on a cache miss)."""

    def __init__(self, catalog: CatalogLike, counts: CountStore | None, config: RecommenderConfig | None = None) -> None:
        self.catalog = catalog
        self.counts = counts
        self.config = config or RecommenderConfig()
        self._whole: tuple[int, ItemRows, dict[str, Any]] | None = None
        # The whole rows' slots in the count store and in the uptake index, extended as those indexes grow.
        self._whole_positions: tuple[ItemRows, ItemPositions, ItemPositions] | None = None
        self._titles: TitleIndex | None = None
        self._series: SeriesMembers | None = None

    # ----- catalog-derived caches ------------------------------------------------------------

    def _stats(self) -> CatalogStats:
        return self.catalog.stats()

    def _is_whole(self) -> bool:
        """True when the catalog is small enough to rank whole (its rows held in process)."""
        return self._stats().count <= self.config.candidates.whole_catalog

    def _whole_rows(self) -> tuple[ItemRows, dict[str, Any]]:
        """The whole catalog's rows and their features, rebuilt when the catalog's arrays change (a new ingest)."""
        arrays = self.catalog.items()
        if self._whole is None or self._whole[0] != id(arrays):
            rows = arrays.rows()
            self._whole = (id(arrays), rows, self._features(rows))
            by_qid = {q: r for r, q in enumerate(rows.qids)}  # the stores key items by qualified id only
            self._whole_positions = (rows, ItemPositions(by_qid, len(rows), 0), ItemPositions(by_qid, len(rows), -1))
        return self._whole[1], self._whole[2]

    def _positions(self, rows: ItemRows) -> tuple[ItemPositions | None, ItemPositions | None]:
        """(count store, uptake) positions kept for these rows: only the whole catalog's rows have them."""
        held = self._whole_positions
        return (held[1], held[2]) if held is not None and held[0] is rows else (None, None)

    def _features(self, rows: ItemRows) -> dict[str, Any]:
        """Per-row features the blend reads: normalized log popularity, category one-hot, placeholder flags, id order."""
        stats = self._stats()
        lp = np.log1p(np.maximum(rows.popularity, 0))
        top = np.log1p(max(stats.popularity_max, 0.0))
        cats = stats.categories
        cidx = {c: i for i, c in enumerate(cats)}
        onehot = np.zeros((len(rows), len(cats)), np.float32)
        for r, cs in enumerate(rows.categories):
            for c in cs:
                if c in cidx:
                    onehot[r, cidx[c]] = 1.0
        # "Unknown" (2011) is a film; ML-100k's "unknown" is a placeholder with no year: the year tells them apart.
        placeholder = np.array([not y and is_placeholder_title(t) for t, y in zip(rows.titles, rows.years)], bool)
        return {
            "logpop": lp / max(float(top), 1e-9), "cats": cats, "onehot": onehot, "placeholder": placeholder,
            "qid_rank": np.argsort(np.argsort(np.array(rows.qids), kind="stable"), kind="stable"),
            "series": SeriesIndex(rows.titles) if self.config.series else None,
        }

    def warm_up(self) -> None:
        """Load what the first request would: a large catalog's vector index and its popular items' rows."""
        if self._is_whole():
            self._whole_rows()
            return
        stats, cc = self._stats(), self.config.candidates
        popular = self.catalog.rows([i for name, ids in stats.popular.items() for i in ids[: cc.popular if name == "" else cc.per_category]])
        if len(popular):
            self.catalog.search(popular.embeddings[:1], 1)  # any real item vector: what loads the index is the query

    def _title_index(self) -> TitleIndex:
        """Catalog titles for linking mentions: built on first use from titles only (no embeddings, no texts)."""
        if self._titles is None:
            ids, titles, years, pop = self.catalog.titles()
            self._titles = TitleIndex(ids, titles, years, pop)
        return self._titles

    def _series_siblings(self, titles: list[str]) -> list[str]:
        """Raw ids of the items in these titles' series (for a large catalog's candidates), built on first use."""
        if self._series is None:
            ids, names, _, _ = self.catalog.titles()
            self._series = SeriesMembers(ids, names)
        return self._series.siblings(titles, self.config.candidates.series)

    def link_titles(self, text: str) -> list[str]:
        """Raw item ids of catalog titles mentioned in the text."""
        return self._title_index().link(text)

    def mentioned_titles(self, text: str) -> list[str]:
        """Raw item ids of every multi-word catalog title the text contains, in any case (for checking replies)."""
        return self._title_index().mentions(text)

    def distinctive_titles(self, text: str) -> list[str]:
        """Raw item ids of titles the text names in any case whose words are not everyday ones ("pulp fiction")."""
        return self._title_index().distinctive(text)

    def popularity_weight(self, n_signals: int) -> float:
        """The cold-start prior's weight: full with no signals, halving every `popularity_half_signals`."""
        return float(self.config.popularity * 0.5 ** (max(n_signals, 0) / self.config.popularity_half_signals))

    @staticmethod
    def needs_interests(profile: Profile) -> bool:
        """True when the agent should ask what the user likes (nothing learned yet)."""
        return profile.n_signals == 0

    # ----- candidates ------------------------------------------------------------------------

    def _collaborative(self, liked: list[str], sources: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(count-store indices, scores) of what follows or precedes the user's recent items, indices ascending."""
        if self.counts is None or not liked:
            return np.zeros(0, np.int64), np.zeros(0)
        mention = self.config.mention_vote
        weights = None if mention == 1.0 else [mention if s == "item" else 1.0 for s in sources]
        return sparse_sequential_scores(self.counts, liked, self.config.sequential, weights)

    def _candidates(
        self, collab: tuple[np.ndarray, np.ndarray], centroids: np.ndarray, cat_scores: dict[str, float], extra: Iterable[str], banned: set[str], uptake: UptakeSource | None
    ) -> tuple[ItemRows, dict[str, Any]]:
        """Rows to rank: the whole of a small catalog; else the union of bounded sources, minus what is excluded."""
        if self._is_whole():
            return self._whole_rows()
        cc = self.config.candidates
        stats = self._stats()
        prefix = self.catalog.qualify("")
        ids: list[str] = []
        idx, scores = collab
        if len(idx) and self.counts is not None:
            _, _, names = self.counts.popularity_view()
            best = idx[np.argsort(-scores, kind="stable")[: cc.collaborative * 2]]  # other catalogs' items share the store
            ids += [q for q in (names[i] for i in best) if q and q.startswith(prefix)][: cc.collaborative]
        if len(centroids):
            for hits in self.catalog.search(centroids, cc.per_cluster):
                ids += [q for q, _ in hits]
        ids += stats.popular.get("", [])[: cc.popular]
        liked_cats = sorted((c for c, v in cat_scores.items() if v > 0), key=lambda c: (-cat_scores[c], c))[: cc.categories]
        for c in liked_cats:
            ids += stats.popular.get(c, [])[: cc.per_category]
        ids += list(extra)
        if uptake is not None and self.config.uptake:
            ids += uptake.top(cc.uptake, prefix)
        qualified = (q if q.startswith(prefix) else prefix + q for q in ids)
        rows = self.catalog.rows([q for q in dict.fromkeys(qualified) if q not in banned])
        return rows, self._features(rows)

    def _vectors(self, qids: Sequence[str], rows: ItemRows) -> list[np.ndarray]:
        """Embeddings of these items: from the ranked rows when there, else read from the catalog."""
        out = [rows.embeddings[rows.row[q]] for q in qids if q in rows.row]
        missing = [q for q in qids if q not in rows.row]
        if missing:
            got = self.catalog.rows(missing)
            out += list(got.embeddings) if len(got) else []
        return out

    # ----- ranking ---------------------------------------------------------------------------

    def recommend(
        self, profile: Profile, k: int = 10, exclude: Iterable[str] = (), talk_votes: Mapping[str, float] | None = None, uptake: UptakeSource | None = None
    ) -> list[Recommendation]:
        """The top k items for this profile, excluding seen/rated/mentioned items and `exclude`.

        `talk_votes` (qualified item id -> vote) are what users who talked like this one went on to take up;
        `uptake` says how much users here took each item up lately."""
        cfg = self.config
        if k <= 0 or self._stats().count == 0:
            return []
        recent = [(r.item_id, r.polarity) for r in profile.recent_items]
        positive = [r for r in profile.recent_items if r.polarity >= 0]
        liked = [r.item_id for r in positive]
        disliked = [i for i, p in recent if p < 0]
        n_signals = profile.n_signals
        cat_scores = {name: v.score for name, v in profile.categories.items()}
        pos_cl = profile.positive
        V = np.zeros((0, 0), np.float32)
        if pos_cl:
            V = np.stack([np.asarray(cl.centroid, np.float32) for cl in pos_cl])
            V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
        excluded = set(exclude) | {i for i, _ in recent}
        collab_sparse = self._collaborative(liked, [r.source for r in positive])
        votes = dict(talk_votes or {}) if cfg.neighbours else {}
        # The user's recent items as rows: their titles name the series they follow (read before ranking only when the
        # series blend is on), and reasons name them.
        sources = self.catalog.rows(liked[: cfg.sequential.recent]) if liked and cfg.series else None
        extra: list[str] = list(votes)
        if cfg.series and sources is not None and not self._is_whole():
            extra += self._series_siblings(sources.titles)
        rows, c = self._candidates(collab_sparse, V, cat_scores, extra, excluded, uptake)
        n = len(rows)
        if n == 0:
            return []

        parts: dict[str, np.ndarray] = {}
        count_positions, uptake_positions = self._positions(rows)
        counted, mentions, recent_pop = self._count_views(rows, count_positions)
        # Collaborative: what follows/precedes the user's recent positive or neutral items.
        collab = np.zeros(n)
        idx, values = collab_sparse
        if len(idx):
            pos = np.minimum(np.searchsorted(idx, counted), len(idx) - 1)
            collab = np.where((counted > 0) & (idx[pos] == counted), values[pos], 0.0)
            if cfg.collab_norm == "max" and collab.max() > 0:
                collab = collab / collab.max()
        parts["collab"] = collab
        # Multi-interest content: each positive cluster retrieves on its own; an item keeps its best cluster.
        E = rows.embeddings
        content = np.zeros(n)
        best_cluster = np.full(n, -1)
        if pos_cl and E.size:
            w = np.array([cl.weight for cl in pos_cl], np.float64)
            w = 0.5 + 0.5 * w / max(w.max(), 1e-9)  # a weaker interest still gets its own candidates
            sims = (E @ V.T) * w[None, :]
            best_cluster = sims.argmax(1)
            content = np.clip(sims.max(1), 0, None)
        parts["content"] = content
        # Category match from the decayed category scores (negatives included).
        cvec = np.array([cat_scores.get(cat, 0.0) for cat in c["cats"]], np.float32)
        counts_per_item = np.maximum(c["onehot"].sum(1), 1)
        catmatch = (c["onehot"] @ np.clip(cvec, 0, None)) / counts_per_item
        parts["category"] = catmatch
        popw = self.popularity_weight(n_signals)
        score = cfg.collaborative * collab + cfg.content * content + cfg.category * catmatch + popw * c["logpop"]
        if cfg.live_popularity and recent_pop.max() > 0:
            score = score + cfg.live_popularity * recent_pop / recent_pop.max()
        talk = np.zeros(n)
        if votes:
            for q, v in votes.items():
                r = rows.row.get(q)
                if r is not None:
                    talk[r] += v
            if talk.max() > 0:
                talk = talk / talk.max()
                score = score + cfg.neighbours * talk
        parts["talk"] = talk
        parts["uptake"] = uptake.weights(rows.qids, uptake_positions) if cfg.uptake and uptake is not None else np.zeros(n)
        score = score + cfg.uptake * parts["uptake"]
        series_index: SeriesIndex | None = c["series"]
        parts["series"] = series_index.same_series(sources.titles) if series_index is not None and sources is not None else np.zeros(n, bool)
        score = score + cfg.series * parts["series"]

        # Thin evidence (nothing liked yet): an item's support (ratings + mentions) weighs in, so a dislike-only
        # profile is not answered with one-rating items.
        # max, not sum: a demo catalog's counts may be seeded from the very ratings its popularity counts.
        support = np.maximum(rows.popularity, mentions)
        thin = not liked and not pos_cl and not (cvec > 0).any()
        if thin and cfg.thin_support_penalty:
            score = score - cfg.thin_support_penalty * (support < cfg.min_support)

        # Negatives: disliked categories (those near the strongest dislike: a soft classifier spreads a little
        # dislike over every category), items near a disliked item or negative cluster.
        neg = np.clip(-cvec, 0, None)
        strong = neg >= max(cfg.dislike_share * float(neg.max(initial=0.0)), 1e-9)
        bad = (c["onehot"] @ (neg * strong)) > 0
        neg_vecs = [np.asarray(cl.centroid, np.float32) for cl in profile.negative]
        neg_vecs += self._vectors(disliked, rows)
        if neg_vecs and E.size:
            N = np.stack(neg_vecs)
            N /= np.maximum(np.linalg.norm(N, axis=1, keepdims=True), 1e-12)
            bad |= (E @ N.T).max(1) >= cfg.near_dislike_cos
        score = score - cfg.dislike_penalty * bad

        # Exclusions: everything the user saw, rated or mentioned, and what the caller asks.
        banned = c["placeholder"].copy()
        for q in excluded:
            r = rows.row.get(q)
            if r is not None:
                banned[r] = True
        lam = cfg.cold_mmr_lambda if n_signals == 0 else cfg.mmr_lambda
        order = self._rank(score, banned, E, c["qid_rank"], min(k, int((~banned).sum())), lam)
        if sources is None and liked and parts["collab"][order].any():
            sources = self.catalog.rows(liked[: cfg.sequential.recent])
        return [
            self._explain(rows, r, float(score[r]), parts, popw, liked, sources, pos_cl, best_cluster, cat_scores, bool(bad[r]), int(mentions[r]))
            for r in order
        ]

    def _count_views(self, rows: ItemRows, positions: ItemPositions | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: its index in the count store (0 = none), its positive events there, its recent popularity."""
        n = len(rows)
        if self.counts is None:
            return np.zeros(n, np.int64), np.zeros(n), np.zeros(n)
        if positions is not None:
            counted, pop = self.counts.positions(positions)
        else:
            pop, index, _ = self.counts.popularity_view()
            counted = np.fromiter((index.get(q, 0) for q in rows.qids), np.int64, n)
        mentions = np.where(counted > 0, pop[counted], 0.0)
        if not self.config.live_popularity:  # its first read replays the whole event log: only when the blend uses it
            return counted, mentions, np.zeros(n)
        recent = self.counts.recent_popularity()
        return counted, mentions, np.where(counted > 0, recent[counted], 0.0)

    def _rank(self, score: np.ndarray, banned: np.ndarray, E: np.ndarray, qid_rank: np.ndarray, k: int, lam: float) -> list[int]:
        """Top k by score with MMR over a head pool; ties break on the qualified id (stable, nothing held out)."""
        if k <= 0 or banned.all():
            return []
        ranked = best_rows(score, banned, qid_rank, max(self.config.mmr_pool, k))
        if lam >= 1.0 or not E.size:
            top: list[int] = ranked[:k].tolist()
            return top
        return mmr_order(score, E, ranked.tolist(), k, lam)

    def _explain(
        self, rows: ItemRows, r: int, score: float, parts: dict[str, Any], popw: float, liked: list[str], sources: ItemRows | None, clusters: list[InterestCluster],
        best_cluster: np.ndarray, cat_scores: dict[str, float], bad: bool, mentions: int,
    ) -> Recommendation:
        """Readable reasons, each pointing at a stored signal or a real count."""
        qid = rows.qids[r]

        def title_of(q: str) -> str:
            return sources.titles[sources.row[q]] if sources is not None and q in sources.row else q

        reasons: list[str] = []
        if parts["collab"][r] > 0 and self.counts is not None:
            for src, fwd, back in contributions(self.counts, liked, qid, self.config.sequential)[:2]:
                if fwd:
                    reasons.append(f"people who watched {title_of(src)} went on to this ({fwd} times)")
                else:
                    reasons.append(f"people often watched this just before {title_of(src)} ({back} times)")
        if parts["content"][r] > 0.3 and clusters and best_cluster[r] >= 0:
            cl = clusters[int(best_cluster[r])]
            texts = [t for t in cl.texts if t]
            if texts:
                reasons.append(f"because you said '{texts[0]}'")
            else:
                # InterestCluster.categories is ordered top first; with text storage off it is what is left to say.
                top = next(iter(cl.categories), None)
                if top:
                    reasons.append(f"close to your interest in {top}")
        if parts["series"][r] and sources is not None:
            stem = series_key(rows.titles[r])
            sibling = next((t for t in sources.titles if series_key(t) == stem), None)
            if sibling:
                reasons.append(f"from the same series as {sibling}")
        if parts.get("talk") is not None and parts["talk"][r] >= 0.5:
            reasons.append("people who talked like you went on to pick this")
        if parts["uptake"][r] >= 0.5:
            reasons.append("among the suggestions people here took up lately")
        good = sorted((c for c in rows.categories[r] if cat_scores.get(c, 0) > 0), key=lambda c: (-cat_scores[c], c))
        if good and parts["category"][r] > 0:
            reasons.append(f"matches your interest in {good[0]}")
        if not reasons or popw >= 0.5 * self.config.popularity:
            reasons.append(self._support_reason(int(rows.popularity[r]), mentions))
        if bad:
            reasons.append("close to something you disliked; shown for lack of alternatives")
        return Recommendation(item_id=qid, title=rows.titles[r], categories=list(rows.categories[r]), score=round(score, 6), reasons=reasons)

    def _support_reason(self, ratings: int, mentions: int) -> str:
        """What the item's support really is: "popular: 583 ratings" only when it is among the most supported."""
        # Picks are named only for items without ratings: a demo catalog's counts are seeded from those ratings.
        said = count_phrase(ratings, "rating") if ratings else count_phrase(mentions, "pick") + " by other users" if mentions else ""
        if not said:
            return "a catalog item you have not seen yet; tell me what you like to narrow it down"
        top = self._stats().popularity_q90
        return f"popular: {said}" if ratings >= max(top, 1.0) else f"well known here: {said}" if ratings + mentions >= self.config.min_support else f"less known: {said}"

    def config_dict(self) -> dict[str, Any]:
        """The settings in use, for benchmark reports."""
        return asdict(self.config)
