"""The seeded synthetic workload of bench.scale: a catalog with taste clusters and a user history with sessions.

Everything is drawn from numpy Generators seeded from `seed` (one per part), so a point is the same on every run
and on every machine; nothing is held as per-event Python objects (arrays only, event ids are made per batch).

Items (N of them):
- C taste clusters (default 64), each a random unit vector ("centre") in 384 dims, the encoder's width.
- Item i has a cluster c(i) (a balanced random assignment) and the vector normalize(centre[c(i)] + N(0, 0.05^2) per dim): cosine
  about 0.7 to its centre, about 0.5 to an item of the same cluster, about 0 across clusters. These vectors are
  SYNTHETIC: no text is embedded (MiniLM over 1M texts would take about 20 minutes on this machine).
- Genres: each cluster has 3 home genres among the 18 MovieLens-100k genres (ML-100k's 19th label, "unknown",
  is its placeholder for "no genre" and never a category: memory/sources.py drops it too); an item has 1 to 3
  genres, each a home genre of its cluster with probability 0.8, else any genre.
- Popularity is Zipf: item i has a random rank r(i) (a permutation) and weight 1 / (r(i) + 1)^1.1. Its catalog
  `popularity` is its expected number of events in the history.
- Title and text "Item <i> (cluster <c>)": short, and holding the id, so bench.scale's embed function finds the
  row of each text it is asked for.
- Follow-ups: each item has 3 follow-up items in its own cluster, drawn by popularity ("what people watch next").

History (E events over U users):
- Activity is heavy-tailed: user u's share of the events is lognormal(0, 1); every user has at least one event.
- Each user has 2 to 4 taste clusters with Dirichlet(1) weights.
- A user's events come in sessions of 3 to 12 events (the last one shorter); a session stays in one of the user's
  clusters. Its first item is a popularity draw in the cluster; each next item is one of the previous item's
  follow-ups with probability 0.5 (sequential structure: the count store's follow pairs carry signal), else
  another popularity draw in the cluster. Events are 1 to 10 minutes apart; a user's sessions are spread over
  the 180 days before T_END (2023-11-14), in order and hours apart, so the log replays in time order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from interest_bot.memory.catalog import CatalogItem

# The 18 real MovieLens-100k genres, spelled as the ML-100k catalog spells them (so trained heads share names).
GENRES = [
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]
DIM = 384
NOISE = 0.05  # per-dimension noise around a cluster centre: cosine to the centre ~ 1 / sqrt(1 + 384 * 0.05^2) ~ 0.7
ZIPF_S = 1.1
FOLLOW_UPS = 3
FOLLOW_P = 0.5
SESSION = (3, 12)
T_END = 1_700_000_000.0  # 2023-11-14: the whole history lies in the past, so live feedback always comes after it
SPAN_S = 180 * 86400.0
BLOCK = 4096  # vectors are drawn per block of items: the same vector whatever batch asks for it
TITLE = re.compile(r"Item (\d+)")


@dataclass(frozen=True)
class Shape:
    """The sizes and seed that fix a workload."""

    items: int
    users: int
    events: int
    clusters: int = 64
    seed: int = 0


@dataclass(frozen=True)
class History:
    """Events in time order, as parallel arrays (user and item indices, unix seconds)."""

    user: np.ndarray  # int32
    item: np.ndarray  # int32
    ts: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.ts)


def user_id(u: int) -> str:
    """The id of synthetic user u (valid under memory.userid)."""
    return f"u{u:07d}"


def item_id(i: int) -> str:
    """The raw catalog id of item i (numeric ids keep the catalog's row order)."""
    return str(i)


def title(i: int, cluster: int) -> str:
    """An item's title, which is also its text."""
    return f"Item {i} (cluster {cluster})"


def rows_of(texts: list[str]) -> np.ndarray:
    """Item indices of texts made by `title`."""
    return np.fromiter((int(TITLE.match(t).group(1)) for t in texts), np.int64, len(texts))  # type: ignore[union-attr]


class Workload:
    """One seeded workload: items (vectors, genres, popularity, follow-ups) and a user history."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        n = shape.items
        self.n_clusters = max(1, min(shape.clusters, n // 4))
        rng = np.random.default_rng([shape.seed, 1])
        centres = rng.standard_normal((self.n_clusters, DIM))
        self.centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)
        self.cluster = (rng.permutation(n) % self.n_clusters).astype(np.int32)  # balanced: no cluster is empty
        rank = rng.permutation(n)
        weight = 1.0 / (rank + 1.0) ** ZIPF_S
        self.weight = weight / weight.sum()
        self.genres = self._draw_genres(rng)
        self.members = [np.flatnonzero(self.cluster == c) for c in range(self.n_clusters)]
        self.cdf = [np.cumsum(self.weight[m]) / self.weight[m].sum() if len(m) else np.ones(0) for m in self.members]
        self.follow = self._draw_follow_ups(np.random.default_rng([shape.seed, 2]))

    # ----- items ----------------------------------------------------------------------------

    def _draw_genres(self, rng: np.random.Generator) -> np.ndarray:
        """(items, 3) genre indices, -1 padded: 1 to 3 per item, mostly from the cluster's 3 home genres."""
        home = np.stack([rng.choice(len(GENRES), 3, replace=False) for _ in range(self.n_clusters)])
        n = self.shape.items
        k = rng.integers(1, 4, size=n)
        pick_home = rng.random((n, 3)) < 0.8
        from_home = home[self.cluster[:, None], rng.integers(3, size=(n, 3))]
        anywhere = rng.integers(len(GENRES), size=(n, 3))
        out = np.where(pick_home, from_home, anywhere)
        out[np.arange(3)[None, :] >= k[:, None]] = -1
        return out.astype(np.int16)

    def categories(self, i: int) -> list[str]:
        """Item i's genres, without repeats."""
        return list(dict.fromkeys(GENRES[g] for g in self.genres[i] if g >= 0))

    def popularity(self, i: int) -> float:
        """Item i's expected number of events in the history."""
        return round(float(self.weight[i] * self.shape.events), 3)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Unit vectors of these items (float32, (len(rows), 384)), the same whichever batch asks."""
        rows = np.asarray(rows, np.int64)
        out = np.empty((len(rows), DIM), np.float32)
        for block in np.unique(rows // BLOCK):
            here = rows // BLOCK == block
            out[here] = self._block(int(block))[rows[here] - block * BLOCK]
        return out

    def _block(self, block: int) -> np.ndarray:
        lo, hi = block * BLOCK, min((block + 1) * BLOCK, self.shape.items)
        noise = np.random.default_rng([self.shape.seed, 3, block]).standard_normal((hi - lo, DIM), np.float32) * NOISE
        v = self.centres[self.cluster[lo:hi]] + noise
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed(self, texts: list[str]) -> np.ndarray:
        """The `embed` function for Catalog.ingest: each text's precomputed synthetic vector (no model)."""
        return self.vectors(rows_of(texts))

    def catalog_items(self) -> Iterator[CatalogItem]:
        """CatalogItems 0..N-1, made one at a time."""
        from interest_bot.memory.catalog import CatalogItem

        for i in range(self.shape.items):
            c = int(self.cluster[i])
            yield CatalogItem(id=item_id(i), title=title(i, c), text=title(i, c), categories=self.categories(i), popularity=self.popularity(i))

    # ----- draws within clusters ----------------------------------------------------------------

    def draw(self, clusters: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One popularity (Zipf) draw of an item within each given cluster."""
        clusters = np.asarray(clusters)
        u = rng.random(len(clusters))
        out = np.empty(len(clusters), np.int64)
        for c in np.unique(clusters):
            here = clusters == c
            m = self.members[c]
            out[here] = m[np.minimum(np.searchsorted(self.cdf[c], u[here], side="right"), len(m) - 1)]
        return out

    def _draw_follow_ups(self, rng: np.random.Generator) -> np.ndarray:
        """(items, FOLLOW_UPS) items each item is often followed by, in its own cluster."""
        return np.stack([self.draw(self.cluster, rng) for _ in range(FOLLOW_UPS)], axis=1).astype(np.int32)

    # ----- users and history ------------------------------------------------------------------

    @cached_property
    def tastes(self) -> tuple[np.ndarray, np.ndarray]:
        """(users, 4) taste clusters (-1 padded) and their weights (rows sum to 1)."""
        rng = np.random.default_rng([self.shape.seed, 4])
        u = self.shape.users
        k = rng.integers(2, 5, size=u)
        clusters = np.argsort(rng.random((u, self.n_clusters)), axis=1)[:, :4].astype(np.int32)
        weights = rng.dirichlet(np.ones(4), size=u)
        weights[np.arange(4)[None, :] >= k[:, None]] = 0.0
        clusters[np.arange(4)[None, :] >= k[:, None]] = -1
        return clusters, weights / weights.sum(axis=1, keepdims=True)

    def _taste_draw(self, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One of each user's taste clusters, drawn by the user's taste weights."""
        clusters, weights = self.tastes
        pick = (rng.random(len(users))[:, None] > np.cumsum(weights[users], axis=1)).sum(axis=1)
        # Rounding can leave the last cumulative weight just under 1: never step past the user's last taste.
        return clusters[users, np.minimum(pick, (clusters[users] >= 0).sum(axis=1) - 1)]

    def activity(self) -> np.ndarray:
        """Events per user: heavy-tailed (lognormal shares), at least one each, summing to E."""
        rng = np.random.default_rng([self.shape.seed, 5])
        u, e = self.shape.users, self.shape.events
        if e < u:
            raise ValueError(f"{e} events cannot give each of {u} users one")
        share = rng.lognormal(0.0, 1.0, size=u)
        return 1 + rng.multinomial(e - u, share / share.sum())

    @cached_property
    def history(self) -> History:
        """Every event of the history, in time order (see the module docstring for the shape)."""
        rng = np.random.default_rng([self.shape.seed, 6])
        per_user = self.activity()
        s_user, s_len = self._sessions(per_user, rng)
        s_cluster = self._taste_draw(s_user, rng)
        s_start = self._session_starts(s_user, per_user, rng)
        items = np.zeros((len(s_user), SESSION[1]), np.int64)
        gaps = rng.uniform(60.0, 600.0, size=(len(s_user), SESSION[1]))
        gaps[:, 0] = 0.0
        items[:, 0] = self.draw(s_cluster, rng)
        for j in range(1, SESSION[1]):
            alive = np.flatnonzero(s_len > j)
            if not len(alive):
                break
            prev = items[alive, j - 1]
            follow = self.follow[prev, rng.integers(FOLLOW_UPS, size=len(alive))]
            fresh = self.draw(s_cluster[alive], rng)
            items[alive, j] = np.where(rng.random(len(alive)) < FOLLOW_P, follow, fresh)
        valid = np.arange(SESSION[1])[None, :] < s_len[:, None]
        ts = s_start[:, None] + np.cumsum(gaps, axis=1)
        users = np.broadcast_to(s_user[:, None], items.shape)
        order = np.argsort(ts[valid], kind="stable")
        return History(users[valid][order].astype(np.int32), items[valid][order].astype(np.int32), ts[valid][order])

    @staticmethod
    def _sessions(per_user: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(user, length) of every session: each user's events cut into sessions of 3 to 12."""
        lengths = rng.integers(SESSION[0], SESSION[1] + 1, size=int(per_user.sum()))  # more than enough draws
        ends = np.cumsum(lengths)
        starts = np.concatenate([[0], np.cumsum(per_user)[:-1]])
        # Cut the concatenated events of all users at the session ends, then at the user boundaries.
        cuts = np.union1d(ends[ends < per_user.sum()], starts[1:])
        bounds = np.concatenate([[0], cuts, [per_user.sum()]])
        sizes = np.diff(bounds)
        users = np.searchsorted(starts, bounds[:-1], side="right") - 1
        return users.astype(np.int64), sizes.astype(np.int64)

    @staticmethod
    def _session_starts(s_user: np.ndarray, per_user: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Start time of each session: a user's sessions in order, evenly spread over SPAN_S with jitter."""
        n_sessions = np.bincount(s_user, minlength=len(per_user))
        first = np.concatenate([[0], np.cumsum(n_sessions)[:-1]])
        k = np.arange(len(s_user)) - first[s_user]  # the session's number within its user
        slot = SPAN_S / n_sessions[s_user]
        # Jitter stays within the first fifth of a slot: a session (at most ~2 hours) never runs into the next.
        return T_END - SPAN_S + k * slot + rng.uniform(0, 0.2, size=len(s_user)) * slot

    def last_items(self) -> np.ndarray:
        """Each user's most recent item (the history's last event per user)."""
        h = self.history
        out = np.full(self.shape.users, -1, np.int64)
        order = np.lexsort((h.ts, h.user))
        users, items = h.user[order], h.item[order]
        last = np.flatnonzero(np.r_[users[1:] != users[:-1], True])
        out[users[last]] = items[last]
        return out

    def probes(self, n: int, label: str) -> list[tuple[str, str, str]]:
        """n distinct users with history and two items each for live feedback: (user, next item, other item).

        The next item follows the user's last item (one of its follow-ups); the other is a popularity draw in one of
        the user's taste clusters. `label` seeds the sample, so each measurement gets its own users."""
        rng = np.random.default_rng([self.shape.seed, 7, *label.encode()])
        users = rng.choice(self.shape.users, size=min(n, self.shape.users), replace=False)
        last = self.last_items()[users]
        nxt = self.follow[last, rng.integers(FOLLOW_UPS, size=len(users))]
        other = self.draw(self._taste_draw(users, rng), rng)
        return [(user_id(int(u)), item_id(int(a)), item_id(int(b))) for u, a, b in zip(users, nxt, other)]
