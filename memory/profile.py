"""The profile math: decayed category scores and online interest clusters, folded one event at a time.

Pure Python + numpy, no store. `ProfileState` is the incremental state InterestMemory keeps
per user (and persists as a few records); `Profile` is the read-only view at a given time.
Every sum is kept decayed to one reference time `t_ref`, so folding an event (even an old,
back-dated one) is order-independent for the scores: w * 0.5 ** ((t_ref - ts) / half_life).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

DAY_S = 86400.0
# Cosine above which a signal joins an existing cluster (MiniLM: paraphrases ~0.7+, same topic ~0.5).
CLUSTER_THRESHOLD = 0.5
MAX_CLUSTERS = 8  # per polarity; the two closest merge beyond that
MAX_EXEMPLARS = 5  # signals kept per cluster for "because you said ..."
MAX_RECENT_ITEMS = 500
_EPS = 1e-9


def decay_factor(dt_s: float, half_life_days: float) -> float:
    """0.5 ** (dt / half_life): the weight left after dt seconds."""
    return 0.5 ** (dt_s / (half_life_days * DAY_S)) if dt_s > 0 else 1.0


def signal_weight(polarity: float, preference: float) -> float:
    """Signed strength of one signal: its polarity, scaled by how strongly a preference is stated."""
    # Preference in [0,1] scales 0.5..1 so that a flat but polar statement still counts.
    return float(polarity) * (0.5 + 0.5 * float(min(max(preference, 0.0), 1.0)))


@dataclass
class EventView:
    """What the profile needs from one stored interest event."""

    event_id: str
    embedding: np.ndarray
    categories: dict[str, float]
    polarity: float
    preference: float
    source: str
    item_id: str | None
    ts: float  # when the signal happened (may be back-dated)
    rt: float  # when it was recorded (wall clock); tombstones compare against this
    text: str | None = None


@dataclass
class CategoryScore:
    """A category's decayed evidence: short- and long-term sums (negative = dislike) and a blended score in [-1, 1]."""

    short: float
    long: float
    score: float


@dataclass
class InterestCluster:
    """One interest (positive) or aversion (negative): a centroid of similar signals and what formed it."""

    cluster_id: str
    polarity: int  # +1 positive, -1 negative
    weight: float  # long-term decayed strength
    centroid: np.ndarray  # unit vector, float32
    categories: dict[str, float]  # mean category probability of its signals, top first
    signal_ids: list[str]  # newest first
    texts: list[str]  # clause texts of signal_ids ('' when text is not stored)
    n_signals: int
    last_ts: float


@dataclass
class RecentItem:
    """An item the user mentioned, rated or saw, with the polarity they showed."""

    item_id: str
    polarity: float
    ts: float
    source: str
    event_id: str


