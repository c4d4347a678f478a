"""The ranking knobs, as typed config objects (PluginConfig.recommender holds a RecommenderConfig)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequentialConfig:
    """Scoring knobs chosen on the ML-100k valid split (see bench/recsys.py)."""

    recent: int = 10  # how many of the user's latest items vote
    recency_decay: float = 0.8  # vote weight of the k-th most recent item: decay**k
    backward: float = 0.6  # weight of "precedes" relative to "follows"
    source_norm: float = 0.8  # divide a source item's votes by (pop+1)**source_norm: rare items say more
    target_norm: float = 0.35  # divide a candidate's score by (pop+1)**target_norm: damp the blockbusters
    second_hop: float = 0.0  # weight of what follows or precedes the best-scored items (two steps from the user's)
    second_hop_sources: int = 10  # how many of the best-scored items vote in the second step


@dataclass(frozen=True)
class CandidateConfig:
    """How many items each source proposes before the full scorer ranks them (a request never reads the whole catalog)."""

    # A catalog of at most this many items is ranked whole (its rows held in process: a 10,000 x 384 product is about a
    # millisecond); a larger one through candidates. Either way a request's cost is bounded, whatever the catalog's size.
    whole_catalog: int = 10_000
    # Sizes: each candidate is one row read on a cache miss; on ML-100k ranked through candidates these give the
    # whole-catalog ranking's HR@10 (bench.recsys `candidates_*`).
    collaborative: int = 200  # the items the user's recent items' neighbour lists score highest
    per_cluster: int = 100  # nearest items (Chroma's vector index) to each positive interest cluster
    popular: int = 100  # the most popular items overall
    per_category: int = 50  # the most popular items of each of the user's top liked categories
    categories: int = 3
    uptake: int = 100  # the suggestions users here took up most lately (when that blend is on)
    series: int = 20  # other items of each recent item's series (when that blend is on)


@dataclass(frozen=True)
class RecommenderConfig:
    """Blend weights; the defaults are the shipped ones (bench/recsys.py reports them)."""

    collaborative: float = 1.0
    content: float = 0.25
    category: float = 0.2
    popularity: float = 0.6  # prior weight for a user with no signals
    popularity_half_signals: float = 3.0  # prior weight halves after this many signals
    dislike_penalty: float = 2.0  # larger than any positive blend: disliked items sink below alternatives
    near_dislike_cos: float = 0.8  # an item this close to a disliked item or cluster counts as disliked
    mmr_lambda: float = 0.85  # 1.0 = no diversity re-ranking
    cold_mmr_lambda: float = 0.5  # with nothing learned, spread the popular items across categories
    mmr_pool: int = 50
    sequential: SequentialConfig = SequentialConfig()
    live_popularity: float = 0.0  # weight of recent popularity in the counts (what users here took up lately)
    collab_norm: str = "max"  # "max": collaborative scores scaled to the best item; "none": raw sums (dialogue catalogs)
    dislike_share: float = 0.3  # a category counts as disliked from this share of the strongest dislike
    min_support: int = 20  # with thin evidence, items with fewer ratings + mentions than this sink
    thin_support_penalty: float = 1.0
    # "People who talked like you went on to like X": nearest chat events of other users vote for what those users
    # took up next. 0 = off (the default: no extra store read per recommendation).
    neighbours: float = 0.0
    neighbour_k: int = 50
    neighbour_power: float = 4.0
    neighbour_next: int = 3
    # "What users here took up lately": accepted suggestions, each halving after `uptake_half_life` newer ones
    # (plugins/interest/ranking/uptake.py). 0 = off.
    uptake: float = 0.0
    uptake_half_life: float = 100.0
    # Collaborative vote of an item the user named in chat (source "item") relative to one they gave feedback on.
    mention_vote: float = 1.0
    # Items of the same series as one the user named or took up without disliking it (a title stem shared:
    # plugins/interest/ranking/series.py). 0 = off.
    series: float = 0.0
    candidates: CandidateConfig = CandidateConfig()
