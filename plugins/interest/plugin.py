"""`InterestPlugin`: the one facade the agent, the API, the UI and the benchmarks use.

    plugin = InterestPlugin.open(data_dir="./data", catalog="movielens-100k")
    plugin.observe("alice", "I loved Star Wars but I can't stand romcoms")
    plugin.recommend("alice", k=5)
"""

from __future__ import annotations

import re
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np
from chromadb.api import ClientAPI

from interest_bot.memory.catalog import Catalog, CatalogItem, list_catalogs
from interest_bot.memory.chroma import open_client
from interest_bot.memory.counts import CountStore
from interest_bot.memory.event_layout import keyed_event_id
from interest_bot.memory.impressions import ImpressionStore
from interest_bot.memory.interests import InterestMemory
from interest_bot.memory.item_rows import ItemRowStore
from interest_bot.memory.profile import Profile
from interest_bot.memory.signals import InterestSignal, check_timestamp
from interest_bot.memory.sources import BUILTIN
from interest_bot.memory.sqldb import sql_location
from interest_bot.memory.userid import validate_user_id

from .config import PluginConfig
from .encoding.encoder import Encoder, encoder_for
from .errors import InterestBotError
from .ranking.config import RecommenderConfig
from .ranking.recommender import Recommendation, Recommender
from .ranking.talk import TalkIndex
from .ranking.uptake import UptakeIndex
from .stores import memory_for
from .understanding.classifier import InterestClassifier, heads_dir
from .understanding.reactions import read_reaction

if TYPE_CHECKING:  # ingest imports this module: only its types here
    from .ingest import IngestOptions, IngestResult, SourceItems
    from .ranking.experiments import Experiment

Listener = Callable[..., None]
COLD_START_SIGNALS = 3
MENTION_NEUTRAL = 0.3  # |polarity| below this: a title was mentioned, not judged


# The most recommendations one call returns: ranking cost grows with k, and no reply shows more.
MAX_K = 100
USER_LOCK_STRIPES = 256