@dataclass
class Profile:
    """A user's decayed multi-interest profile at one moment."""

    user_id: str
    categories: dict[str, CategoryScore]  # sorted by score, highest first
    positive: list[InterestCluster]  # heaviest first
    negative: list[InterestCluster]  # heaviest first
    recent_items: list[RecentItem]  # newest first, one entry per item
    n_signals: int
    last_update: float | None  # wall-clock time of the newest recorded signal
    now: float = 0.0

    @classmethod
    def of_items(cls, user_id: str, items: Sequence[tuple[str, float]]) -> Profile:
        """A profile that knows only these (item id, polarity) pairs, newest first: replays of rating logs score these."""
        recent = [RecentItem(item_id=i, polarity=float(p), ts=0.0, source="feedback", event_id="") for i, p in items]
        return cls(user_id=user_id, categories={}, positive=[], negative=[], recent_items=recent, n_signals=len(recent), last_update=None)

    def score(self, category: str) -> float:
        """The category's blended score (0 when nothing is known or it was forgotten)."""
        c = self.categories.get(category)
        return c.score if c else 0.0

    def top_categories(self, n: int = 5, negative: bool = False) -> list[str]:
        """The n most liked categories (or most disliked with negative=True)."""
        items = [(k, v.score) for k, v in self.categories.items() if (v.score < 0 if negative else v.score > 0)]
        items.sort(key=lambda kv: kv[1], reverse=not negative)
        return [k for k, _ in items[:n]]

    @property
    def seen_items(self) -> set[str]:
        """Every item the user mentioned, rated or saw (recommendations exclude these)."""
        return {r.item_id for r in self.recent_items}

    @property
    def liked_items(self) -> list[str]:
        """Recent items with positive polarity, newest first (the collaborative signal)."""
        return [r.item_id for r in self.recent_items if r.polarity > 0]

    @property
    def is_empty(self) -> bool:
        """True when nothing has been learned."""
        return self.n_signals == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (centroids as lists of floats)."""
        def cluster(c: InterestCluster) -> dict[str, Any]:
            d = asdict(c)
            d["centroid"] = [round(float(x), 6) for x in c.centroid]
            return d

        return {
            "user_id": self.user_id,
            "categories": {k: asdict(v) for k, v in self.categories.items()},
            "positive": [cluster(c) for c in self.positive],
            "negative": [cluster(c) for c in self.negative],
            "recent_items": [asdict(r) for r in self.recent_items],
            "n_signals": self.n_signals,
            "last_update": self.last_update,
            "now": self.now,
        }


@dataclass
class _Cluster:
    """Mutable cluster state; every sum decayed to the owning state's t_ref (long half-life)."""

    cid: int
    sign: int
    vec: np.ndarray  # decayed weighted sum of unit embeddings (float64)
    weight: float
    cats: dict[str, float]
    exemplars: list[tuple[str, str, float]]  # (event_id, text, ts), newest first
    n: int
    last_ts: float

    def centroid(self) -> np.ndarray:
        """The unit direction of this cluster."""
        norm = float(np.linalg.norm(self.vec))
        return (self.vec / norm if norm > 0 else self.vec).astype(np.float32)

    def absorb(self, other: _Cluster) -> None:
        """Merge another cluster (same reference time) into this one."""
        self.vec = self.vec + other.vec
        self.weight += other.weight
        for k, v in other.cats.items():
            self.cats[k] = self.cats.get(k, 0.0) + v
        self.exemplars = sorted(self.exemplars + other.exemplars, key=lambda e: -e[2])[:MAX_EXEMPLARS]
        self.n += other.n
        self.last_ts = max(self.last_ts, other.last_ts)