def _print_rows_progress(done: int, total: int) -> None:
    """Progress of the one-time copy of a large catalog's rows, on stderr."""
    if done == total or done % 20_000 < 2_000:
        print(f"interest-bot: indexing catalog rows for ranking: {done:,}/{total:,}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class TurnResult:
    """What one user message did: the signals recorded, the picks, and the profile's strongest interests after it."""

    signals: list[InterestSignal]
    recommendations: list[Recommendation]
    likes: list[str]
    dislikes: list[str]
    changed: bool  # the strongest likes or dislikes differ from before the message
    new_user: bool  # too little is known yet: the agent should ask what the user enjoys


@dataclass(frozen=True)
class PluginParts:
    """What a plugin is built from: its catalog, classifier and recommender, and the stores it shares with siblings."""

    catalog: Catalog
    classifier: InterestClassifier
    recommender: Recommender
    memory: InterestMemory
    counts: CountStore
    impressions: ImpressionStore
    row_store: ItemRowStore
    # In-process indexes over every user's chat and accepted items: a sibling shares its parent's, so that forgetting a
    # user through either forgets them in both (each would otherwise keep its own copy until the process restarts).
    indexes: tuple[TalkIndex, UptakeIndex] | None = None


@dataclass(frozen=True)
class CatalogHit:
    """One catalog item found by a search, with its qualified id and cosine score."""

    item_id: str
    item: CatalogItem
    score: float


class CatalogNotReadyError(InterestBotError):
    """The catalog (or its classifier heads) has not been ingested into this data dir."""


def _how_to_ingest(config: PluginConfig) -> str:
    """The two ways to build the catalog: the app's CLI, or the plugin's own call (a core install has no CLI)."""
    name, data_dir = config.catalog, str(config.data_dir)
    if name in BUILTIN:
        cli, call = name, f"{name!r}, data_dir={data_dir!r}"
    else:
        cli, call = f"<items.csv> --name {name}", f"'<items.csv>', data_dir={data_dir!r}, catalog={name!r}"
    return f"Run `interest-bot catalog ingest {cli}` (the app's CLI; make run does this), or in Python `InterestPlugin.ingest({call})`."


def speed_up(encoder: Encoder, config: PluginConfig) -> Encoder:
    """Wrap the encoder with the embedding cache and the micro-batcher the config asks for."""
    from .encoding.batching import BatchingEncoder
    from .encoding.embed_cache import CachedEncoder

    if config.batch_encoder and not isinstance(encoder, BatchingEncoder):
        encoder = BatchingEncoder(encoder)
    if config.embedding_cache > 0 and not isinstance(encoder, CachedEncoder):
        encoder = CachedEncoder(encoder, max_items=config.embedding_cache)
    return encoder


_BLAS: Any = None


def single_threaded_blas() -> Any:
    """Ranking multiplies small matrices (1,682 x 384): BLAS threads only cost there, and on a busy 2-core machine
    their spin-waits turned a 0.4 ms product into 16 ms (p50). One thread for the duration of a recommend call."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class InterestPlugin:
    """Interest capture, memory and recommendations for one catalog; thread-safe (build it with `open`)."""

    def __init__(self, config: PluginConfig, client: ClientAPI, parts: PluginParts) -> None:
        self.config, self.client = config, client
        self.catalog, self.classifier, self.recommender = parts.catalog, parts.classifier, parts.recommender
        self.memory, self.counts, self.impressions = parts.memory, parts.counts, parts.impressions
        self.row_store = parts.row_store  # shared with sibling catalogs; closed with the memory
        if parts.indexes is not None:
            self.talk, self.uptake = parts.indexes
        else:
            self.talk = TalkIndex(self.classifier.encoder.dim)
            if self.recommender.config.neighbours:  # read every user's chat history only when the blend uses it
                self.talk.add_many(self.memory.chat_embeddings())
            self.uptake = UptakeIndex(self.recommender.config.uptake_half_life)
            if self.recommender.config.uptake:  # read the log only when the blend uses it
                self.uptake.add_many(self.memory.accepted_items())
        self._listeners: list[Listener] = []
        self._ab: tuple[Experiment, dict[str, Recommender]] | None = None
        # Striped per-user locks: memory stays bounded however many user ids arrive; users sharing a stripe only queue.
        self._user_locks = [threading.Lock() for _ in range(USER_LOCK_STRIPES)]

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        catalog: str | None = None,
        config: PluginConfig | None = None,
        encoder: Encoder | None = None,
        client: ClientAPI | None = None,
        recommender_config: RecommenderConfig | None = None,
    ) -> InterestPlugin:
        """Open everything from a data dir: Chroma, the catalog and its heads, memory, counts, recommender (its blend
        from `recommender_config`, else `config.recommender`: the shipped defaults unless set)."""
        config = (config or PluginConfig()).model_copy()
        if data_dir is not None:
            config.data_dir = Path(data_dir)
        if catalog is not None:
            config.catalog = catalog
        if recommender_config is not None:
            config.recommender = recommender_config
        client = client or open_client(Path(config.data_dir), config.chroma_url)
        encoder = encoder or encoder_for(config)
        encoder = speed_up(encoder, config)
        memory = memory_for(config, client, encoder.dim)
        row_store = ItemRowStore.open(sql_location(config.data_dir, config.sql_url))
        return cls._for_catalog(config, client, encoder, memory, row_store)

    @classmethod
    def _for_catalog(
        cls,
        config: PluginConfig,
        client: ClientAPI,
        encoder: Encoder,
        memory: InterestMemory,
        row_store: ItemRowStore,
        indexes: tuple[TalkIndex, UptakeIndex] | None = None,
    ) -> InterestPlugin:
        counts, impressions = memory.counts, memory.impressions
        # stores.memory_for opens memory with both; the memory type allows a host's memory without them.
        if not isinstance(counts, CountStore) or not isinstance(impressions, ImpressionStore):
            raise TypeError("the plugin needs interest memory with a count store and impression counts (stores.memory_for opens both)")
        names = [c["name"] for c in list_catalogs(client)]
        if config.catalog not in names:
            raise CatalogNotReadyError(
                f"Catalog {config.catalog!r} is not ingested in {config.data_dir}. {_how_to_ingest(config)} Ingested: {names or 'none'}."
            )
        heads = heads_dir(Path(config.data_dir), config.catalog)
        if not InterestClassifier.exists(heads):
            raise CatalogNotReadyError(
                f"Catalog {config.catalog!r} has no trained classifier heads in {heads}. {_how_to_ingest(config)}"
            )
        catalog = Catalog(client, config.catalog, row_cache=config.item_cache, row_store=row_store)
        classifier = InterestClassifier.load(heads, encoder)
        classifier.max_chars = config.max_message_chars  # one limit: what the API and UI accept is read whole
        recommender = Recommender(catalog, counts, config.recommender)
        # A catalog ingested before rows were copied at ingest: copy them now, once (memory/item_rows.py).
        catalog.index_rows_if_larger(recommender.config.candidates.whole_catalog, progress=_print_rows_progress)
        plugin = cls(config, client, PluginParts(catalog, classifier, recommender, memory, counts, impressions, row_store, indexes))
        plugin.warm_up()
        return plugin

    @classmethod
    def ingest(
        cls,
        source: str | Path | Iterable[CatalogItem] | SourceItems,
        data_dir: str | Path | None = None,
        catalog: str | None = None,
        config: PluginConfig | None = None,
        **options: Unpack[IngestOptions],
    ) -> IngestResult:
        """Build a catalog `open` can then open (ingest.ingest_catalog, with open's data_dir, catalog and config)."""
        from .ingest import ingest_catalog

        config = (config or PluginConfig()).model_copy()
        if data_dir is not None:
            config.data_dir = Path(data_dir)
        return ingest_catalog(config, source, name=catalog, **options)

    def warm_up(self) -> None:
        """Run each stage once so the first user does not pay for lazy initialisation."""
        self.classifier.analyze("I like good stories")
        self.recommender.warm_up()
        self.recommender.recommend(self.memory.profile("warm-up"), k=1)

    def with_catalog(self, name: str) -> InterestPlugin:
        """A sibling plugin on another ingested catalog, sharing the encoder, memory, counts, impressions and indexes."""
        config = self.config.model_copy(update={"catalog": name})
        sibling = self._for_catalog(config, self.client, self.classifier.encoder, self.memory, self.row_store, (self.talk, self.uptake))
        sibling._listeners = self._listeners
        return sibling

    @property
    def catalog_name(self) -> str:
        """The catalog this plugin recommends from."""
        return self.catalog.name

    def catalogs(self) -> list[str]:
        """Names of every ingested catalog."""
        return [c["name"] for c in list_catalogs(self.client)]

    # -- events ---------------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call `listener(event, **data)` on stage timings, signals, impressions and feedback (metrics hook)."""
        if listener not in self._listeners:  # composing twice (a sibling catalog, a reused plugin) must not double-count
            self._listeners.append(listener)

    def _emit(self, event: str, **data: Any) -> None:
        for listener in self._listeners:
            listener(event, **data)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._emit("stage", stage=name, seconds=time.perf_counter() - started)

    @contextmanager
    def _user_lock(self, user_id: str) -> Iterator[None]:
        validate_user_id(user_id)  # a bad id is a clear InvalidUserIdError before any lock or write
        with self._user_locks[zlib.crc32(user_id.encode("utf-8")) % USER_LOCK_STRIPES]:
            yield

    # -- capture -------------------------------------------------------------------------------------
    def _read_part(self, text: str) -> str:
        """The part of a message that is read for titles: as much as the classifier reads (`max_message_chars`)."""
        return text[: self.config.max_message_chars]

    def _item_signals(self, text: str, signals: Sequence[InterestSignal]) -> list[InterestSignal]:
        """Item mentions ("I just watched Star Wars") become item signals with the polarity of what is said about them.

        Titles are linked in the whole message: clause splitting cuts "Avengers: Infinity War (2018)" and its year
        apart and loses the capitals that tell a title from chat. Each title takes the reading of the clause it sits in."""
        item_ids = self.recommender.link_titles(text)
        if not item_ids:
            return []
        out = []
        for item in self.catalog.get(item_ids):
            clause = self._clause_naming(item.title, signals)
            polarity = self._mention_polarity(clause, [item.title]) if clause is not None else 0.0
            out.append(
                InterestSignal(
                    text=clause.text if clause is not None else text,
                    embedding=self._item_vector(item.id),
                    categories={c: 1.0 / max(1, len(item.categories)) for c in item.categories},
                    polarity=polarity,
                    preference=max(clause.preference if clause is not None else 0.0, 0.9),
                    source="item",
                    item_id=self.catalog.qualify(item.id),
                )
            )
        return out

    @staticmethod
    def _clause_naming(title: str, signals: Sequence[InterestSignal]) -> InterestSignal | None:
        """The clause that holds the title (or most of its words), if any."""
        words = [w for w in re.findall(r"[a-z0-9']+", title.lower()) if len(w) > 2] or re.findall(r"[a-z0-9']+", title.lower())
        best, best_hits = None, 0
        for signal in signals:
            low = (signal.text or "").lower()
            hits = sum(w in low for w in words)
            if hits > best_hits:
                best, best_hits = signal, hits
        return best

    def _mention_polarity(self, signal: InterestSignal, titles: Sequence[str]) -> float:
        """What the clause says about the titles it names, read with each title masked as "this movie".

        A title's own words ("Happy Death Day", "The Hateful Eight") must not decide whether the user liked it:
        unmasked, "I recently watched Happy Death Day" read as a strong dislike. A weak reading is a plain mention
        (neutral: it still counts as something the user talked about, never as a dislike)."""
        text = signal.text or ""  # a clause naming a title always has text
        masked = text
        for title in sorted(titles, key=len, reverse=True):
            masked = re.sub(re.escape(title), "this movie", masked, flags=re.I)
        polarity = signal.polarity
        if masked != text:
            reread = self.classifier.analyze(masked)
            if reread:
                polarity = max(reread, key=lambda s: s.preference).polarity
        return 0.0 if abs(polarity) < MENTION_NEUTRAL else float(polarity)

    def _reaction_signals(self, user_id: str, text: str, shown: Sequence[str] | None) -> list[InterestSignal]:
        """Feedback signals for a reply to the last suggestion; none when the message is no such reply."""
        reaction = read_reaction(text)
        if reaction is None:
            return []
        targets = list(shown) if shown is not None else self.impressions.latest(user_id)
        found = self.catalog.rows(targets).row
        known = [i for i in targets if i in found]
        if not known:
            return []
        # "not that one" answers the suggestion on top; a reply to one or two picks covers them all.
        chosen = known[:2] if len(known) <= 2 else known[:1]
        items = self._catalog_items(chosen)
        return [self._feedback_signal(user_id, items[self.catalog.unqualify(i)], reaction.value) for i in chosen]

    def _item_vector(self, item_id: str) -> np.ndarray:
        vector: np.ndarray = self.catalog.rows([item_id]).embeddings[0]
        return vector

    def observe(self, user_id: str, text: str, shown: Sequence[str] | None = None) -> list[InterestSignal]:
        """Analyze one message and durably record what it says about the user's taste.

        A reply to the bot's own suggestion that names no title ("seen it", "sounds good", "not that one") becomes
        feedback on what was shown: `shown` (item ids the host bot displayed), else the user's latest impressions.
        """
        validate_user_id(user_id)
        if not isinstance(text, str):
            raise TypeError("message must be a string")
        with self._stage("analyze"):
            signals = self.classifier.analyze(text)
            tastes = [s for s in signals if s.preference >= self.config.min_preference]
            # A named title is evidence even in a clause that states no taste ("have you seen Heat (1995)?").
            read = self._read_part(text)
            items = self._item_signals(read, signals)
            tastes += items
            if not items:
                tastes += self._reaction_signals(user_id, read, shown)
        if not tastes:
            return []
        with self._stage("record"), self._user_lock(user_id):
            self.memory.record(user_id, tastes)
        now = time.time()
        self.talk.add_many((user_id, s.timestamp or now, s.embedding) for s in tastes if s.source == "chat" and s.embedding is not None)
        self.uptake.add_many((user_id, s.item_id) for s in tastes if s.source == "feedback" and s.polarity > 0 and s.item_id)
        self._emit("signals", count=len(tastes), source="chat")
        return tastes

    def _catalog_items(self, item_ids: Iterable[str]) -> dict[str, CatalogItem]:
        """Raw item id -> CatalogItem for these (raw or qualified) ids, in one catalog read; KeyError on an unknown id."""
        raw = list(dict.fromkeys(self.catalog.unqualify(i) for i in item_ids))
        rows = self.catalog.rows(raw)  # the row cache: the signal's embedding is read from the same rows next
        found = {i: CatalogItem(i, rows.titles[r], "", list(rows.categories[r]), float(rows.popularity[r])) for r, i in enumerate(rows.ids)}
        missing = [i for i in raw if i not in found]
        if missing:
            raise KeyError(missing[0])
        return found

    def _feedback_signal(self, user_id: str, item: CatalogItem, liked: bool | None, ts: float | None = None) -> InterestSignal:
        """The one signal a 👍 / 👎 / "seen it" on a catalog item becomes (shared by feedback and feedback_many)."""
        validate_user_id(user_id)
        if ts is not None:
            check_timestamp(ts, time.time())  # here too, so that feedback_many refuses a bad time before any page is written
        polarity = 0.0 if liked is None else (1.0 if liked else -1.0)
        verb = {1.0: "liked", -1.0: "disliked", 0.0: "watched"}[polarity]
        return InterestSignal(
            text=f"{verb} {item.title}",
            embedding=self._item_vector(item.id),
            categories={c: 1.0 / max(1, len(item.categories)) for c in item.categories},
            polarity=polarity,
            preference=1.0,
            source="feedback",
            item_id=self.catalog.qualify(item.id),
            timestamp=None if ts is None else float(ts),
        )

    @staticmethod
    def _verb(signal: InterestSignal) -> str:
        return {1.0: "liked", -1.0: "disliked", 0.0: "watched"}[signal.polarity]

    def feedback(self, user_id: str, item_id: str, liked: bool | None, ts: float | None = None, key: str | None = None) -> list[str]:
        """👍 (liked=True), 👎 (liked=False) or "seen it" (liked=None: watched, neutral) on one item; `ts` back-dates it.

        With a `key` (a client's idempotency key) a retry of the same request records nothing new and returns the
        same event id."""
        validate_user_id(user_id)
        item = self._catalog_items([item_id])[self.catalog.unqualify(item_id)]
        signal = self._feedback_signal(user_id, item, liked, ts)
        signal.key = key
        with self._stage("record"), self._user_lock(user_id):
            replay = key is not None and bool(self.memory.has_events(user_id, [keyed_event_id(user_id, key)]))
            ids = self.memory.record(user_id, [signal])
        if not replay:
            self._after_feedback(user_id, signal, ts)
        return ids

    def feedback_many(self, events: Iterable[tuple[str, str, bool | None, float | None]]) -> list[str]:
        """Many (user_id, item_id, liked, ts) feedback events in order, with batched writes (bulk import, replays).

        The same signals as `feedback` (one helper builds them), written with `InterestMemory.record_batch`.
        """
        events = list(events)
        items = self._catalog_items(item_id for _, item_id, _, _ in events)
        signals = [(user_id, self._feedback_signal(user_id, items[self.catalog.unqualify(item_id)], liked, ts)) for user_id, item_id, liked, ts in events]
        if not signals:
            return []
        with self._stage("record"):
            ids = self.memory.record_batch(signals)
        for (user_id, _, _, ts), (_, signal) in zip(events, signals):
            self._after_feedback(user_id, signal, ts)
        return ids

    def _after_feedback(self, user_id: str, signal: InterestSignal, ts: float | None) -> None:
        """A recorded 👍 counts as a click on the item and an uptake; every feedback is counted for its variant."""
        if signal.polarity > 0:
            assert signal.item_id is not None  # _feedback_signal always names the item
            self.impressions.mark_click(user_id, signal.item_id, ts)
            self.uptake.add_many([(user_id, signal.item_id)])
        self._emit("feedback", kind=self._verb(signal), variant=self.variant(user_id))

    # -- recommend -----------------------------------------------------------------------------------
    def recommend(self, user_id: str, k: int = 5, exclude: Sequence[str] = ()) -> list[Recommendation]:
        """Ranked, explained recommendations for the user from this plugin's catalog (at most MAX_K)."""
        return self._rank(user_id, k, exclude)[1]

    def _rank(self, user_id: str, k: int, exclude: Sequence[str] = ()) -> tuple[Profile, list[Recommendation]]:
        """Read the user's profile and rank for it with the user's variant's recommender (both timed as "recommend")."""
        k = max(0, min(int(k), MAX_K))
        with self._stage("recommend"), single_threaded_blas():
            profile = self.memory.profile(user_id)
            recommender = self._recommender_for(user_id)
            uptake = self.uptake if recommender.config.uptake else None
            votes = self._talk_votes(user_id, recommender.config)
            return profile, recommender.recommend(profile, k=k, exclude=exclude, talk_votes=votes, uptake=uptake)

    def _talk_votes(self, user_id: str, cfg: RecommenderConfig) -> dict[str, float]:
        """What users whose chat was nearest to this user's latest chat took up next (qualified id -> vote)."""
        if not cfg.neighbours:
            return {}
        query = self.talk.latest(user_id)
        if query is None:
            return {}
        votes: dict[str, float] = defaultdict(float)
        for other, ts, sim in self.talk.nearest(query, cfg.neighbour_k, user_id):
            if sim <= 0:
                continue
            for item in self.counts.items_after(other, ts, cfg.neighbour_next):
                votes[item] += sim**cfg.neighbour_power
        return votes

    def record_impressions(self, user_id: str, recommendations: Sequence[Recommendation], join_latest: bool = False) -> None:
        """Count what was shown, so click-through can be measured per variant (join_latest: a replacement card,
        counted as part of the batch shown last)."""
        validate_user_id(user_id)  # never count impressions for an id that could not hold memory
        if not recommendations:
            return
        self._add_impressions(user_id, [r.item_id for r in recommendations], join_latest)

    def _add_impressions(self, user_id: str, item_ids: list[str], join_latest: bool = False) -> None:
        """Count these items as shown to the user, under the user's A/B variant."""
        variant = self.variant(user_id)
        self.impressions.add(user_id, item_ids, variant, join_latest=join_latest)
        self._emit("impressions", count=len(item_ids), variant=variant)

    def record_reply(self, user_id: str, text: str) -> list[str]:
        """Tell the plugin what the bot's own reply said: the catalog titles it names become the user's latest impressions."""
        validate_user_id(user_id)
        if not isinstance(text, str):
            raise TypeError("reply must be a string")
        # A reply that names no title leaves the latest impressions as they were: "seen it" still answers those.
        ids = [self.catalog.qualify(i) for i in self.recommender.link_titles(self._read_part(text))]
        if ids:
            self._add_impressions(user_id, ids)
        return ids

    def variant(self, user_id: str) -> str:
        """The user's A/B variant: "A" unless an experiment is on (`enable_ab_test`, or `ab_test` in the config)."""
        experiment = self._experiment()
        return "A" if experiment is None else experiment.assign(user_id)

    # -- A/B test hook (ranking/experiments.py) -------------------------------------------------------
    def enable_ab_test(self, experiment: Experiment | None = None) -> None:
        """Rank each user with their variant's recommender (a stable hash of the user id picks A or B); by default A is
        this plugin's configured blend and B the default experiment's change to it."""
        from .ranking.experiments import Experiment

        experiment = experiment or Experiment.around(self.recommender.config)
        self._ab = (experiment, experiment.recommenders(self.recommender))

    def _experiment(self) -> Experiment | None:
        if self._ab is None and self.config.ab_test:
            self.enable_ab_test()
        return None if self._ab is None else self._ab[0]

    def _recommender_for(self, user_id: str) -> Recommender:
        experiment = self._experiment()
        return self.recommender if experiment is None or self._ab is None else self._ab[1][experiment.assign(user_id)]

    # -- inspect and forget --------------------------------------------------------------------------
    def profile(self, user_id: str) -> Profile:
        """The user's decayed, multi-interest profile."""
        return self.memory.profile(user_id)

    def profile_dict(self, user_id: str, recent: int = 20) -> dict[str, Any]:
        """The profile as JSON-able data: categories, clusters, recent items and recent signals."""
        data = self.memory.profile(user_id).to_dict()
        data["recent_signals"] = [
            {**{k: v for k, v in event.to_dict().items() if k != "embedding"}, "categories": dict(sorted(event.categories.items(), key=lambda kv: -kv[1])[:3])}
            for event in self.memory.events(user_id, limit=recent)
        ]
        for cluster in data["positive"] + data["negative"]:
            cluster.pop("centroid", None)
        return data

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about the user."""
        return self.memory.export(user_id)

    def forget(self, user_id: str) -> None:
        """Remove the user's events, profile and count contribution."""
        with self._user_lock(user_id):
            self.memory.forget(user_id)
            self.talk.remove_user(user_id)
            self.uptake.remove_user(user_id)

    def forgotten_at(self, user_id: str) -> float | None:
        """When the user was last forgotten (None if never): credentials issued before that no longer prove them."""
        return self.memory.forgotten_at(user_id)

    def forget_interest(self, user_id: str, interest: str) -> None:
        """Drop one category (or one event) from the user's memory."""
        with self._user_lock(user_id):
            self.memory.forget_interest(user_id, interest)

    def explain(self, text: str) -> list[tuple[str, float]]:
        """Per-token contributions to the top category of a message (for the "why" view)."""
        return self.classifier.explain(text)

    # -- one turn, and what the middleware, the API and the UI read --------------------------------------
    def turn(self, user_id: str, text: str, k: int = 5) -> TurnResult:
        """Observe one message and rank for the user: the signals, the picks, and the profile's strongest interests."""
        before = self._top(self.memory.profile(user_id))
        signals = self.observe(user_id, text)
        profile, recommendations = self._rank(user_id, k)
        likes, dislikes = self._top(profile)
        return TurnResult(
            signals=signals,
            recommendations=recommendations,
            likes=likes,
            dislikes=dislikes,
            changed=(likes, dislikes) != before,
            new_user=self._is_new(profile),
        )

    @property
    def categories(self) -> list[str]:
        """The catalog's categories, as the classifier names them."""
        return self.classifier.categories

    def titles_typed(self, text: str) -> list[str]:
        """Catalog titles a message names: linked ("Heat (1995)") or distinctive in any case ("the shawshank redemption")."""
        text = self._read_part(text)
        ids = list(dict.fromkeys([*self.recommender.link_titles(text), *self.recommender.distinctive_titles(text)]))
        return [item.title for item in self.catalog.get(ids)] if ids else []

    def items_named(self, text: str) -> list[str]:
        """Qualified ids of the catalog items a text names, linked or mentioned (what a reply guard checks)."""
        text = self._read_part(text)
        ids = dict.fromkeys([*self.recommender.link_titles(text), *self.recommender.mentioned_titles(text)])
        return [self.catalog.qualify(i) for i in ids]

    def item_title(self, item_id: str) -> str | None:
        """The title of a (raw or qualified) item id, None when the catalog has no such item."""
        items = self.catalog.get([self.catalog.unqualify(item_id)])
        return items[0].title if items else None

    def search(self, query: str, k: int = 4) -> list[CatalogHit]:
        """Catalog items nearest to a query by cosine between its embedding and the items' text, best first."""
        if k <= 0:
            return []
        vector = self.classifier.encoder.encode([query or " "])
        hits = self.catalog.search(vector, k=k)[0]
        items = {self.catalog.qualify(item.id): item for item in self.catalog.get([qid for qid, _ in hits])}
        return [CatalogHit(qid, items[qid], float(score)) for qid, score in hits]

    def click_through(self) -> dict[str, dict[str, float]]:
        """Impressions, clicks and their ratio per A/B variant."""
        return self.impressions.click_through()

    @staticmethod
    def _top(profile: Profile, n: int = 3) -> tuple[list[str], list[str]]:
        return profile.top_categories(n), profile.top_categories(n, negative=True)

    def _is_new(self, profile: Profile) -> bool:
        return self.recommender.needs_interests(profile) or profile.n_signals < COLD_START_SIGNALS

    def top_interests(self, user_id: str, n: int = 3) -> tuple[list[str], list[str]]:
        """The user's strongest likes and dislikes, by name."""
        return self._top(self.profile(user_id), n)

    def cold_start_hint(self, user_id: str) -> str | None:
        """A hint for the agent when the user is new: ask what they like."""
        if not self._is_new(self.profile(user_id)):
            return None
        return "This user is new to you: ask which kinds of titles they enjoy (genres, favourites) to personalize."

    @staticmethod
    def signal_to_dict(signal: InterestSignal) -> dict[str, Any]:
        """A signal as JSON-able data (top categories only)."""
        top = dict(sorted(signal.categories.items(), key=lambda kv: -kv[1])[:3])
        return {
            "text": signal.text,
            "top_category": signal.top_category,
            "categories": {c: round(float(p), 4) for c, p in top.items()},
            "polarity": round(float(signal.polarity), 4),
            "preference": round(float(signal.preference), 4),
            "source": signal.source,
            "item_id": signal.item_id,
            "event_id": signal.event_id,
        }

    @staticmethod
    def recommendation_from_dict(data: dict[str, Any]) -> Recommendation:
        """Rebuild a Recommendation from its dict (as kept in the agent's state)."""
        return Recommendation(**data)

    def close(self) -> None:
        """Flush pending profile writes and release the stores the memory opened (counts, impressions, forget log, keys)
        and the catalog's row store."""
        self.memory.close()
        self.row_store.close()