@dataclass
class ProfileState:
    """Incremental per-user profile state; fold() events in, view() a Profile out, records() to persist."""

    user_id: str
    short_half_life_days: float = 1.0
    long_half_life_days: float = 90.0
    t_ref: float = 0.0
    cats: dict[str, list[float]] = field(default_factory=dict)  # category -> [short, long] at t_ref
    clusters: list[_Cluster] = field(default_factory=list)
    recent: list[RecentItem] = field(default_factory=list)
    forgotten: dict[str, float] = field(default_factory=dict)  # category -> record time it was forgotten
    n_signals: int = 0
    last_update: float | None = None
    next_cid: int = 0
    version: int = 0

    # ----- folding -----------------------------------------------------------------------------

    def _advance(self, t: float) -> None:
        """Move the reference time forward to t, decaying every sum."""
        if t <= self.t_ref:
            return
        if self.t_ref > 0:
            ds = decay_factor(t - self.t_ref, self.short_half_life_days)
            dl = decay_factor(t - self.t_ref, self.long_half_life_days)
            for v in self.cats.values():
                v[0] *= ds
                v[1] *= dl
            for c in self.clusters:
                c.vec *= dl
                c.weight *= dl
                for k in c.cats:
                    c.cats[k] *= dl
        self.t_ref = t

    def fold(self, ev: EventView) -> None:
        """Add one event's evidence."""
        self._advance(ev.ts)
        age = self.t_ref - ev.ts
        fs, fl = decay_factor(age, self.short_half_life_days), decay_factor(age, self.long_half_life_days)
        w = signal_weight(ev.polarity, ev.preference)
        # A forgotten category only comes back through signals recorded after it was forgotten.
        cats = {c: p for c, p in ev.categories.items() if not (c in self.forgotten and ev.rt <= self.forgotten[c])}
        if w != 0.0:
            for c, p in cats.items():
                v = self.cats.setdefault(c, [0.0, 0.0])
                v[0] += w * p * fs
                v[1] += w * p * fl
            self._cluster(ev, cats, abs(w) * fl, 1 if w > 0 else -1)
        if ev.item_id:
            self._remember_item(RecentItem(ev.item_id, float(ev.polarity), float(ev.ts), ev.source, ev.event_id))
        self.n_signals += 1
        self.last_update = max(self.last_update or 0.0, ev.rt)

    def _cluster(self, ev: EventView, cats: dict[str, float], amount: float, sign: int) -> None:
        """Online clustering: join the most similar same-sign cluster above the threshold, else start one."""
        e = np.asarray(ev.embedding, dtype=np.float64).ravel()
        norm = float(np.linalg.norm(e))
        if norm == 0.0:
            return
        e = e / norm
        same = [c for c in self.clusters if c.sign == sign]
        best, best_sim = None, -2.0
        for c in same:
            sim = float(c.centroid() @ e)
            if sim > best_sim:
                best, best_sim = c, sim
        exemplar = (ev.event_id, ev.text or "", ev.ts)
        if best is not None and best_sim >= CLUSTER_THRESHOLD:
            best.vec = best.vec + amount * e
            best.weight += amount
            for k, p in cats.items():
                best.cats[k] = best.cats.get(k, 0.0) + amount * p
            best.exemplars = sorted([exemplar, *best.exemplars], key=lambda x: -x[2])[:MAX_EXEMPLARS]
            best.n += 1
            best.last_ts = max(best.last_ts, ev.ts)
            return
        new = _Cluster(self.next_cid, sign, amount * e, amount, {k: amount * p for k, p in cats.items()}, [exemplar], 1, ev.ts)
        self.next_cid += 1
        self.clusters.append(new)
        if len(same) + 1 > MAX_CLUSTERS:
            self._merge_closest(sign)

    def _merge_closest(self, sign: int) -> None:
        """Merge the two most similar clusters of one sign (keeps the count bounded)."""
        same = [c for c in self.clusters if c.sign == sign]
        cents = np.stack([c.centroid() for c in same])
        sims = cents @ cents.T
        np.fill_diagonal(sims, -np.inf)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        keep, gone = (same[i], same[j]) if same[i].weight >= same[j].weight else (same[j], same[i])
        keep.absorb(gone)
        self.clusters.remove(gone)

    def _remember_item(self, item: RecentItem) -> None:
        """Keep one entry per item (the newest), newest first, bounded."""
        for i, r in enumerate(self.recent):
            if r.item_id == item.item_id:
                if r.ts > item.ts:
                    return
                del self.recent[i]
                break
        pos = 0
        while pos < len(self.recent) and self.recent[pos].ts >= item.ts:
            pos += 1
        self.recent.insert(pos, item)
        del self.recent[MAX_RECENT_ITEMS:]

    # ----- reading -----------------------------------------------------------------------------

    def view(self, now: float) -> Profile:
        """The profile as of `now` (sums decayed from t_ref; `now` earlier than t_ref reads as t_ref)."""
        dt = max(0.0, now - self.t_ref) if self.t_ref else 0.0
        ds, dl = decay_factor(dt, self.short_half_life_days), decay_factor(dt, self.long_half_life_days)
        raw = {k: (v[0] * ds, v[1] * dl) for k, v in self.cats.items() if abs(v[0]) > _EPS or abs(v[1]) > _EPS}
        s_tot = sum(abs(s) for s, _ in raw.values()) or 1.0
        l_tot = sum(abs(long) for _, long in raw.values()) or 1.0
        # Each horizon as a share of its total evidence, so one burst of chat cannot drown years of taste.
        cats = {k: CategoryScore(s, long, 0.5 * s / s_tot + 0.5 * long / l_tot) for k, (s, long) in raw.items()}
        cats = dict(sorted(cats.items(), key=lambda kv: -kv[1].score))
        clusters = [self._cluster_view(c, dl) for c in self.clusters]
        clusters.sort(key=lambda c: -c.weight)
        return Profile(
            user_id=self.user_id,
            categories=cats,
            positive=[c for c in clusters if c.polarity > 0],
            negative=[c for c in clusters if c.polarity < 0],
            recent_items=list(self.recent),
            n_signals=self.n_signals,
            last_update=self.last_update,
            now=now,
        )

    @staticmethod
    def _cluster_view(c: _Cluster, dl: float) -> InterestCluster:
        """One cluster as seen from outside."""
        mean = {k: v / c.weight for k, v in c.cats.items() if c.weight > 0 and v > _EPS}
        top = dict(sorted(mean.items(), key=lambda kv: -kv[1])[:5])
        return InterestCluster(
            cluster_id=f"{'pos' if c.sign > 0 else 'neg'}{c.cid}",
            polarity=c.sign,
            weight=c.weight * dl,
            centroid=c.centroid(),
            categories=top,
            signal_ids=[e[0] for e in c.exemplars],
            texts=[e[1] for e in c.exemplars],
            n_signals=c.n,
            last_ts=c.last_ts,
        )

    # ----- persistence (as Chroma-style records) -------------------------------------------------

    def head_metadata(self) -> dict[str, Any]:
        """Scalar state of the profile (categories, recent items, tombstones) as one metadata dict."""
        return {
            "kind": "head",
            "user_id": self.user_id,
            "t_ref": float(self.t_ref),
            "n_signals": int(self.n_signals),
            "last_update": float(self.last_update or 0.0),
            "next_cid": int(self.next_cid),
            "version": int(self.version),
            "cats": json.dumps(self.cats, separators=(",", ":")),
            "recent": json.dumps([asdict(r) for r in self.recent], separators=(",", ":")),
            "forgotten": json.dumps(self.forgotten, separators=(",", ":")),
        }

    def cluster_records(self) -> list[tuple[int, np.ndarray, dict[str, Any]]]:
        """(cid, centroid, metadata) for every cluster."""
        out = []
        for c in self.clusters:
            meta = {
                "kind": "cluster",
                "user_id": self.user_id,
                "sign": int(c.sign),
                "cid": int(c.cid),
                "weight": float(c.weight),
                "norm": float(np.linalg.norm(c.vec)),
                "n": int(c.n),
                "last_ts": float(c.last_ts),
                "t_ref": float(self.t_ref),
                "cats": json.dumps(c.cats, separators=(",", ":")),
                "ex": json.dumps(c.exemplars, separators=(",", ":")),
            }
            out.append((c.cid, c.centroid(), meta))
        return out

    @classmethod
    def from_records(
        cls,
        user_id: str,
        head: dict[str, Any],
        clusters: list[tuple[np.ndarray, dict[str, Any]]],
        short_half_life_days: float,
        long_half_life_days: float,
    ) -> ProfileState:
        """Rebuild the state from its stored head metadata and cluster (embedding, metadata) pairs."""
        st = cls(user_id, short_half_life_days, long_half_life_days)
        st.t_ref = float(head.get("t_ref", 0.0))
        st.n_signals = int(head.get("n_signals", 0))
        st.last_update = float(head["last_update"]) if head.get("last_update") else None
        st.next_cid = int(head.get("next_cid", 0))
        st.version = int(head.get("version", 0))
        st.cats = {k: [float(v[0]), float(v[1])] for k, v in json.loads(head.get("cats") or "{}").items()}
        st.recent = [RecentItem(**r) for r in json.loads(head.get("recent") or "[]")]
        st.forgotten = {k: float(v) for k, v in json.loads(head.get("forgotten") or "{}").items()}
        for emb, meta in sorted(clusters, key=lambda cm: int(cm[1]["cid"])):
            # Clusters written with an older head may sit at another reference time: bring them to ours.
            dl = decay_factor(st.t_ref - float(meta.get("t_ref", st.t_ref)), long_half_life_days)
            vec = np.asarray(emb, dtype=np.float64) * float(meta["norm"]) * dl
            st.clusters.append(
                _Cluster(
                    cid=int(meta["cid"]),
                    sign=int(meta["sign"]),
                    vec=vec,
                    weight=float(meta["weight"]) * dl,
                    cats={k: float(v) * dl for k, v in json.loads(meta.get("cats") or "{}").items()},
                    exemplars=[tuple(e) for e in json.loads(meta.get("ex") or "[]")],
                    n=int(meta["n"]),
                    last_ts=float(meta["last_ts"]),
                )
            )
        return st
